/**
 * AbortSignal interop: `abortOn(signal)` is a pass-through flow that stops the stream when the
 * signal aborts — the way to cancel a running graph with an `AbortController`.
 *
 * Contract (fetch's convention): an abort fails the stream with `signal.reason` — downstream
 * fails with it, upstream is cancelled with it as the (failure) cause. A signal already aborted
 * when the stream starts fails it at once. The listener is removed when the stage stops, so a
 * long-lived signal does not keep finished streams alive.
 *
 * @example
 * ```ts
 * const controller = new AbortController()
 * const done = Source.tick(0, '1s', 'beat').via(abortOn(controller.signal)).runWith(Sink.ignore())
 * controller.abort(new Error('user left'))
 * await done // rejects with the Error('user left')
 * ```
 */
import { Flow } from '../Flow.js'
import type { Attributes } from '../stage/Attributes.js'
import { GraphStageLogic, type AsyncCallback } from '../stage/GraphStageLogic.js'
import { LinearStage } from '../stage/linear.js'
import type { FlowShape, Inlet, Outlet } from '../stage/ports.js'

class AbortLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  readonly out: Outlet<T>
  readonly #aborted: AsyncCallback<void>
  readonly #listener = (): void => {
    this.#aborted.invoke()
  }
  constructor(
    shape: FlowShape<T, T>,
    readonly signal: AbortSignal,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.setHandlers(shape.in, shape.out, this)
    this.#aborted = this.getAsyncCallback(() => this.failStage(this.signal.reason))
  }
  override preStart(): void {
    if (this.signal.aborted) return this.failStage(this.signal.reason)
    this.signal.addEventListener('abort', this.#listener, { once: true })
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
  }
  onPull(): void {
    this.pull(this.in)
  }
  override postStop(): void {
    this.signal.removeEventListener('abort', this.#listener)
  }
}

/** A pass-through stage failing the stream with the signal's reason when it aborts. */
export class AbortStage<T> extends LinearStage<T, T> {
  constructor(readonly signal: AbortSignal) {
    super('abortOn')
  }
  createLogic(_attributes: Attributes): GraphStageLogic {
    return new AbortLogic<T>(this.shape, this.signal)
  }
}

/**
 * A pass-through flow that fails the stream with `signal.reason` once `signal` aborts (at once if it already has).
 * - Emits when: upstream emits
 * - Backpressures when: downstream backpressures
 * - Completes when: upstream completes; fails when the signal aborts (with its reason)
 * - Cancels when: downstream cancels, or the signal aborts (upstream is cancelled with the reason as cause)
 * @example `Source.never().via(abortOn(AbortSignal.timeout(1000)))` fails with a `TimeoutError` after a second
 */
export function abortOn<T>(signal: AbortSignal): Flow<T, T> {
  return Flow.fromGraph(new AbortStage<T>(signal))
}

/**
 * TestSource.probe: a source whose materialized value is a {@link SourceProbe} that a test drives
 * by hand — it sends elements, completion or failure, and asserts the demand and the
 * cancellation it received from downstream.
 *
 * Contract: elements sent with `sendNext` are queued and pushed only when downstream pulls, in
 * order — never without demand; `sendComplete` completes after the queued elements are
 * delivered; `sendError` fails at once. Every pull is counted for `expectRequest`, whether or not
 * a queued element satisfied it; `pending` tells how many pulls are still unsatisfied.
 * Commands reach the stage through an async callback (in order, buffered until the stage
 * starts), so the probe can be used right after `run()`; `pending` reflects what the stage has
 * already processed.
 *
 * ```ts
 * const [src, sink] = TestSource.probe<number>().toMat(TestSink.probe(), Keep.both).run(time.materializer)
 * sink.request(1)
 * await src.expectRequest()
 * src.sendNext(1)
 * await sink.expectNext(1)
 * sink.cancel()
 * await src.expectCancellation() // NoMoreElementsNeeded
 * ```
 */
import {
  AbruptTerminationError,
  Attributes,
  GraphStageLogic,
  GraphStageWithMaterializedValue,
  Outlet,
  Source,
  SourceShape,
  type AsyncCallback,
  type Materializer,
  type OutHandler,
} from '@weir/core'
import { ProbeAssertionError, Waiters, checkTimeout, show } from './expectations.js'

/** Options of {@link TestSource.probe}. */
export interface SourceProbeOptions {
  /** Real-time ms an expectation waits before failing (a guard against hanging tests; default 3000). */
  readonly timeoutMs?: number
}

type SourceCommand<T> =
  | { readonly kind: 'next'; readonly value: T }
  | { readonly kind: 'complete' }
  | { readonly kind: 'error'; readonly error: unknown }

/** How the probed stage ended. */
export type SourceProbeEnd =
  | { readonly kind: 'cancelled'; readonly cause: unknown }
  | { readonly kind: 'completed' }
  | { readonly kind: 'failed'; readonly error: unknown }

/** The test's handle on a running {@link TestSource.probe}: send signals, then assert demand and cancellation. */
export class SourceProbe<T> {
  readonly #requests = new Waiters<void>()
  readonly #cancellations = new Waiters<unknown>()
  readonly #timeoutMs: number
  readonly #materializer: Materializer
  #commands: AsyncCallback<SourceCommand<T>> | undefined = undefined
  #unexpectedPulls = 0
  #pending = 0
  #sentTerminal: string | undefined = undefined
  #end: SourceProbeEnd | undefined = undefined

  /** @internal created by the probe stage for each materialization. */
  constructor(materializer: Materializer, timeoutMs: number) {
    this.#materializer = materializer
    this.#timeoutMs = timeoutMs
  }

  /** The materializer running the probed stream. */
  get materializer(): Materializer {
    return this.#materializer
  }

  /** Pulls from downstream not yet satisfied by an element (0 or 1: an outlet is pulled once at a time). */
  get pending(): number {
    return this.#pending
  }

  /** How the stage ended, or undefined while it runs. */
  get end(): SourceProbeEnd | undefined {
    return this.#end
  }

  /** Queue `x`; it is pushed when downstream pulls, after the elements queued before it. */
  sendNext(x: T): this {
    this.#checkOpen('sendNext')
    this.#commands!.invoke({ kind: 'next', value: x })
    return this
  }

  /** Complete the stream once the queued elements have been delivered. */
  sendComplete(): this {
    this.#checkOpen('sendComplete')
    this.#sentTerminal = 'sendComplete'
    this.#commands!.invoke({ kind: 'complete' })
    return this
  }

  /** Fail the stream with `error` at once (queued elements not yet delivered are dropped). */
  sendError(error: unknown): this {
    this.#checkOpen('sendError')
    this.#sentTerminal = 'sendError'
    this.#commands!.invoke({ kind: 'error', error })
    return this
  }

  /**
   * Expect a pull from downstream. Pulls are counted from the start (or since the last
   * `expectRequest`): this resolves at once if one is counted, consuming it, or waits for the next.
   */
  expectRequest(): Promise<void> {
    if (this.#unexpectedPulls > 0) {
      this.#unexpectedPulls--
      return Promise.resolve()
    }
    if (this.#end !== undefined) return Promise.reject(this.#terminated('expectRequest', 'a request'))
    return this.#requests.wait('expectRequest', this.#timeoutMs, 'a request')
  }

  /** Expect downstream to cancel; resolves with the cancellation cause. */
  expectCancellation(): Promise<unknown> {
    const end = this.#end
    if (end?.kind === 'cancelled') return Promise.resolve(end.cause)
    if (end !== undefined) return Promise.reject(this.#terminated('expectCancellation', 'a cancellation'))
    return this.#cancellations.wait('expectCancellation', this.#timeoutMs, 'a cancellation')
  }

  #checkOpen(operation: string): void {
    const sent = this.#sentTerminal
    if (sent !== undefined) throw new ProbeAssertionError(operation, 'misuse', `called after ${sent}`)
  }

  #terminated(expectation: string, awaited: string): ProbeAssertionError {
    const end = this.#end!
    const how = end.kind === 'cancelled' ? `was cancelled (${show(end.cause)})` : end.kind === 'completed' ? 'completed' : `failed (${show(end.error)})`
    return new ProbeAssertionError(expectation, 'terminated', `expected ${awaited}, but the probe stage ${how}`, end, awaited)
  }

  // ---- called by the stage's logic ----

  /** @internal */
  _attach(commands: AsyncCallback<SourceCommand<T>>): void {
    this.#commands = commands
  }

  /** @internal downstream pulled. */
  _pulled(): void {
    this.#pending++
    if (!this.#requests.resolveFirst(undefined)) this.#unexpectedPulls++
  }

  /** @internal an element satisfied a pull. */
  _pushed(): void {
    this.#pending--
  }

  /** @internal the stage stopped. */
  _stopped(end: SourceProbeEnd): void {
    this.#end = end
    this.#pending = 0
    if (end.kind === 'cancelled') this.#cancellations.resolveAll(end.cause)
    else this.#cancellations.rejectAll((expectation, awaited) => this.#terminated(expectation, awaited))
    this.#requests.rejectAll((expectation, awaited) => this.#terminated(expectation, awaited))
  }
}

class SourceProbeLogic<T> extends GraphStageLogic implements OutHandler {
  readonly out: Outlet<T>
  readonly #probe: SourceProbe<T>
  readonly #queue: T[] = []
  #head = 0
  #completing = false
  #end: SourceProbeEnd | undefined = undefined

  constructor(shape: SourceShape<T>, probe: SourceProbe<T>) {
    super(shape)
    this.out = shape.out
    this.#probe = probe
    this.setHandler(shape.out, this)
    probe._attach(this.getAsyncCallback<SourceCommand<T>>((cmd) => this.#onCommand(cmd)))
  }

  #onCommand(cmd: SourceCommand<T>): void {
    switch (cmd.kind) {
      case 'next':
        if (this.#head === this.#queue.length && this.isAvailable(this.out)) this.#push(cmd.value)
        else this.#queue.push(cmd.value)
        return
      case 'complete':
        if (this.#head === this.#queue.length) this.#complete()
        else this.#completing = true
        return
      case 'error':
        this.#end = { kind: 'failed', error: cmd.error }
        this.failStage(cmd.error)
        return
    }
  }

  onPull(): void {
    this.#probe._pulled()
    if (this.#head === this.#queue.length) return
    const x = this.#queue[this.#head] as T
    this.#queue[this.#head++] = undefined as T
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0
      this.#head = 0
    }
    this.#push(x)
    if (this.#completing && this.#head === this.#queue.length) this.#complete()
  }

  onDownstreamFinish(cause: unknown): void {
    this.#end ??= { kind: 'cancelled', cause }
    this.cancelStage(cause)
  }

  #push(x: T): void {
    this.push(this.out, x)
    this.#probe._pushed()
  }

  #complete(): void {
    this.#end = { kind: 'completed' }
    this.completeStage()
  }

  override postStop(): void {
    // torn down without a command or a cancellation (e.g. the materializer shut down): report it as a failure
    this.#probe._stopped(this.#end ?? { kind: 'failed', error: new AbruptTerminationError(this.toString()) })
  }
}

class SourceProbeStage<T> extends GraphStageWithMaterializedValue<SourceShape<T>, SourceProbe<T>> {
  readonly shape = new SourceShape(new Outlet<T>('TestSource.probe.out'))
  constructor(readonly timeoutMs: number) {
    super()
  }
  override get initialAttributes(): Attributes {
    return STAGE_ATTRIBUTES
  }
  createLogicAndMaterializedValue(_attributes: Attributes, materializer: Materializer): readonly [GraphStageLogic, SourceProbe<T>] {
    const probe = new SourceProbe<T>(materializer, this.timeoutMs)
    return [new SourceProbeLogic(this.shape, probe), probe]
  }
}

const STAGE_ATTRIBUTES = Attributes.named('TestSource.probe')

/** Sources for tests. */
export const TestSource = {
  /**
   * A source that materializes a {@link SourceProbe}: it emits what the test sends, only on
   * demand, and records the pulls and the cancellation it receives.
   */
  probe<T>(options: SourceProbeOptions = {}): Source<T, SourceProbe<T>> {
    return Source.fromGraph(new SourceProbeStage<T>(checkTimeout(options.timeoutMs)))
  },
}

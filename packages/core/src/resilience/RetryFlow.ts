/**
 * RetryFlow: pass each element through a flow and, when `decideRetry` says so, pass a (possibly
 * different) element through it again after an exponential backoff.
 *
 * Contract: the wrapped flow must be one-in one-out — it emits exactly one result for each
 * element it receives, in order. The coordinator keeps exactly one element in flight: it pulls
 * from upstream only when the previous element's final result was emitted. For each result,
 * `decideRetry(in, out)` returns `undefined` to emit the result downstream, or the element to try
 * next; a retry waits `backoff.delay(n)` for the n-th retry (n from 0) of the same upstream
 * element, on the coordinator's keyed timer. After `maxRetries` retries the result is emitted
 * without asking. A result that arrives while no element is in flight fails the stream with
 * {@link StageProtocolError} (the wrapped flow is not one-in one-out). A throwing `decideRetry`
 * fails the stream. The materialized value is the wrapped flow's.
 *
 * ```
 *        upstream
 *           │ externalIn
 *           ▼
 *  ┌──▶ internalOut ───▶ wrapped flow ───▶ internalIn ──▶ retry? ──no──▶ externalOut ──▶ downstream
 *  └──────────────────────── yes, after backoff ◀─────────────┘
 * ```
 */
import { BidiFlow } from '../BidiFlow.js'
import { StageProtocolError, isNonFailureCancellation } from '../errors.js'
import type { Flow } from '../Flow.js'
import { Keep } from '../Keep.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStage } from '../stage/GraphStage.js'
import { GraphStageLogic, type InHandler, type OutHandler } from '../stage/GraphStageLogic.js'
import { BidiShape, Inlet, Outlet } from '../stage/ports.js'
import { retryBackoff, type Backoff, type RetryFlowSettings } from './backoff.js'

const RETRY_TIMER = 'retry'

class RetryFlowLogic<In, Out> extends GraphStageLogic {
  readonly bidi: BidiShape<In, In, Out, Out>
  readonly backoff: Backoff
  readonly maxRetries: number
  readonly decideRetry: (input: In, output: Out) => In | undefined
  #inFlight = false
  #element: In | undefined = undefined
  #retries = 0
  /** The retry's backoff elapsed while the wrapped flow had not pulled yet: push on its pull. */
  #retryDue = false

  constructor(shape: BidiShape<In, In, Out, Out>, stage: RetryFlowStage<In, Out>) {
    super(shape)
    this.bidi = shape
    this.backoff = stage.backoff
    this.maxRetries = stage.maxRetries
    this.decideRetry = stage.decideRetry
    const externalIn: InHandler = {
      onPush: () => {
        const element = this.grab(shape.in1)
        this.#inFlight = true
        this.#element = element
        this.#retries = 0
        this.push(shape.out1, element)
      },
      onUpstreamFinish: () => {
        if (!this.#inFlight) this.completeStage()
      },
    }
    const internalOut: OutHandler = {
      onPull: () => {
        if (this.#retryDue) {
          this.#retryDue = false
          this.push(shape.out1, this.#element!)
        } else if (!this.#inFlight && !this.hasBeenPulled(shape.in1) && !this.isClosed(shape.in1)) this.pull(shape.in1)
      },
      onDownstreamFinish: (cause) => {
        // a non-failure cancellation lets the element in flight finish (the wrapped flow completes after it)
        if (!this.#inFlight || !isNonFailureCancellation(cause)) this.cancelStage(cause)
      },
    }
    const internalIn: InHandler = {
      onPush: () => {
        const result = this.grab(shape.in2)
        if (!this.#inFlight) {
          throw new StageProtocolError(shape.in2.name, 'push', 'the wrapped flow emitted a result for no element; it must be one-in one-out')
        }
        if (this.#retries >= this.maxRetries) return this.#emit(result)
        const next = this.decideRetry(this.#element!, result)
        if (next === undefined) this.#emit(result)
        else this.#planRetry(next)
      },
    }
    const externalOut: OutHandler = {
      onPull: () => {
        if (!this.hasBeenPulled(shape.in2)) this.pull(shape.in2)
      },
    }
    this.setHandler(shape.in1, externalIn)
    this.setHandler(shape.out1, internalOut)
    this.setHandler(shape.in2, internalIn)
    this.setHandler(shape.out2, externalOut)
  }

  #emit(result: Out): void {
    const { in1, out1, out2 } = this.bidi
    this.#inFlight = false
    this.#element = undefined
    this.push(out2, result)
    if (this.isClosed(in1)) this.completeStage()
    else if (this.isAvailable(out1)) this.pull(in1)
  }

  #planRetry(next: In): void {
    const delay = this.backoff.delay(this.#retries)
    this.#element = next
    this.#retries++
    this.pull(this.bidi.in2)
    this.scheduleOnce(RETRY_TIMER, delay)
  }

  protected override onTimer(_key: unknown): void {
    const out1 = this.bidi.out1
    if (this.isClosed(out1)) return // the wrapped flow stopped taking input; its completion follows
    if (this.isAvailable(out1)) this.push(out1, this.#element!)
    else this.#retryDue = true
  }
}

class RetryFlowStage<In, Out> extends GraphStage<BidiShape<In, In, Out, Out>> {
  readonly shape = new BidiShape(
    new Inlet<In>('RetryFlow.externalIn'),
    new Outlet<In>('RetryFlow.internalOut'),
    new Inlet<Out>('RetryFlow.internalIn'),
    new Outlet<Out>('RetryFlow.externalOut'),
  )
  constructor(
    readonly backoff: Backoff,
    readonly maxRetries: number,
    readonly decideRetry: (input: In, output: Out) => In | undefined,
  ) {
    super()
  }
  override get initialAttributes(): Attributes {
    return ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new RetryFlowLogic(this.shape, this)
  }
}

const ATTRIBUTES = Attributes.named('RetryFlow')

export const RetryFlow = {
  /**
   * Pass each element through `flow`; when `decideRetry(element, result)` returns an element,
   * pass that one through `flow` after an exponential backoff instead of emitting the result —
   * at most `maxRetries` times per upstream element. One element is in flight at a time; `flow`
   * must emit exactly one result per element.
   * - Emits when: `flow` emitted a result that `decideRetry` accepts (returns `undefined`), or the retries are used up
   * - Backpressures when: downstream backpressures, an element is in flight, or a retry waits for its backoff
   * - Completes when: upstream completes and the element in flight was emitted, or `flow` completes
   * - Cancels when: downstream cancels
   * @example
   * ```ts
   * // call an HTTP endpoint again while it answers 503, waiting 100 ms, 200 ms, 400 ms
   * const calls = RetryFlow.withBackoff({ minBackoff: 100, maxBackoff: '1s', randomFactor: 0, maxRetries: 3 }, callFlow,
   *   (request, response) => (response.status === 503 ? request : undefined))
   * ```
   */
  withBackoff<In, Out, Mat>(settings: RetryFlowSettings, flow: Flow<In, Out, Mat>, decideRetry: (input: In, output: Out) => In | undefined): Flow<In, Out, Mat> {
    const { backoff, maxRetries } = retryBackoff(settings, 'RetryFlow.settings')
    return BidiFlow.fromGraph(new RetryFlowStage<In, Out>(backoff, maxRetries, decideRetry)).joinMat(flow, Keep.right)
  },
} as const

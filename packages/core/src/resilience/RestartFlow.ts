/**
 * RestartFlow: a flow that runs a wrapped flow again, after an exponential backoff, when it
 * terminates on its own — on completion or failure (`withBackoff`), on failure only
 * (`onFailuresWithBackoff`).
 *
 * Contract (see RestartWithBackoffLogic.ts for what all restart operators share):
 * - The wrapped flow is fed through a sub-source port and read through a sub-sink port, each on
 *   demand, one element at a time: the outer inlet is pulled only when the wrapped flow pulls,
 *   the wrapped flow's output only when downstream pulls.
 * - The wrapped flow terminates at either end: it completes or fails downstream, or it cancels
 *   its upstream. A cancellation whose cause is a failure (not a `NonFailureCancellation`) counts
 *   as a failure, so `onFailuresWithBackoff` tells a failed flow from one that merely finished
 *   (e.g. `take(n)`) at whichever end the signal arrives first. On a restart, both ports of the
 *   old wrapped flow are closed: restarting is lossy — elements in flight inside it are lost. An
 *   element already pulled from the outer inlet and not yet passed in is kept for the next run.
 * - When no restart is left, the end that terminated is propagated outwards (completion or
 *   failure to downstream, cancellation with its cause to upstream); the other end follows when
 *   the wrapped flow terminates it.
 * - Outer termination is passed to the running wrapped flow and stops all restarts: upstream
 *   completion or failure completes or fails its input, downstream cancellation cancels its
 *   output with the same cause. During backoff, outer termination ends the stage at once.
 */
import { isNonFailureCancellation } from '../errors.js'
import { Flow } from '../Flow.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStage, type NotUsed } from '../stage/GraphStage.js'
import type { GraphStageLogic, InHandler, OutHandler } from '../stage/GraphStageLogic.js'
import { FlowShape, Inlet, Outlet } from '../stage/ports.js'
import { SubSinkInlet, SubSourceOutlet, type SubSinkInletHandler, type SubSourceOutletHandler } from '../stage/substreams.js'
import { RestartPolicy, type RestartSettings } from './backoff.js'
import { RestartWithBackoffLogic } from './RestartWithBackoffLogic.js'

class RestartFlowLogic<In, Out> extends RestartWithBackoffLogic implements InHandler, OutHandler {
  readonly in: Inlet<In>
  readonly out: Outlet<Out>
  readonly factory: () => Flow<In, Out, any>
  /** Feeds the running wrapped flow; undefined during backoff. */
  #toInner: SubSourceOutlet<In> | undefined = undefined
  /** Reads the running wrapped flow; undefined during backoff. */
  #fromInner: SubSinkInlet<Out> | undefined = undefined
  readonly #toInnerHandler: SubSourceOutletHandler
  readonly #fromInnerHandler: SubSinkInletHandler

  constructor(shape: FlowShape<In, Out>, stage: RestartFlowStage<In, Out>) {
    super(shape, stage.policy, stage.onlyOnFailures)
    this.in = shape.in
    this.out = shape.out
    this.factory = stage.factory
    this.setHandlers(shape.in, shape.out, this)
    this.#toInnerHandler = {
      onPull: () => this.#feedInner(),
      onDownstreamFinish: (cause) => this.#innerCancelled(cause),
    }
    this.#fromInnerHandler = {
      onPush: () => this.push(this.out, this.#fromInner!.grab()),
      onUpstreamFinish: () => this.#innerCompleted(),
      onUpstreamFailure: (error) => this.#innerFailed(error),
    }
  }

  protected startGraph(): void {
    const toInner = new SubSourceOutlet<In>(this, `${this.toString()}.innerIn`)
    const fromInner = new SubSinkInlet<Out>(this, `${this.toString()}.innerOut`)
    toInner.setHandler(this.#toInnerHandler)
    fromInner.setHandler(this.#fromInnerHandler)
    this.#toInner = toInner
    this.#fromInner = fromInner
    toInner.source.via(this.factory()).to(fromInner.sink).run(this.materializer)
    if (this.isAvailable(this.out)) fromInner.pull()
  }

  protected backoff(): void {
    const toInner = this.#toInner
    const fromInner = this.#fromInner
    this.#toInner = undefined
    this.#fromInner = undefined
    if (toInner !== undefined && !toInner.isClosed) toInner.complete()
    if (fromInner !== undefined && !fromInner.isClosed) fromInner.cancel()
  }

  // ---- the outer ports ----
  onPush(): void {
    if (this.#toInner?.isAvailable === true) this.#feedInner()
    // otherwise the element waits in the inlet for the wrapped flow's next pull (also across a restart)
  }
  onUpstreamFinish(): void {
    this.markFinishing()
    const toInner = this.#toInner
    if (toInner === undefined) this.completeStage()
    else if (!this.isAvailable(this.in)) toInner.complete()
    // else: the waiting element goes in first (see #feedInner)
  }
  onUpstreamFailure(error: unknown): void {
    this.markFinishing()
    const toInner = this.#toInner
    if (toInner === undefined) this.failStage(error)
    else toInner.fail(error)
  }
  onPull(): void {
    const fromInner = this.#fromInner
    if (fromInner !== undefined && !fromInner.hasBeenPulled && !fromInner.isClosed) fromInner.pull()
  }
  onDownstreamFinish(cause: unknown): void {
    this.markFinishing()
    const fromInner = this.#fromInner
    if (fromInner === undefined || fromInner.isClosed) this.cancelStage(cause)
    else fromInner.cancel(cause) // the wrapped flow's cancellation of its input then cancels ours
  }

  // ---- the wrapped flow ----
  #feedInner(): void {
    const toInner = this.#toInner!
    if (this.isAvailable(this.in)) {
      toInner.push(this.grab(this.in))
      if (this.isClosed(this.in)) toInner.complete()
    } else if (this.isClosed(this.in)) toInner.complete()
    else if (!this.hasBeenPulled(this.in)) this.pull(this.in)
  }

  #innerCancelled(cause: unknown): void {
    this.#toInner = undefined
    const restart = isNonFailureCancellation(cause) ? this.shouldRestartOnCompletion() : this.shouldRestartOnFailure(cause)
    if (restart) this.scheduleRestart(isNonFailureCancellation(cause) ? 'completion' : 'failure', cause)
    else if (!this.isClosed(this.in)) this.cancel(this.in, cause)
    else if (this.#fromInner === undefined || this.#fromInner.isClosed) this.completeStage()
  }

  #innerCompleted(): void {
    this.#fromInner = undefined
    if (this.shouldRestartOnCompletion()) this.scheduleRestart('completion')
    else this.complete(this.out)
  }

  #innerFailed(error: unknown): void {
    this.#fromInner = undefined
    if (this.shouldRestartOnFailure(error)) this.scheduleRestart('failure', error)
    else this.fail(this.out, error)
  }
}

class RestartFlowStage<In, Out> extends GraphStage<FlowShape<In, Out>> {
  readonly shape: FlowShape<In, Out>
  readonly #attributes: Attributes
  constructor(
    readonly policy: RestartPolicy,
    readonly factory: () => Flow<In, Out, any>,
    readonly onlyOnFailures: boolean,
  ) {
    super()
    const name = onlyOnFailures ? 'RestartFlow.onFailuresWithBackoff' : 'RestartFlow.withBackoff'
    this.shape = new FlowShape(new Inlet<In>(`${name}.in`), new Outlet<Out>(`${name}.out`))
    this.#attributes = Attributes.named(name)
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  createLogic(): GraphStageLogic {
    return new RestartFlowLogic(this.shape, this)
  }
}

export const RestartFlow = {
  /**
   * A flow that runs the flow made by `factory` and, whenever it completes, fails or cancels its
   * input on its own, makes and runs a new one after an exponential backoff — until `maxRestarts` is reached.
   * - Emits when: the running wrapped flow emits
   * - Backpressures when: downstream backpressures, the wrapped flow backpressures, and during backoff
   * - Completes when: upstream completes and the wrapped flow then completes; or the wrapped flow
   *   completes (fails) and no restart is left
   * - Cancels when: downstream cancels and the wrapped flow then cancels its input; or the wrapped
   *   flow cancels its input and no restart is left
   * @example
   * ```ts
   * // a connection that is re-established after each drop, 1 s, 2 s, 4 s … later
   * requests.via(RestartFlow.withBackoff({ minBackoff: '1s', maxBackoff: '1m', randomFactor: 0.2 }, () => connection()))
   * ```
   */
  withBackoff<In, Out>(settings: RestartSettings, factory: () => Flow<In, Out, any>): Flow<In, Out, NotUsed> {
    return Flow.fromGraph(new RestartFlowStage(RestartPolicy.from(settings, 'RestartFlow.settings'), factory, false))
  },

  /**
   * Like {@link RestartFlow.withBackoff}, but only a failure of the wrapped flow (at either end)
   * leads to a restart; when it completes or cancels its input without a failure, so does this flow.
   * - Emits when: the running wrapped flow emits
   * - Backpressures when: downstream backpressures, the wrapped flow backpressures, and during backoff
   * - Completes when: the wrapped flow completes; fails when it fails and no restart is left
   * - Cancels when: downstream cancels and the wrapped flow then cancels its input; or the wrapped
   *   flow cancels its input without a failure (or with one, when no restart is left)
   * @example
   * ```ts
   * Source.from(ids).via(RestartFlow.onFailuresWithBackoff({ minBackoff: 100, maxBackoff: '5s', randomFactor: 0, maxRestarts: 3 }, () => Flow.create<string>().mapAsync(4, lookup)))
   * ```
   */
  onFailuresWithBackoff<In, Out>(settings: RestartSettings, factory: () => Flow<In, Out, any>): Flow<In, Out, NotUsed> {
    return Flow.fromGraph(new RestartFlowStage(RestartPolicy.from(settings, 'RestartFlow.settings'), factory, true))
  },
} as const

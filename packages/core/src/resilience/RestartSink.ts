/**
 * RestartSink: a sink that runs a wrapped sink again, after an exponential backoff, whenever it
 * cancels on its own (because it completed or failed).
 *
 * Contract (see RestartWithBackoffLogic.ts for what all restart operators share): the wrapped
 * sink is fed through a sub-source port, one element per pull of the wrapped sink; the outer
 * inlet is pulled only then. Restarting is lossy: elements the old sink had received but not yet
 * processed are lost; an element pulled from upstream and not yet passed in is kept for the next
 * run. When no restart is left (`maxRestarts`, or a failure that `restartOn` rejects), upstream is
 * cancelled with the wrapped sink's cause. Upstream completion or failure is passed to the running
 * wrapped sink and stops all restarts (during backoff the stage simply stops).
 */
import { isNonFailureCancellation } from '../errors.js'
import { Sink } from '../Sink.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStage, type NotUsed } from '../stage/GraphStage.js'
import type { GraphStageLogic, InHandler } from '../stage/GraphStageLogic.js'
import { Inlet, SinkShape } from '../stage/ports.js'
import { SubSourceOutlet, type SubSourceOutletHandler } from '../stage/substreams.js'
import { RestartPolicy, type RestartSettings } from './backoff.js'
import { RestartWithBackoffLogic } from './RestartWithBackoffLogic.js'

class RestartSinkLogic<T> extends RestartWithBackoffLogic implements InHandler, SubSourceOutletHandler {
  readonly in: Inlet<T>
  readonly factory: () => Sink<T, any>
  /** Feeds the running wrapped sink; undefined during backoff. */
  #toInner: SubSourceOutlet<T> | undefined = undefined

  constructor(shape: SinkShape<T>, stage: RestartSinkStage<T>) {
    super(shape, stage.policy, false)
    this.in = shape.in
    this.factory = stage.factory
    this.setHandler(shape.in, this)
  }

  protected startGraph(): void {
    const toInner = new SubSourceOutlet<T>(this, `${this.toString()}.inner`)
    toInner.setHandler(this)
    this.#toInner = toInner
    toInner.source.to(this.factory()).run(this.materializer)
  }

  protected backoff(): void {
    const toInner = this.#toInner
    this.#toInner = undefined
    if (toInner !== undefined && !toInner.isClosed) toInner.complete()
  }

  // ---- the outer inlet ----
  onPush(): void {
    if (this.#toInner?.isAvailable === true) this.onPull()
  }
  onUpstreamFinish(): void {
    this.markFinishing()
    const toInner = this.#toInner
    if (toInner === undefined) this.completeStage()
    else if (this.isAvailable(this.in)) this.setKeepGoing(true) // the waiting element goes in first (see onPull)
    else toInner.complete()
  }
  onUpstreamFailure(error: unknown): void {
    this.markFinishing()
    this.#toInner?.fail(error)
    this.failStage(error)
  }

  // ---- the wrapped sink, through the sub-source outlet ----
  onPull(): void {
    const toInner = this.#toInner!
    if (this.isAvailable(this.in)) {
      toInner.push(this.grab(this.in))
      if (this.isClosed(this.in)) {
        toInner.complete()
        this.setKeepGoing(false)
      }
    } else if (!this.hasBeenPulled(this.in) && !this.isClosed(this.in)) this.pull(this.in)
  }
  onDownstreamFinish(cause: unknown): void {
    this.#toInner = undefined
    const completed = isNonFailureCancellation(cause)
    const restart = completed ? this.shouldRestartOnCompletion() : this.shouldRestartOnFailure(cause)
    if (restart) this.scheduleRestart(completed ? 'completion' : 'failure', cause)
    else this.cancelStage(cause)
  }
}

class RestartSinkStage<T> extends GraphStage<SinkShape<T>> {
  readonly shape: SinkShape<T>
  readonly #attributes: Attributes
  constructor(
    readonly policy: RestartPolicy,
    readonly factory: () => Sink<T, any>,
  ) {
    super()
    this.shape = new SinkShape(new Inlet<T>('RestartSink.withBackoff.in'))
    this.#attributes = Attributes.named('RestartSink.withBackoff')
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  createLogic(): GraphStageLogic {
    return new RestartSinkLogic(this.shape, this)
  }
}

export const RestartSink = {
  /**
   * A sink that runs the sink made by `factory` and, whenever it cancels (it completed or
   * failed), makes and runs a new one after an exponential backoff — until `maxRestarts` is reached.
   * - Emits when: never (elements go to the running wrapped sink)
   * - Backpressures when: the wrapped sink backpressures, and during backoff
   * - Completes when: upstream completes (the running wrapped sink's input then completes)
   * - Cancels when: the wrapped sink cancels and no restart is left (with its cause)
   * @example
   * ```ts
   * // keep writing events to a store whose connection drops now and then
   * events.to(RestartSink.withBackoff({ minBackoff: '500ms', maxBackoff: '30s', randomFactor: 0.2 }, () => storeSink()))
   * ```
   */
  withBackoff<T>(settings: RestartSettings, factory: () => Sink<T, any>): Sink<T, NotUsed> {
    return Sink.fromGraph(new RestartSinkStage(RestartPolicy.from(settings, 'RestartSink.settings'), factory))
  },
} as const

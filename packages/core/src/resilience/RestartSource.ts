/**
 * RestartSource: a source that runs a wrapped source again, after an exponential backoff, when
 * it completes (`withBackoff`) or fails (both variants).
 *
 * Contract (see RestartWithBackoffLogic.ts for what all restart operators share): the wrapped
 * source is read element by element on downstream demand through a sub-sink port. Elements of
 * one run are passed on as they come; the restart itself is lossless on this side (nothing is
 * buffered). When no restart is left, the stage ends the way the wrapped source last ended:
 * completes on its completion, fails with its failure. Downstream cancellation cancels the
 * running wrapped source with the same cause and stops all restarts, also during backoff.
 */
import { Source } from '../Source.js'
import { Keep } from '../Keep.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStage, type NotUsed } from '../stage/GraphStage.js'
import type { GraphStageLogic, OutHandler } from '../stage/GraphStageLogic.js'
import { Outlet, SourceShape } from '../stage/ports.js'
import { SubSinkInlet, type SubSinkInletHandler } from '../stage/substreams.js'
import { RestartPolicy, type RestartSettings } from './backoff.js'
import { RestartWithBackoffLogic } from './RestartWithBackoffLogic.js'

class RestartSourceLogic<T> extends RestartWithBackoffLogic implements OutHandler, SubSinkInletHandler {
  readonly out: Outlet<T>
  readonly factory: () => Source<T, any>
  #inner: SubSinkInlet<T> | undefined = undefined

  constructor(shape: SourceShape<T>, stage: RestartSourceStage<T>) {
    super(shape, stage.policy, stage.onlyOnFailures)
    this.out = shape.out
    this.factory = stage.factory
    this.setHandler(shape.out, this)
  }

  protected startGraph(): void {
    const inner = new SubSinkInlet<T>(this, `${this.toString()}.inner`)
    inner.setHandler(this)
    this.#inner = inner
    this.factory().toMat(inner.sink, Keep.none).run(this.materializer)
    if (this.isAvailable(this.out)) inner.pull()
  }

  protected backoff(): void {
    const inner = this.#inner
    this.#inner = undefined
    if (inner !== undefined && !inner.isClosed) inner.cancel()
  }

  // ---- the outer outlet ----
  onPull(): void {
    const inner = this.#inner
    if (inner !== undefined && !inner.hasBeenPulled) inner.pull()
    // during backoff the pull is remembered by the outlet (see startGraph)
  }
  onDownstreamFinish(cause: unknown): void {
    this.markFinishing()
    this.#inner?.cancel(cause)
    this.#inner = undefined
    this.cancelStage(cause)
  }

  // ---- the wrapped source, through the sub-sink inlet ----
  onPush(): void {
    this.push(this.out, this.#inner!.grab())
  }
  onUpstreamFinish(): void {
    this.#inner = undefined
    if (this.shouldRestartOnCompletion()) this.scheduleRestart('completion')
    else this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.#inner = undefined
    if (this.shouldRestartOnFailure(error)) this.scheduleRestart('failure', error)
    else this.failStage(error)
  }
}

class RestartSourceStage<T> extends GraphStage<SourceShape<T>> {
  readonly shape: SourceShape<T>
  readonly #attributes: Attributes
  constructor(
    readonly policy: RestartPolicy,
    readonly factory: () => Source<T, any>,
    readonly onlyOnFailures: boolean,
  ) {
    super()
    const name = onlyOnFailures ? 'RestartSource.onFailuresWithBackoff' : 'RestartSource.withBackoff'
    this.shape = new SourceShape(new Outlet<T>(`${name}.out`))
    this.#attributes = Attributes.named(name)
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  createLogic(): GraphStageLogic {
    return new RestartSourceLogic(this.shape, this)
  }
}

export const RestartSource = {
  /**
   * A source that runs the source made by `factory` and, whenever it completes or fails, makes
   * and runs a new one after an exponential backoff — until `maxRestarts` is reached.
   * - Emits when: the running wrapped source emits
   * - Backpressures when: downstream backpressures, and during backoff
   * - Completes when: the wrapped source completes (fails when it fails) and no restart is left
   *   (`maxRestarts` reached, or a failure that `restartOn` rejects)
   * - Cancels when: downstream cancels (the running wrapped source is cancelled with the same cause; no more restarts)
   * @example
   * ```ts
   * // re-subscribe to a feed that drops, waiting 1 s, 2 s, 4 s … (at most 30 s, ±20 %) in between
   * RestartSource.withBackoff({ minBackoff: '1s', maxBackoff: '30s', randomFactor: 0.2 }, () => Source.fromPromise(() => fetchBatch()))
   * ```
   */
  withBackoff<T>(settings: RestartSettings, factory: () => Source<T, any>): Source<T, NotUsed> {
    return Source.fromGraph(new RestartSourceStage(RestartPolicy.from(settings, 'RestartSource.settings'), factory, false))
  },

  /**
   * Like {@link RestartSource.withBackoff}, but only a failure leads to a restart: when the
   * wrapped source completes, so does this source.
   * - Emits when: the running wrapped source emits
   * - Backpressures when: downstream backpressures, and during backoff
   * - Completes when: the wrapped source completes; fails when it fails and no restart is left
   * - Cancels when: downstream cancels (the running wrapped source is cancelled with the same cause; no more restarts)
   * @example
   * ```ts
   * RestartSource.onFailuresWithBackoff({ minBackoff: 100, maxBackoff: '10s', randomFactor: 0.1, maxRestarts: 5 }, () => Source.from(readPage()))
   * ```
   */
  onFailuresWithBackoff<T>(settings: RestartSettings, factory: () => Source<T, any>): Source<T, NotUsed> {
    return Source.fromGraph(new RestartSourceStage(RestartPolicy.from(settings, 'RestartSource.settings'), factory, true))
  },
} as const

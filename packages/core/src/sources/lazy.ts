/**
 * lazySource: a source whose inner source is created and materialized on the first demand.
 *
 * Contract: nothing happens until downstream first pulls; then `create()` runs, the source it
 * returns is materialized on the stage's own materializer and read through a
 * {@link SubSinkInlet}, element by element on demand, and the materialized promise resolves with
 * the inner source's materialized value. The stage completes or fails with the inner source. If
 * `create` throws (or the inner source cannot be materialized) the stream fails and the promise
 * rejects with that error; if the stream stops before the first demand the promise rejects with
 * `AbruptTerminationError` (settled in `postStop`). Downstream cancellation cancels the inner
 * source with the same cause.
 */
import { AbruptTerminationError } from '../errors.js'
import { deferred, type Deferred } from '../internal/deferred.js'
import { Keep } from '../Keep.js'
import type { Source } from '../Source.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import { GraphStageLogic, type OutHandler } from '../stage/GraphStageLogic.js'
import { Outlet, SourceShape } from '../stage/ports.js'
import { SubSinkInlet, type SubSinkInletHandler } from '../stage/substreams.js'

class LazySourceLogic<T, M> extends GraphStageLogic implements OutHandler, SubSinkInletHandler {
  readonly out: Outlet<T>
  #sub: SubSinkInlet<T> | undefined = undefined

  constructor(
    shape: SourceShape<T>,
    readonly create: () => Source<T, M>,
    readonly mat: Deferred<M>,
  ) {
    super(shape)
    this.out = shape.out
    this.setHandler(shape.out, this)
  }

  onPull(): void {
    if (this.#sub !== undefined) return this.#sub.pull()
    const sub = new SubSinkInlet<T>(this, `${this.toString()}.inner`)
    sub.setHandler(this)
    this.#sub = sub
    let m: M
    try {
      m = this.create().toMat(sub.sink, Keep.left).run(this.materializer)
    } catch (e) {
      sub.cancel(e)
      this.mat.reject(e)
      return this.failStage(e)
    }
    this.mat.resolve(m)
    sub.pull()
  }

  onDownstreamFinish(cause: unknown): void {
    this.#sub?.cancel(cause)
    this.cancelStage(cause)
  }

  // the inner source, through the sub-inlet
  onPush(): void {
    this.push(this.out, this.#sub!.grab())
  }
  onUpstreamFinish(): void {
    this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.failStage(error)
  }

  override postStop(): void {
    if (!this.mat.settled) this.mat.reject(new AbruptTerminationError(this.toString()))
  }
}

export class LazySource<T, M> extends GraphStageWithMaterializedValue<SourceShape<T>, Promise<M>> {
  readonly shape = new SourceShape(new Outlet<T>('lazySource.out'))
  constructor(readonly create: () => Source<T, M>) {
    super()
  }
  override get initialAttributes(): Attributes {
    return ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Promise<M>] {
    const d = deferred<M>()
    return [new LazySourceLogic(this.shape, this.create, d), d.promise]
  }
}

const ATTRIBUTES = Attributes.named('lazySource')

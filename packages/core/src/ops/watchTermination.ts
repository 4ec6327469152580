/**
 * watchTermination: a pass-through stage that materializes a promise of how the stream ended at
 * its position.
 *
 * Contract: elements, demand, completion, failure and cancellation pass through unchanged. The
 * promise resolves when upstream completes or downstream cancels with a non-failure cause
 * (`isNonFailureCancellation`), rejects with the error when upstream fails or with the cause when
 * downstream cancels with a failure cause, and rejects with `AbruptTerminationError` when the
 * stage is torn down otherwise (e.g. the materializer shuts down). It is settled exactly once,
 * at the latest in `postStop`.
 */
import { AbruptTerminationError, isNonFailureCancellation } from '../errors.js'
import { deferred, type Deferred } from '../internal/deferred.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import { GraphStageLogic } from '../stage/GraphStageLogic.js'
import { FlowShape, Inlet, Outlet } from '../stage/ports.js'

const ATTRIBUTES = Attributes.named('watchTermination')

class WatchTerminationLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  readonly out: Outlet<T>
  readonly #done: Deferred<void>
  constructor(shape: FlowShape<T, T>, done: Deferred<void>) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.#done = done
    this.setHandlers(shape.in, shape.out, this)
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
  }
  onPull(): void {
    this.pull(this.in)
  }
  onUpstreamFinish(): void {
    this.#done.resolve()
    this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.#done.reject(error)
    this.failStage(error)
  }
  onDownstreamFinish(cause: unknown): void {
    if (isNonFailureCancellation(cause)) this.#done.resolve()
    else this.#done.reject(cause)
    this.cancelStage(cause)
  }
  override postStop(): void {
    if (!this.#done.settled) this.#done.reject(new AbruptTerminationError(this.toString()))
  }
}

/** Passes elements through; materializes a promise settled when the stream terminates at this point. */
export class WatchTerminationStage<T> extends GraphStageWithMaterializedValue<FlowShape<T, T>, Promise<void>> {
  readonly shape = new FlowShape(new Inlet<T>('watchTermination.in'), new Outlet<T>('watchTermination.out'))
  override get initialAttributes(): Attributes {
    return ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Promise<void>] {
    const done = deferred<void>()
    return [new WatchTerminationLogic<T>(this.shape, done), done.promise]
  }
}

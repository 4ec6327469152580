/**
 * recoverWith: on an upstream failure, continue with another source.
 *
 * Contract: elements pass through unchanged, pulled and pushed only on demand. When upstream
 * fails, `f(error)` chooses a recovery source; it is materialized on the stage's own
 * materializer and read through a {@link SubSinkInlet}, still element by element on demand. If
 * the recovery source fails in turn, `f` is asked again, up to `attempts` recoveries in all
 * (Infinity by default; 0 never recovers). The stream fails with the error when `f` returns
 * `undefined` or the attempts are used up, and with what `f` threw if it throws (supervision
 * applies to per-element functions; there is nothing to resume here). Downstream cancellation
 * cancels the current recovery source with the same cause.
 */
import { InvalidArgumentError } from '../errors.js'
import { Keep } from '../Keep.js'
import type { Source } from '../Source.js'
import type { Attributes } from '../stage/Attributes.js'
import { GraphStageLogic, type InHandler, type OutHandler } from '../stage/GraphStageLogic.js'
import { LinearStage } from '../stage/linear.js'
import type { FlowShape, Inlet, Outlet } from '../stage/ports.js'
import { SubSinkInlet, type SubSinkInletHandler } from '../stage/substreams.js'

/**
 * One handler for both inputs: the upstream inlet until it fails, then the current recovery
 * source's sub-inlet (the upstream inlet is closed by then, so `#sub` tells which one is live).
 */
class RecoverWithLogic<T> extends GraphStageLogic implements InHandler, OutHandler, SubSinkInletHandler {
  readonly in: Inlet<T>
  readonly out: Outlet<T>
  #attemptsLeft: number
  #sub: SubSinkInlet<T> | undefined = undefined

  constructor(shape: FlowShape<T, T>, readonly stage: RecoverWithStage<T>) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.#attemptsLeft = stage.attempts
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }

  onPull(): void {
    const sub = this.#sub
    if (sub === undefined) this.pull(this.in)
    else sub.pull()
  }

  onPush(): void {
    const sub = this.#sub
    this.push(this.out, sub === undefined ? this.grab(this.in) : sub.grab())
  }

  onUpstreamFinish(): void {
    this.completeStage()
  }

  onUpstreamFailure(error: unknown): void {
    if (this.#attemptsLeft <= 0) return this.failStage(error)
    let next: Source<T, any> | undefined
    try {
      next = this.stage.f(error)
    } catch (e) {
      return this.failStage(e)
    }
    if (next === undefined) return this.failStage(error)
    this.#attemptsLeft--
    const sub = new SubSinkInlet<T>(this, `${this.toString()}.recovery`)
    sub.setHandler(this)
    this.#sub = sub
    try {
      next.toMat(sub.sink, Keep.none).run(this.materializer)
    } catch (e) {
      sub.cancel(e)
      return this.failStage(e)
    }
    if (this.isAvailable(this.out)) sub.pull()
  }

  onDownstreamFinish(cause: unknown): void {
    this.#sub?.cancel(cause)
    this.cancelStage(cause)
  }
}

export class RecoverWithStage<T> extends LinearStage<T, T> {
  constructor(
    readonly f: (error: unknown) => Source<T, any> | undefined,
    readonly attempts: number,
  ) {
    super('recoverWith')
    if (!(attempts >= 0) || (Number.isFinite(attempts) && !Number.isInteger(attempts))) {
      throw new InvalidArgumentError('attempts', attempts, 'a non-negative integer or Infinity')
    }
  }
  createLogic(_attributes: Attributes): GraphStageLogic {
    return new RecoverWithLogic<T>(this.shape, this)
  }
}

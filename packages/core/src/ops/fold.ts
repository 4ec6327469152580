/**
 * Accumulating operators: scan, fold, reduce.
 *
 * `scan` emits the seed and then every intermediate result; `fold` and `reduce` (fusable) emit
 * one result when upstream completes. A throwing function is supervised: `resume` skips the
 * element, `restart` also resets the accumulator to the seed (`reduce`: to the next element).
 */
import { EmptyStreamError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { FusableStage, Op, SKIP, type Skip, type Step } from '../stage/fusion.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

class ScanLogic<In, S> extends SupervisedLogic<In, S> {
  #acc: S
  #seedPushed = false
  constructor(shape: FlowShape<In, S>, attributes: Attributes, readonly stage: ScanStage<In, S>) {
    super(shape, attributes)
    this.#acc = stage.zero
  }
  override onPull(): void {
    if (this.#seedPushed) return this.pull(this.in)
    this.#seedPushed = true
    this.push(this.out, this.stage.zero)
  }
  onPush(): void {
    try {
      this.#acc = this.stage.f(this.#acc, this.grab(this.in))
    } catch (e) {
      return this.supervise(e)
    }
    this.push(this.out, this.#acc)
  }
  protected override restart(): void {
    this.#acc = this.stage.zero
  }
  onUpstreamFinish(): void {
    if (!this.#seedPushed) this.emit(this.out, this.stage.zero)
    this.completeStage()
  }
}

export class ScanStage<In, S> extends LinearStage<In, S> {
  constructor(readonly zero: S, readonly f: (acc: S, x: In) => S) {
    super('scan')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new ScanLogic(this.shape, attributes, this)
  }
}

class FoldOp<In, S> extends Op<In, S> {
  #acc: S
  constructor(attributes: Attributes, readonly zero: S, readonly f: (acc: S, x: In) => S) {
    super(attributes.decider)
    this.#acc = zero
  }
  onElement(x: In): Skip {
    this.#acc = this.f(this.#acc, x)
    return SKIP
  }
  override compose(): Step {
    const f = this.f
    return (x) => {
      try {
        this.#acc = f(this.#acc, x as In)
      } catch (e) {
        return this.fail(e)
      }
      return SKIP
    }
  }
  override onFinish(): S {
    return this.#acc
  }
  override restart(): void {
    this.#acc = this.zero
  }
}

export class FoldStage<In, S> extends FusableStage<In, S> {
  constructor(readonly zero: S, readonly f: (acc: S, x: In) => S) {
    super('fold')
  }
  createOp(attributes: Attributes): Op<In, S> {
    return new FoldOp(attributes, this.zero, this.f)
  }
}

const NOTHING: unique symbol = Symbol('nothing')

class ReduceOp<T> extends Op<T, T> {
  #acc: T | typeof NOTHING = NOTHING
  constructor(attributes: Attributes, readonly f: (acc: T, x: T) => T) {
    super(attributes.decider)
  }
  onElement(x: T): Skip {
    this.#acc = this.#acc === NOTHING ? x : this.f(this.#acc, x)
    return SKIP
  }
  override onFinish(): T {
    if (this.#acc === NOTHING) throw new EmptyStreamError('reduce')
    return this.#acc
  }
  override restart(): void {
    this.#acc = NOTHING
  }
}

export class ReduceStage<T> extends FusableStage<T, T> {
  constructor(readonly f: (acc: T, x: T) => T) {
    super('reduce')
  }
  createOp(attributes: Attributes): Op<T, T> {
    return new ReduceOp(attributes, this.f)
  }
}

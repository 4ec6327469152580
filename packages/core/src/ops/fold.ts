/**
 * Accumulating operators: scan, fold, reduce.
 *
 * `scan` emits the seed and then every intermediate result; `fold` and `reduce` emit one result
 * when upstream completes. A throwing function is supervised: `resume` skips the element,
 * `restart` also resets the accumulator to the seed (`reduce`: to the next element).
 */
import { EmptyStreamError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { decide, LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './map.js'

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

class FoldLogic<In, S> extends SupervisedLogic<In, S> {
  #acc: S
  constructor(shape: FlowShape<In, S>, attributes: Attributes, readonly zero: S, readonly f: (acc: S, x: In) => S) {
    super(shape, attributes)
    this.#acc = zero
  }
  onPush(): void {
    try {
      this.#acc = this.f(this.#acc, this.grab(this.in))
    } catch (e) {
      const d = decide(this.decider, e)
      if (d === 'stop') return this.failStage(e)
      if (d === 'restart') this.#acc = this.zero
    }
    this.pull(this.in)
  }
  onUpstreamFinish(): void {
    this.emit(this.out, this.#acc)
    this.completeStage()
  }
}

export class FoldStage<In, S> extends LinearStage<In, S> {
  constructor(readonly zero: S, readonly f: (acc: S, x: In) => S) {
    super('fold')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new FoldLogic(this.shape, attributes, this.zero, this.f)
  }
}

class ReduceLogic<T> extends SupervisedLogic<T, T> {
  #acc: T | undefined = undefined
  #has = false
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly f: (acc: T, x: T) => T) {
    super(shape, attributes)
  }
  onPush(): void {
    const x = this.grab(this.in)
    if (!this.#has) {
      this.#acc = x
      this.#has = true
    } else {
      try {
        this.#acc = this.f(this.#acc as T, x)
      } catch (e) {
        const d = decide(this.decider, e)
        if (d === 'stop') return this.failStage(e)
        if (d === 'restart') this.#has = false
      }
    }
    this.pull(this.in)
  }
  onUpstreamFinish(): void {
    if (!this.#has) return this.failStage(new EmptyStreamError('reduce'))
    this.emit(this.out, this.#acc as T)
    this.completeStage()
  }
}

export class ReduceStage<T> extends LinearStage<T, T> {
  constructor(readonly f: (acc: T, x: T) => T) {
    super('reduce')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new ReduceLogic(this.shape, attributes, this.f)
  }
}

/**
 * Failure-handling operators: recover, mapError.
 *
 * Shared contract: elements pass through unchanged (pulled only on demand, pushed only on
 * demand); only an upstream failure is acted on. `recover` turns it into one last element and
 * completion, `mapError` into a different failure. The user function runs once, on the failure;
 * if it throws, the stream fails with what it threw (supervision applies to per-element functions
 * and has nothing to resume here). Completion and cancellation pass through as they are.
 */
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

class RecoverLogic<T> extends SupervisedLogic<T, T> {
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly f: (e: unknown) => T | undefined) {
    super(shape, attributes)
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
  }
  onUpstreamFailure(error: unknown): void {
    let r: T | undefined
    try {
      r = this.f(error)
    } catch (e) {
      return this.failStage(e)
    }
    if (r === undefined) return this.failStage(error)
    this.emit(this.out, r)
    this.completeStage()
  }
}

export class RecoverStage<T> extends LinearStage<T, T> {
  constructor(readonly f: (e: unknown) => T | undefined) {
    super('recover')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new RecoverLogic(this.shape, attributes, this.f)
  }
}

class MapErrorLogic<T> extends SupervisedLogic<T, T> {
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly f: (e: unknown) => unknown) {
    super(shape, attributes)
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
  }
  onUpstreamFailure(error: unknown): void {
    let mapped: unknown
    try {
      mapped = this.f(error)
    } catch (e) {
      mapped = e
    }
    this.failStage(mapped)
  }
}

export class MapErrorStage<T> extends LinearStage<T, T> {
  constructor(readonly f: (e: unknown) => unknown) {
    super('mapError')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new MapErrorLogic(this.shape, attributes, this.f)
  }
}

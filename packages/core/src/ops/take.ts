/**
 * Prefix operators: take, takeWhile, drop, dropWhile.
 *
 * `take(n)` and `takeWhile` complete as soon as they are satisfied and cancel upstream with
 * the non-failure cause "no more elements needed"; `drop` and `dropWhile` skip a prefix and pass
 * the rest through. All pull only when downstream pulled.
 */
import { NoMoreElementsNeeded } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './map.js'

class TakeLogic<T> extends SupervisedLogic<T, T> {
  #left: number
  constructor(shape: FlowShape<T, T>, attributes: Attributes, n: number) {
    super(shape, attributes)
    this.#left = n
  }
  override preStart(): void {
    if (this.#left <= 0) this.#done()
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
    if (--this.#left === 0) this.#done()
  }
  #done(): void {
    this.cancel(this.in, NoMoreElementsNeeded)
    this.complete(this.out)
  }
}

export class TakeStage<T> extends LinearStage<T, T> {
  constructor(readonly n: number) {
    super('take')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new TakeLogic<T>(this.shape, attributes, this.n)
  }
}

class TakeWhileLogic<T> extends SupervisedLogic<T, T> {
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly stage: TakeWhileStage<T>) {
    super(shape, attributes)
  }
  onPush(): void {
    const x = this.grab(this.in)
    let ok: boolean
    try {
      ok = this.stage.p(x)
    } catch (e) {
      return this.supervise(e)
    }
    if (ok) return this.push(this.out, x)
    if (this.stage.inclusive) this.push(this.out, x)
    this.cancel(this.in, NoMoreElementsNeeded)
    this.complete(this.out)
  }
}

export class TakeWhileStage<T> extends LinearStage<T, T> {
  constructor(readonly p: (x: T) => boolean, readonly inclusive: boolean) {
    super('takeWhile')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new TakeWhileLogic(this.shape, attributes, this)
  }
}

class DropLogic<T> extends SupervisedLogic<T, T> {
  #left: number
  constructor(shape: FlowShape<T, T>, attributes: Attributes, n: number) {
    super(shape, attributes)
    this.#left = n
  }
  onPush(): void {
    const x = this.grab(this.in)
    if (this.#left > 0) {
      this.#left--
      this.pull(this.in)
    } else this.push(this.out, x)
  }
}

export class DropStage<T> extends LinearStage<T, T> {
  constructor(readonly n: number) {
    super('drop')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new DropLogic<T>(this.shape, attributes, this.n)
  }
}

class DropWhileLogic<T> extends SupervisedLogic<T, T> {
  #dropping = true
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly p: (x: T) => boolean) {
    super(shape, attributes)
  }
  onPush(): void {
    const x = this.grab(this.in)
    if (this.#dropping) {
      let drop: boolean
      try {
        drop = this.p(x)
      } catch (e) {
        return this.supervise(e)
      }
      if (drop) return this.pull(this.in)
      this.#dropping = false
    }
    this.push(this.out, x)
  }
}

export class DropWhileStage<T> extends LinearStage<T, T> {
  constructor(readonly p: (x: T) => boolean) {
    super('dropWhile')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new DropWhileLogic(this.shape, attributes, this.p)
  }
}

/**
 * Prefix operators (fusable): take, takeWhile, drop, dropWhile.
 *
 * `take(n)` and `takeWhile` complete as soon as they are satisfied and cancel upstream with
 * the non-failure cause "no more elements needed"; `drop` and `dropWhile` skip a prefix and pass
 * the rest through. All request elements only on downstream demand.
 */
import type { Attributes } from '../stage/Attributes.js'
import { FusableStage, Op, SKIP, type Skip, type Step } from '../stage/fusion.js'

class TakeOp<T> extends Op<T, T> {
  #left: number
  constructor(attributes: Attributes, n: number) {
    super(attributes.decider)
    this.#left = n
    this.done = n <= 0
  }
  onElement(x: T): T {
    if (--this.#left <= 0) this.done = true
    return x
  }
  override compose(next: Step, end: () => void): Step {
    return (x) => {
      const r = next(x)
      if (--this.#left <= 0) {
        this.done = true
        end()
      }
      return r
    }
  }
}

export class TakeStage<T> extends FusableStage<T, T> {
  constructor(readonly n: number) {
    super('take')
  }
  createOp(attributes: Attributes): Op<T, T> {
    return new TakeOp<T>(attributes, this.n)
  }
}

class TakeWhileOp<T> extends Op<T, T> {
  constructor(attributes: Attributes, readonly p: (x: T) => boolean, readonly inclusive: boolean) {
    super(attributes.decider)
  }
  onElement(x: T): T | Skip {
    if (this.p(x)) return x
    this.done = true
    return this.inclusive ? x : SKIP
  }
}

export class TakeWhileStage<T> extends FusableStage<T, T> {
  constructor(readonly p: (x: T) => boolean, readonly inclusive: boolean) {
    super('takeWhile')
  }
  createOp(attributes: Attributes): Op<T, T> {
    return new TakeWhileOp(attributes, this.p, this.inclusive)
  }
}

class DropOp<T> extends Op<T, T> {
  #left: number
  constructor(attributes: Attributes, n: number) {
    super(attributes.decider)
    this.#left = n
  }
  onElement(x: T): T | Skip {
    if (this.#left <= 0) return x
    this.#left--
    return SKIP
  }
  override compose(next: Step): Step {
    return (x) => {
      if (this.#left <= 0) return next(x)
      this.#left--
      return SKIP
    }
  }
}

export class DropStage<T> extends FusableStage<T, T> {
  constructor(readonly n: number) {
    super('drop')
  }
  createOp(attributes: Attributes): Op<T, T> {
    return new DropOp<T>(attributes, this.n)
  }
}

class DropWhileOp<T> extends Op<T, T> {
  #dropping = true
  constructor(attributes: Attributes, readonly p: (x: T) => boolean) {
    super(attributes.decider)
  }
  onElement(x: T): T | Skip {
    if (this.#dropping) {
      if (this.p(x)) return SKIP
      this.#dropping = false
    }
    return x
  }
}

export class DropWhileStage<T> extends FusableStage<T, T> {
  constructor(readonly p: (x: T) => boolean) {
    super('dropWhile')
  }
  createOp(attributes: Attributes): Op<T, T> {
    return new DropWhileOp(attributes, this.p)
  }
}

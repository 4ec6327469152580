/**
 * Elementary sources: from an iterable, a single element, a range, a repeated element, empty,
 * never, failed, and from a promise.
 *
 * Shared contract: emit only when downstream pulls; complete after the last element; stop at
 * once (releasing any iterator through `return()`) when downstream cancels.
 */
import { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { Outlet, SourceShape } from '../stage/ports.js'
import { SourceStage } from '../stage/linear.js'

/** A source logic whose only handler is itself. */
export abstract class SourceLogic<T> extends GraphStageLogic {
  readonly out: Outlet<T>
  constructor(shape: SourceShape<T>) {
    super(shape)
    this.out = shape.out
    this.setHandler(shape.out, this)
  }
  abstract onPull(): void
}

class ArrayLogic<T> extends SourceLogic<T> {
  #i = 0
  constructor(shape: SourceShape<T>, readonly arr: readonly T[]) {
    super(shape)
  }
  onPull(): void {
    const i = this.#i
    const arr = this.arr
    if (i < arr.length) {
      this.#i = i + 1
      this.push(this.out, arr[i] as T)
      if (i + 1 === arr.length) this.complete(this.out)
    } else this.complete(this.out)
  }
}

class IteratorLogic<T> extends SourceLogic<T> {
  #iter: Iterator<T> | undefined = undefined
  constructor(shape: SourceShape<T>, readonly iterable: Iterable<T>) {
    super(shape)
  }
  onPull(): void {
    const iter = (this.#iter ??= this.iterable[Symbol.iterator]())
    const r = iter.next()
    if (r.done) {
      this.#iter = undefined
      this.complete(this.out)
    } else this.push(this.out, r.value)
  }
  onDownstreamFinish(cause: unknown): void {
    const iter = this.#iter
    this.#iter = undefined
    iter?.return?.()
    this.cancelStage(cause)
  }
}

export class IterableSource<T> extends SourceStage<T> {
  constructor(readonly iterable: Iterable<T>) {
    super('from')
  }
  createLogic(): GraphStageLogic {
    const it = this.iterable
    return Array.isArray(it) ? new ArrayLogic(this.shape, it as readonly T[]) : new IteratorLogic(this.shape, it)
  }
}

class RangeLogic extends SourceLogic<number> {
  #next: number
  constructor(shape: SourceShape<number>, readonly stage: RangeSource) {
    super(shape)
    this.#next = stage.start
  }
  onPull(): void {
    const x = this.#next
    const { end, step } = this.stage
    if (step > 0 ? x > end : x < end) return this.complete(this.out)
    this.#next = x + step
    this.push(this.out, x)
  }
}

export class RangeSource extends SourceStage<number> {
  constructor(readonly start: number, readonly end: number, readonly step: number) {
    super('range')
  }
  createLogic(): GraphStageLogic {
    return new RangeLogic(this.shape, this)
  }
}

class RepeatLogic<T> extends SourceLogic<T> {
  constructor(shape: SourceShape<T>, readonly elem: T) {
    super(shape)
  }
  onPull(): void {
    this.push(this.out, this.elem)
  }
}

export class RepeatSource<T> extends SourceStage<T> {
  constructor(readonly elem: T) {
    super('repeat')
  }
  createLogic(): GraphStageLogic {
    return new RepeatLogic(this.shape, this.elem)
  }
}

class TerminalLogic<T> extends SourceLogic<T> {
  constructor(shape: SourceShape<T>, readonly stage: TerminalSource<T>) {
    super(shape)
  }
  override preStart(): void {
    if (this.stage.mode === 'empty') this.completeStage()
    else if (this.stage.mode === 'failed') this.failStage(this.stage.error)
  }
  onPull(): void {}
}

/** Completes or fails at once, or (never) waits until cancelled. */
export class TerminalSource<T> extends SourceStage<T> {
  constructor(readonly mode: 'empty' | 'never' | 'failed', readonly error?: unknown) {
    super(mode)
  }
  createLogic(): GraphStageLogic {
    return new TerminalLogic(this.shape, this)
  }
}

class PromiseLogic<T> extends SourceLogic<T> {
  constructor(shape: SourceShape<T>, readonly make: () => PromiseLike<T>) {
    super(shape)
  }
  override preStart(): void {
    const ok = this.getAsyncCallback((v: T) => this.emit(this.out, v, () => this.completeStage()))
    const ko = this.getAsyncCallback((e: unknown) => this.failStage(e))
    Promise.resolve()
      .then(this.make)
      .then(
        (v) => ok.invoke(v),
        (e) => ko.invoke(e),
      )
  }
  onPull(): void {}
}

/** Emits the promise's value once it resolves, then completes; fails if it rejects. */
export class PromiseSource<T> extends SourceStage<T> {
  constructor(readonly promise: () => PromiseLike<T>) {
    super('fromPromise')
  }
  createLogic(): GraphStageLogic {
    return new PromiseLogic(this.shape, this.promise)
  }
}

/**
 * Elementary sources: from an iterable, a single element, a range, a repeated element, empty
 * (all synchronous, so they can head a fused chain), never, failed, and from a promise.
 *
 * Shared contract: emit only when downstream pulls; complete after the last element; stop at
 * once (releasing any iterator through `return()`) when downstream cancels.
 */
import { InvalidArgumentError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { Outlet, SourceShape } from '../stage/ports.js'
import { DONE, SyncSourceStage, type Done, type SyncSource } from '../stage/fusion.js'
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

class ArraySource<T> implements SyncSource<T> {
  #i = 0
  constructor(readonly arr: readonly T[]) {}
  next(): T | Done {
    const i = this.#i
    if (i >= this.arr.length) return DONE
    this.#i = i + 1
    return this.arr[i] as T
  }
  exhausted(): boolean {
    return this.#i >= this.arr.length
  }
}

class IteratorSource<T> implements SyncSource<T> {
  #iter: Iterator<T> | undefined = undefined
  constructor(readonly iterable: Iterable<T>) {}
  next(): T | Done {
    const iter = (this.#iter ??= this.iterable[Symbol.iterator]())
    const r = iter.next()
    if (!r.done) return r.value
    this.#iter = undefined
    return DONE
  }
  close(): void {
    const iter = this.#iter
    this.#iter = undefined
    iter?.return?.()
  }
}

export class IterableSource<T> extends SyncSourceStage<T> {
  constructor(readonly iterable: Iterable<T>) {
    super('from')
  }
  createSource(): SyncSource<T> {
    const it = this.iterable
    return Array.isArray(it) ? new ArraySource(it as readonly T[]) : new IteratorSource(it)
  }
}

class RangeIterator implements SyncSource<number> {
  #next: number
  readonly #end: number
  readonly #step: number
  constructor(stage: RangeSource) {
    this.#next = stage.start
    this.#end = stage.end
    this.#step = stage.step
  }
  next(): number | Done {
    const x = this.#next
    if (this.#step > 0 ? x > this.#end : x < this.#end) return DONE
    this.#next = x + this.#step
    return x
  }
  exhausted(): boolean {
    return this.#step > 0 ? this.#next > this.#end : this.#next < this.#end
  }
}

export class RangeSource extends SyncSourceStage<number> {
  constructor(readonly start: number, readonly end: number, readonly step: number) {
    super('range')
    if (!Number.isFinite(start)) throw new InvalidArgumentError('start', start, 'a finite number')
    if (Number.isNaN(end)) throw new InvalidArgumentError('end', end, 'a number')
    if (!Number.isFinite(step) || step === 0) throw new InvalidArgumentError('step', step, 'a finite number other than 0')
  }
  createSource(): SyncSource<number> {
    return new RangeIterator(this)
  }
}

class Repeater<T> implements SyncSource<T> {
  constructor(readonly elem: T) {}
  next(): T {
    return this.elem
  }
}

export class RepeatSource<T> extends SyncSourceStage<T> {
  constructor(readonly elem: T) {
    super('repeat')
  }
  createSource(): SyncSource<T> {
    return new Repeater(this.elem)
  }
}

const EXHAUSTED: SyncSource<never> = { next: () => DONE, exhausted: () => true }

/** Standalone (not fused), `empty` completes at once, without waiting for demand. */
class EmptyLogic<T> extends SourceLogic<T> {
  constructor(shape: SourceShape<T>, name: string) {
    super(shape)
    this._name = name
  }
  override preStart(): void {
    this.completeStage()
  }
  onPull(): void {}
}

export class EmptySource<T> extends SyncSourceStage<T> {
  constructor() {
    super('empty')
  }
  createSource(): SyncSource<T> {
    return EXHAUSTED
  }
  override createLogic(attributes: Attributes): GraphStageLogic {
    return new EmptyLogic(this.shape, attributes.name ?? this.name)
  }
}

class TerminalLogic<T> extends SourceLogic<T> {
  constructor(shape: SourceShape<T>, readonly stage: TerminalSource<T>) {
    super(shape)
  }
  override preStart(): void {
    if (this.stage.mode === 'failed') this.failStage(this.stage.error)
  }
  onPull(): void {}
}

/** Fails at once, or (never) waits until cancelled. */
export class TerminalSource<T> extends SourceStage<T> {
  constructor(readonly mode: 'never' | 'failed', readonly error?: unknown) {
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

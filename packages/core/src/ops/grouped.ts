/**
 * Re-chunking operators: grouped, sliding, intersperse.
 *
 * Shared contract: they reshape the element sequence without user functions (so no
 * supervision), pull upstream only on downstream demand, never push without demand, emit what
 * they still hold when upstream completes (a last short group, a last partial window, the `end`
 * element) and then complete. Upstream failure fails at once, dropping what they hold; downstream
 * cancellation cancels upstream with the same cause. Every emitted array is fresh: downstream may
 * keep it.
 */
import { InvalidArgumentError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

function checkPositive(name: string, n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError(name, n, 'an integer of at least 1')
}

// ---- grouped ----

class GroupedLogic<T> extends SupervisedLogic<T, T[]> {
  #group: T[] = []
  constructor(shape: FlowShape<T, T[]>, attributes: Attributes, readonly n: number) {
    super(shape, attributes)
  }
  onPush(): void {
    const group = this.#group
    group.push(this.grab(this.in))
    if (group.length < this.n) return this.pull(this.in)
    this.#group = []
    this.push(this.out, group)
  }
  onUpstreamFinish(): void {
    const group = this.#group
    this.#group = []
    if (group.length > 0) this.emit(this.out, group)
    this.completeStage()
  }
}

export class GroupedStage<T> extends LinearStage<T, T[]> {
  constructor(readonly n: number) {
    super('grouped')
    checkPositive('n', n)
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new GroupedLogic(this.shape, attributes, this.n)
  }
}

// ---- sliding ----

/**
 * The window `#buf` fills to `n` elements and is emitted; the next element then moves it by
 * `step`. With `step > n` the elements between two windows are collected and discarded once
 * `step` of them (counted from the last window's start) arrived.
 */
class SlidingLogic<T> extends SupervisedLogic<T, T[]> {
  #buf: T[] = []
  constructor(shape: FlowShape<T, T[]>, attributes: Attributes, readonly n: number, readonly step: number) {
    super(shape, attributes)
  }
  onPush(): void {
    const buf = this.#buf
    const { n, step } = this
    buf.push(this.grab(this.in))
    if (buf.length === n) return this.push(this.out, buf.slice())
    if (buf.length > n) {
      if (step <= n) {
        buf.splice(0, step)
        if (buf.length === n) return this.push(this.out, buf.slice())
      } else if (buf.length === step) buf.length = 0
    }
    this.pull(this.in)
  }
  onUpstreamFinish(): void {
    // a partial window holds at least one element no window emitted yet
    const buf = this.#buf
    if (buf.length > 0 && buf.length < this.n) this.emit(this.out, buf.slice())
    this.completeStage()
  }
}

export class SlidingStage<T> extends LinearStage<T, T[]> {
  constructor(readonly n: number, readonly step: number) {
    super('sliding')
    checkPositive('n', n)
    checkPositive('step', step)
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new SlidingLogic(this.shape, attributes, this.n, this.step)
  }
}

// ---- intersperse ----

/** Options of `intersperse`: elements emitted before the first and after the last element. */
export interface IntersperseOptions<T> {
  /** Emitted first (even when the stream is empty); `undefined` means none. */
  readonly start?: T
  /** Emitted last, on completion (even when the stream is empty); `undefined` means none. */
  readonly end?: T
}

const NONE: unique symbol = Symbol('weir.intersperse.none')

/**
 * Each element but the first is preceded by `inject` (the first by `start`, if any): the
 * separator is pushed at once and the element waits in `#pending` for the next pull, so no
 * queue is allocated per element.
 */
class IntersperseLogic<T> extends SupervisedLogic<T, T> {
  #first = true
  #pending: T | typeof NONE = NONE
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly stage: IntersperseStage<T>) {
    super(shape, attributes)
  }
  onPush(): void {
    const x = this.grab(this.in)
    let before: T | undefined = this.stage.inject
    if (this.#first) {
      this.#first = false
      before = this.stage.start
      if (before === undefined) return this.push(this.out, x)
    }
    this.push(this.out, before as T)
    this.#pending = x
  }
  override onPull(): void {
    const p = this.#pending
    if (p === NONE) return this.pull(this.in)
    this.#pending = NONE
    this.push(this.out, p)
    if (this.isClosed(this.in)) this.#finish()
  }
  onUpstreamFinish(): void {
    // with an element pending, onPull finishes after pushing it
    if (this.#pending === NONE) this.#finish()
  }
  #finish(): void {
    const { start, end } = this.stage
    if (this.#first && start !== undefined) this.emit(this.out, start)
    if (end !== undefined) this.emit(this.out, end)
    this.completeStage()
  }
}

export class IntersperseStage<T> extends LinearStage<T, T> {
  readonly start: T | undefined
  readonly end: T | undefined
  constructor(readonly inject: T, options: IntersperseOptions<T> = {}) {
    super('intersperse')
    this.start = options.start
    this.end = options.end
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new IntersperseLogic(this.shape, attributes, this)
  }
}

/**
 * Rate decoupling: conflate, conflateWithSeed, batch, batchWeighted (summarize while downstream
 * is slower) and expand, extrapolate (repeat while downstream is faster).
 *
 * Shared contract: these stages pull upstream eagerly, independently of downstream demand, and
 * never push without demand.
 * - The batch family folds the elements that arrive while downstream backpressures into one
 *   aggregate (`seed` starts it, `aggregate` adds to it) and emits it on the next pull, starting
 *   afresh; an element arriving while downstream waits passes (seeded) at once. `conflate*` never
 *   backpressures; `batch` backpressures once the aggregate holds `max` worth of cost and one more
 *   element is waiting (that element seeds the next aggregate; an element costlier than `max`
 *   forms an aggregate of its own). On completion the aggregate (and the waiting element) is still
 *   emitted. `seed`/`aggregate` are supervised: `resume` drops the element, `restart` also drops
 *   the current aggregate.
 * - The expand family emits, for the last upstream element, the elements of the iterator `f`
 *   returned for it, one per pull, until upstream brings the next element (which replaces the
 *   iterator, the old one being closed with `return()`). The first element of each iterator is
 *   always emitted before the next upstream element is requested. When upstream completes, the
 *   first element of the current iterator is still emitted if it was not yet, the rest dropped.
 *   `f` and the iterators are not supervised: a throw fails the stream (as in Pekko).
 * Upstream failure fails at once; downstream cancellation cancels upstream with the same cause.
 */
import { InvalidArgumentError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { decide, LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

const NONE: unique symbol = Symbol('weir.conflate.none')
type None = typeof NONE

const costsOne = (): number => 1
const costsNothing = (): number => 0

// ---- batch family ----

class BatchLogic<In, Out> extends SupervisedLogic<In, Out> {
  #agg: Out | None = NONE
  /** Cost still allowed into the aggregate (negative after an element costlier than `max`). */
  #left: number
  #pending: In | None = NONE
  #pendingCost = 0
  constructor(shape: FlowShape<In, Out>, attributes: Attributes, readonly stage: BatchStage<In, Out>) {
    super(shape, attributes)
    this.#left = stage.max
  }

  override preStart(): void {
    this.pull(this.in)
  }

  onPush(): void {
    const x = this.grab(this.in)
    const { stage } = this
    const cost = stage.cost(x)
    if (!(cost >= 0)) return this.failStage(new InvalidArgumentError('cost', cost, 'a non-negative number'))
    const agg = this.#agg
    if (agg !== NONE && this.#left < cost) {
      this.#pending = x
      this.#pendingCost = cost
    } else {
      try {
        this.#agg = agg === NONE ? stage.seed(x) : stage.aggregate(agg, x)
        this.#left -= cost
      } catch (e) {
        if (!this.#recover(e)) return
      }
    }
    if (this.isAvailable(this.out)) this.#flush()
    if (this.#pending === NONE) this.tryPull(this.in)
  }

  override onPull(): void {
    if (this.#agg === NONE) {
      if (this.isClosed(this.in)) this.completeStage()
      else this.tryPull(this.in)
      return
    }
    this.#flush()
    if (!this.isClosed(this.in)) this.tryPull(this.in)
    else if (this.#agg === NONE) this.completeStage()
  }

  onUpstreamFinish(): void {
    // an aggregate (and a pending element) is still emitted on the next pulls
    if (this.#agg === NONE) this.completeStage()
  }

  override postStop(): void {
    this.#agg = NONE
    this.#pending = NONE
  }

  /** Push the aggregate; the pending element, if any, seeds the next one. */
  #flush(): void {
    const agg = this.#agg
    if (agg !== NONE) {
      this.#agg = NONE
      this.#left = this.stage.max
      this.push(this.out, agg)
    }
    const p = this.#pending
    if (p === NONE) return
    this.#pending = NONE
    try {
      this.#agg = this.stage.seed(p)
      this.#left -= this.#pendingCost
    } catch (e) {
      this.#recover(e)
    }
  }

  /** Supervise a throwing seed/aggregate; false when the stage failed. */
  #recover(e: unknown): boolean {
    const d = decide(this.decider, e)
    if (d === 'stop') {
      this.failStage(e)
      return false
    }
    if (d === 'restart') {
      this.#agg = NONE
      this.#left = this.stage.max
      this.#pending = NONE
    }
    return true
  }
}

export class BatchStage<In, Out> extends LinearStage<In, Out> {
  constructor(
    name: string,
    readonly max: number,
    readonly cost: (x: In) => number,
    readonly seed: (x: In) => Out,
    readonly aggregate: (agg: Out, x: In) => Out,
  ) {
    super(name)
    if (!(max > 0)) throw new InvalidArgumentError('max', max, 'a positive number')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new BatchLogic<In, Out>(this.shape, attributes, this)
  }
}

/** conflateWithSeed: every element is free, so the aggregate never fills. */
export function conflateStage<In, Out>(name: string, seed: (x: In) => Out, aggregate: (agg: Out, x: In) => Out): BatchStage<In, Out> {
  return new BatchStage(name, 1, costsNothing, seed, aggregate)
}

/** batch: every element costs 1. */
export function batchStage<In, Out>(max: number, seed: (x: In) => Out, aggregate: (agg: Out, x: In) => Out): BatchStage<In, Out> {
  if (!(Number.isInteger(max) && max >= 1)) throw new InvalidArgumentError('max', max, 'an integer of at least 1')
  return new BatchStage('batch', max, costsOne, seed, aggregate)
}

// ---- expand family ----

/** What `expand`/`extrapolate` functions may return. */
export type IterableOrIterator<T> = Iterable<T> | Iterator<T>

function iteratorOf<T>(r: IterableOrIterator<T>): Iterator<T> {
  const it = r as Partial<Iterable<T>>
  return typeof it[Symbol.iterator] === 'function' ? it[Symbol.iterator]!() : (r as Iterator<T>)
}

/** `x`, then the elements of `f(x)` (called only once `x` was taken). */
class ExtrapolationIterator<T> implements Iterator<T> {
  #rest: Iterator<T> | undefined = undefined
  #first = true
  constructor(readonly x: T, readonly f: (x: T) => IterableOrIterator<T>) {}
  next(): IteratorResult<T> {
    if (this.#first) {
      this.#first = false
      return { done: false, value: this.x }
    }
    this.#rest ??= iteratorOf(this.f(this.x))
    return this.#rest.next()
  }
  return(): IteratorResult<T> {
    this.#rest?.return?.()
    return { done: true, value: undefined }
  }
}

class ExpandLogic<In, Out> extends SupervisedLogic<In, Out> {
  #it: Iterator<Out> | undefined = undefined
  /** The next element of the current iterator, fetched ahead (NONE: exhausted). */
  #head: Out | None = NONE
  /** The current iterator's first element has been emitted. */
  #expanded = false
  constructor(shape: FlowShape<In, Out>, attributes: Attributes, readonly stage: ExpandStage<In, Out>) {
    super(shape, attributes)
  }

  override preStart(): void {
    const { initial } = this.stage
    // the initial element stands in for a first upstream element: upstream is pulled once it was emitted
    if (initial !== NONE) this.#start(initial)
    else this.pull(this.in)
  }

  onPush(): void {
    this.#start(this.grab(this.in))
    if (this.#head === NONE) this.pull(this.in)
    else if (this.isAvailable(this.out)) {
      this.#expanded = true
      this.pull(this.in)
      this.#pushHead()
    }
  }

  override onPull(): void {
    if (this.#head === NONE) return
    if (this.#expanded) return this.#pushHead()
    this.#expanded = true
    if (this.isClosed(this.in)) {
      this.#pushHead()
      this.completeStage()
    } else {
      // ask upstream first, so a fast upstream is not starved by the extrapolation
      this.pull(this.in)
      this.#pushHead()
    }
  }

  onUpstreamFinish(): void {
    // the current iterator's first element is still owed downstream
    if (this.#head === NONE || this.#expanded) this.completeStage()
  }

  override postStop(): void {
    this.#close()
  }

  #start(x: In): void {
    this.#close()
    this.#it = iteratorOf(this.stage.f(x))
    this.#expanded = false
    this.#advance()
  }

  #pushHead(): void {
    const x = this.#head as Out
    this.#advance()
    this.push(this.out, x)
  }

  #advance(): void {
    const r = this.#it!.next()
    if (r.done === true) {
      this.#it = undefined
      this.#head = NONE
    } else this.#head = r.value
  }

  #close(): void {
    const it = this.#it
    this.#it = undefined
    this.#head = NONE
    it?.return?.()
  }
}

export class ExpandStage<In, Out> extends LinearStage<In, Out> {
  constructor(
    name: string,
    readonly f: (x: In) => IterableOrIterator<Out>,
    /** Expanded before the first upstream element (as if upstream had emitted it first). */
    readonly initial: In | None = NONE,
  ) {
    super(name)
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new ExpandLogic<In, Out>(this.shape, attributes, this)
  }
}

/** extrapolate: every upstream element, then `f(element)` while downstream is faster; `initial` (if not undefined) first. */
export function extrapolateStage<T>(f: (x: T) => IterableOrIterator<T>, initial: T | undefined): ExpandStage<T, T> {
  return new ExpandStage<T, T>('extrapolate', (x) => new ExtrapolationIterator(x, f), initial === undefined ? NONE : initial)
}

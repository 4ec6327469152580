/**
 * Queue sources: a source fed from outside the stream through a materialized queue handle.
 *
 * - `Source.queue(bufferSize, overflowStrategy)` → {@link SourceQueue}: `offer` is synchronous and
 *   answers at once; when the buffer is full the overflow strategy decides (`dropHead`,
 *   `dropTail`, `dropBuffer` make room and enqueue the element, `dropNew` drops it, `fail` fails
 *   the stream with {@link BufferOverflowError}).
 * - `Source.queueBackpressured(bufferSize, maxConcurrentOffers)` → {@link BackpressuredSourceQueue}:
 *   `offer` returns a promise that resolves once the element was taken into the buffer (with
 *   `bufferSize` 0: once it was pushed downstream); at most `maxConcurrentOffers` may wait, a
 *   further one rejects with {@link QueueConcurrencyError}.
 *
 * Shared contract: elements are pushed only when downstream pulls, in offer order. The buffer is
 * shared by the handle and the stage (one JS thread): an offer writes into it at once and wakes
 * the stage through its AsyncCallback only when downstream is waiting for an element. `complete()`
 * completes the stream after the elements already offered (including waiting offers) were
 * delivered; `fail(error)` fails it at once, dropping the buffer. Afterwards — and once
 * downstream cancelled — offers answer `'closed'` (completed or cancelled) or `{ failure }`
 * (failed), and waiting offers settle the same way. `watchCompletion()` resolves when the stream
 * completed or was cancelled without a failure, and rejects otherwise (with
 * `AbruptTerminationError` if it was torn down).
 */
import { AbruptTerminationError, BufferOverflowError, InvalidArgumentError, QueueConcurrencyError, isNonFailureCancellation } from '../errors.js'
import { deferred, type Deferred } from '../internal/deferred.js'
import { RingBuffer, makeRoom } from '../internal/RingBuffer.js'
import type { OverflowStrategy } from '../ops/buffer.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import type { AsyncCallback, GraphStageLogic } from '../stage/GraphStageLogic.js'
import { Outlet, SourceShape } from '../stage/ports.js'
import { SourceLogic } from './basic.js'

/** The stream failed (or was failed through the queue): the offered element was not taken. */
export interface QueueOfferFailure {
  readonly failure: unknown
}

/** What became of an offered element. */
export type QueueOfferResult = 'enqueued' | 'dropped' | 'closed' | QueueOfferFailure

/** What an offer to a {@link BackpressuredSourceQueue} settles with: it waits instead of dropping. */
export type BackpressuredOfferResult = Exclude<QueueOfferResult, 'dropped'>

/** What `Source.queue` does with an offer that finds the buffer full (the strategies of `buffer`, less `backpressure`). */
export type QueueOverflowStrategy = Exclude<OverflowStrategy, 'backpressure'>

const STRATEGIES: readonly QueueOverflowStrategy[] = ['dropHead', 'dropTail', 'dropBuffer', 'dropNew', 'fail']

type QueueMode = { readonly t: 'drop'; readonly strategy: QueueOverflowStrategy } | { readonly t: 'backpressure'; readonly maxConcurrentOffers: number }

type QueueState =
  | { readonly t: 'open' }
  /** `complete()` was called: deliver what was offered, then complete. */
  | { readonly t: 'completing' }
  /** Completed, or cancelled by downstream without a failure. */
  | { readonly t: 'closed' }
  | { readonly t: 'failed'; readonly error: unknown }

const OPEN: QueueState = { t: 'open' }
const COMPLETING: QueueState = { t: 'completing' }
const CLOSED: QueueState = { t: 'closed' }

interface WaitingOffer<T> {
  readonly elem: T
  readonly resolve: (result: BackpressuredOfferResult) => void
}

const ENQUEUED: Promise<BackpressuredOfferResult> = Promise.resolve('enqueued')
const CLOSED_RESULT: Promise<BackpressuredOfferResult> = Promise.resolve('closed')

/** @internal the stage's logic; the queue handles are its public face. */
export class QueueSourceLogic<T> extends SourceLogic<T> {
  readonly #capacity: number
  readonly #buffer: RingBuffer<T>
  readonly #offers: RingBuffer<WaitingOffer<T>>
  readonly #done: Deferred<void>
  readonly #wake: AsyncCallback<void>
  #state: QueueState = OPEN
  /** Downstream pulled while nothing was buffered: an offer must wake the stage. */
  #waiting = false

  constructor(shape: SourceShape<T>, bufferSize: number, mode: QueueMode) {
    super(shape)
    this.#capacity = bufferSize
    this.#buffer = new RingBuffer<T>(bufferSize)
    this.#offers = new RingBuffer<WaitingOffer<T>>(mode.t === 'backpressure' ? mode.maxConcurrentOffers : 0)
    this.#done = deferred()
    this.#wake = this.getAsyncCallback(this.#onWake)
  }

  // ---- the handle's side: called from outside the stream, touching the buffer and the state only ----

  get done(): Promise<void> {
    return this.#done.promise
  }
  get size(): number {
    return this.#buffer.length
  }

  offerNow(x: T, strategy: QueueOverflowStrategy): QueueOfferResult {
    const s = this.#state
    if (s.t !== 'open') return s.t === 'failed' ? { failure: s.error } : 'closed'
    const buffer = this.#buffer
    if (buffer.length < this.#capacity) {
      buffer.push(x)
      this.#signal()
      return 'enqueued'
    }
    const room = makeRoom(buffer, strategy)
    if (room === 'drop-new') return 'dropped'
    if (room === 'fail') {
      const error = new BufferOverflowError(this.#capacity)
      this.handleFail(error)
      return { failure: error }
    }
    buffer.push(x)
    return 'enqueued'
  }

  offerOrWait(x: T, maxConcurrentOffers: number): Promise<BackpressuredOfferResult> {
    const s = this.#state
    if (s.t !== 'open') return s.t === 'failed' ? Promise.resolve({ failure: s.error }) : CLOSED_RESULT
    const offers = this.#offers
    if (offers.isEmpty && (this.#buffer.length < this.#capacity || this.#waiting)) {
      this.#buffer.push(x)
      this.#signal()
      return ENQUEUED
    }
    if (offers.length >= maxConcurrentOffers) return Promise.reject(new QueueConcurrencyError('offer', maxConcurrentOffers))
    return new Promise((resolve) => offers.push({ elem: x, resolve }))
  }

  handleComplete(): void {
    if (this.#state.t !== 'open') return
    this.#state = COMPLETING
    this.#waiting = false
    this.#wake.invoke()
  }

  handleFail(error: unknown): void {
    const t = this.#state.t
    if (t !== 'open' && t !== 'completing') return
    this.#state = { t: 'failed', error }
    this.#waiting = false
    this.#wake.invoke()
  }

  #signal(): void {
    if (!this.#waiting) return
    this.#waiting = false
    this.#wake.invoke()
  }

  // ---- the stage's side ----

  onPull(): void {
    this.#deliver()
  }

  onDownstreamFinish(cause: unknown): void {
    const t = this.#state.t
    if (t === 'open' || t === 'completing') this.#state = isNonFailureCancellation(cause) ? CLOSED : { t: 'failed', error: cause }
    this.cancelStage(cause)
  }

  override postStop(): void {
    let s = this.#state
    if (s.t === 'open' || s.t === 'completing') s = this.#state = { t: 'failed', error: new AbruptTerminationError(this.toString()) }
    this.#buffer.clear()
    const result: BackpressuredOfferResult = s.t === 'failed' ? { failure: s.error } : 'closed'
    while (!this.#offers.isEmpty) this.#offers.shift().resolve(result)
    if (s.t === 'failed') this.#done.reject(s.error)
    else this.#done.resolve()
  }

  #onWake(): void {
    const s = this.#state
    switch (s.t) {
      case 'failed':
        return this.failStage(s.error)
      case 'closed':
        return
      case 'open':
      case 'completing':
        if (this.isAvailable(this.out)) this.#deliver()
        else if (s.t === 'completing' && this.#isEmpty()) this.#completeNow()
    }
  }

  /** Downstream is pulling: push the oldest element (a waiting offer's, with no buffer), or wait, or complete. */
  #deliver(): void {
    const buffer = this.#buffer
    const offers = this.#offers
    if (!buffer.isEmpty) {
      this.push(this.out, buffer.shift())
      while (!offers.isEmpty && buffer.length < this.#capacity) {
        const o = offers.shift()
        buffer.push(o.elem)
        o.resolve('enqueued')
      }
    } else if (!offers.isEmpty) {
      const o = offers.shift()
      this.push(this.out, o.elem)
      o.resolve('enqueued')
    } else if (this.#state.t === 'open') {
      this.#waiting = true
      return
    }
    if (this.#state.t === 'completing' && this.#isEmpty()) this.#completeNow()
  }

  #isEmpty(): boolean {
    return this.#buffer.isEmpty && this.#offers.isEmpty
  }

  #completeNow(): void {
    this.#state = CLOSED
    this.completeStage()
  }
}

/** The handle of a running `Source.queue`: offer elements synchronously, end the stream, watch it. */
export class SourceQueue<T> {
  readonly #logic: QueueSourceLogic<T>
  readonly #strategy: QueueOverflowStrategy
  /** @internal created by the stage for each materialization. */
  constructor(logic: QueueSourceLogic<T>, strategy: QueueOverflowStrategy) {
    this.#logic = logic
    this.#strategy = strategy
  }
  /**
   * Offer `x`: `'enqueued'` (buffered — with a drop strategy, possibly in place of older elements), `'dropped'`
   * (`dropNew` with a full buffer), `'closed'` (completed or cancelled), or `{ failure }` (the stream failed; with
   * the `fail` strategy this very offer may have failed it with `BufferOverflowError`).
   */
  offer(x: T): QueueOfferResult {
    return this.#logic.offerNow(x, this.#strategy)
  }
  /** Complete the stream once the elements already offered were delivered; later offers answer `'closed'`. Idempotent. */
  complete(): void {
    this.#logic.handleComplete()
  }
  /** Fail the stream with `error` at once (buffered elements are dropped); later offers answer `{ failure: error }`. */
  fail(error: unknown): void {
    this.#logic.handleFail(error)
  }
  /** Resolves when the stream completed or was cancelled without a failure; rejects when it failed. */
  watchCompletion(): Promise<void> {
    return this.#logic.done
  }
  /** Elements buffered and not yet pushed downstream. */
  get size(): number {
    return this.#logic.size
  }
}

/** The handle of a running `Source.queueBackpressured`: offers wait for room instead of dropping. */
export class BackpressuredSourceQueue<T> {
  readonly #logic: QueueSourceLogic<T>
  readonly #maxConcurrentOffers: number
  /** @internal created by the stage for each materialization. */
  constructor(logic: QueueSourceLogic<T>, maxConcurrentOffers: number) {
    this.#logic = logic
    this.#maxConcurrentOffers = maxConcurrentOffers
  }
  /**
   * Offer `x`; resolves with `'enqueued'` once it was taken into the buffer, or with `'closed'` / `{ failure }` if the
   * stream ended first. Rejects with `QueueConcurrencyError` if `maxConcurrentOffers` offers are already waiting.
   */
  offer(x: T): Promise<BackpressuredOfferResult> {
    return this.#logic.offerOrWait(x, this.#maxConcurrentOffers)
  }
  /** Complete the stream once the elements already offered (waiting ones included) were delivered. Idempotent. */
  complete(): void {
    this.#logic.handleComplete()
  }
  /** Fail the stream with `error` at once; buffered elements are dropped and waiting offers settle with `{ failure: error }`. */
  fail(error: unknown): void {
    this.#logic.handleFail(error)
  }
  /** Resolves when the stream completed or was cancelled without a failure; rejects when it failed. */
  watchCompletion(): Promise<void> {
    return this.#logic.done
  }
  /** Elements buffered and not yet pushed downstream (waiting offers not included). */
  get size(): number {
    return this.#logic.size
  }
}

const QUEUE_ATTRIBUTES = Attributes.named('queue')
const BACKPRESSURED_ATTRIBUTES = Attributes.named('queueBackpressured')

function checkSize(bufferSize: number, min: number): void {
  if (!(Number.isInteger(bufferSize) && bufferSize >= min)) {
    throw new InvalidArgumentError('bufferSize', bufferSize, min === 0 ? 'a non-negative integer' : 'a positive integer')
  }
}

export class QueueSource<T> extends GraphStageWithMaterializedValue<SourceShape<T>, SourceQueue<T>> {
  readonly shape = new SourceShape(new Outlet<T>('queue.out'))
  readonly #mode: QueueMode
  constructor(
    readonly bufferSize: number,
    readonly overflowStrategy: QueueOverflowStrategy,
  ) {
    super()
    checkSize(bufferSize, 1)
    if (!STRATEGIES.includes(overflowStrategy)) throw new InvalidArgumentError('overflowStrategy', overflowStrategy, `one of ${STRATEGIES.join(', ')}`)
    this.#mode = { t: 'drop', strategy: overflowStrategy }
  }
  override get initialAttributes(): Attributes {
    return QUEUE_ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, SourceQueue<T>] {
    const logic = new QueueSourceLogic<T>(this.shape, this.bufferSize, this.#mode)
    return [logic, new SourceQueue(logic, this.overflowStrategy)]
  }
}

export class BackpressuredQueueSource<T> extends GraphStageWithMaterializedValue<SourceShape<T>, BackpressuredSourceQueue<T>> {
  readonly shape = new SourceShape(new Outlet<T>('queueBackpressured.out'))
  readonly #mode: QueueMode
  constructor(
    readonly bufferSize: number,
    readonly maxConcurrentOffers: number,
  ) {
    super()
    checkSize(bufferSize, 0)
    if (!(Number.isInteger(maxConcurrentOffers) && maxConcurrentOffers >= 1)) {
      throw new InvalidArgumentError('maxConcurrentOffers', maxConcurrentOffers, 'a positive integer')
    }
    this.#mode = { t: 'backpressure', maxConcurrentOffers }
  }
  override get initialAttributes(): Attributes {
    return BACKPRESSURED_ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, BackpressuredSourceQueue<T>] {
    const logic = new QueueSourceLogic<T>(this.shape, this.bufferSize, this.#mode)
    return [logic, new BackpressuredSourceQueue(logic, this.maxConcurrentOffers)]
  }
}

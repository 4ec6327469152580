/**
 * Async iterable interop: a source reading an `AsyncIterable`, and a sink materializing an
 * `AsyncIterableIterator` (what `for await (const x of source)` runs on).
 *
 * Shared contract: demand is one `next()` per element in both directions — the source calls the
 * iterator's `next()` only when downstream pulls, the sink pulls only when its iterator's `next()`
 * was called. Ending early releases the other side: a cancelled source calls the iterator's
 * `return()` (so a generator's `finally` runs), a `break` out of `for await` (the iterator's
 * `return()`) cancels the stream with `NoMoreElementsNeeded`. Failures cross over as they are:
 * a rejecting `next()` fails the stream, a failed stream rejects the pending `next()` (so the
 * error is thrown from the loop).
 */
import { AbruptTerminationError, NoMoreElementsNeeded } from '../errors.js'
import type { Logger } from '../internal/materializer.js'
import { SourceLogic } from '../sources/basic.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import { GraphStageLogic, type AsyncCallback } from '../stage/GraphStageLogic.js'
import { SourceStage } from '../stage/linear.js'
import { Inlet, SinkShape, type SourceShape } from '../stage/ports.js'

// ---- fromAsyncIterable ----

class AsyncIterableSourceLogic<T> extends SourceLogic<T> {
  #iterator: AsyncIterator<T> | undefined = undefined
  /** True once the iterator is done (it returned done, threw, or was closed with `return()`). */
  #done = false
  readonly #result: AsyncCallback<IteratorResult<T>>
  readonly #failure: AsyncCallback<unknown>
  readonly #ok = (r: IteratorResult<T>): void => {
    this.#result.invoke(r)
  }
  readonly #ko = (e: unknown): void => {
    this.#failure.invoke(e)
  }

  constructor(
    shape: SourceShape<T>,
    readonly iterable: AsyncIterable<T>,
  ) {
    super(shape)
    this.#result = this.getAsyncCallback((r) => {
      if (r.done === true) {
        this.#done = true
        this.completeStage()
      } else this.push(this.out, r.value)
    })
    this.#failure = this.getAsyncCallback((e) => {
      this.#done = true
      this.failStage(e)
    })
  }

  override preStart(): void {
    try {
      this.#iterator = this.iterable[Symbol.asyncIterator]()
    } catch (e) {
      this.#done = true
      this.failStage(e)
    }
  }

  onPull(): void {
    let next: Promise<IteratorResult<T>>
    try {
      next = this.#iterator!.next()
    } catch (e) {
      this.#done = true
      return this.failStage(e)
    }
    Promise.resolve(next).then(this.#ok, this.#ko)
  }

  onDownstreamFinish(cause: unknown): void {
    this.#close()
    this.cancelStage(cause)
  }

  override postStop(): void {
    this.#close()
  }

  /** Call `return()` once if the iterator is not done; its outcome is not awaited (a generator may be blocked). */
  #close(): void {
    const it = this.#iterator
    if (this.#done || it === undefined) return
    this.#done = true
    if (it.return === undefined) return
    const log: Logger = this.log
    const name = this.toString()
    try {
      Promise.resolve(it.return()).catch((e: unknown) => log.error(`${name}: the iterator's return() failed`, e))
    } catch (e) {
      log.error(`${name}: the iterator's return() failed`, e)
    }
  }
}

/** Emits the values of an async iterable; `iterable[Symbol.asyncIterator]()` is called per materialization. */
export class AsyncIterableSource<T> extends SourceStage<T> {
  constructor(readonly iterable: AsyncIterable<T>) {
    super('fromAsyncIterable')
  }
  createLogic(): GraphStageLogic {
    return new AsyncIterableSourceLogic(this.shape, this.iterable)
  }
}

// ---- asyncIterator: the stream as an AsyncIterableIterator ----

interface Waiter<T> {
  readonly resolve: (r: IteratorResult<T, undefined>) => void
  readonly reject: (e: unknown) => void
}

type IteratorEnd = { readonly t: 'done' } | { readonly t: 'error'; readonly error: unknown }
const DONE_END: IteratorEnd = { t: 'done' }
const DONE_RESULT: IteratorResult<never, undefined> = { done: true, value: undefined }

/**
 * The materialized iterator. It queues the `next()` calls not yet answered; the sink logic answers
 * them in order. Once ended, `next()` answers at once: the error once (as a rejection), then done.
 */
export class StreamAsyncIterator<T> implements AsyncIterableIterator<T, undefined, undefined> {
  readonly #waiting: Waiter<T>[] = []
  #end: IteratorEnd | undefined = undefined
  #request: AsyncCallback<void> | undefined = undefined
  #cancel: AsyncCallback<void> | undefined = undefined

  /** @internal */
  _bind(request: AsyncCallback<void>, cancel: AsyncCallback<void>): void {
    this.#request = request
    this.#cancel = cancel
  }

  /** @internal `next()` calls waiting for an element. */
  get _wanted(): number {
    return this.#waiting.length
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const end = this.#end
    if (end !== undefined) {
      if (end.t === 'done') return Promise.resolve(DONE_RESULT)
      this.#end = DONE_END
      return Promise.reject(end.error)
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject })
      this.#request!.invoke()
    })
  }

  /** Stop iterating: cancels the stream (`NoMoreElementsNeeded`) and resolves once the stream heard it. */
  async return(): Promise<IteratorResult<T, undefined>> {
    if (this.#end === undefined) {
      this.#finish(DONE_END)
      try {
        await this.#cancel!.invokeWithFeedback()
      } catch {
        // the stream had already stopped: nothing left to cancel
      }
    }
    return DONE_RESULT
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** @internal hand an element to the oldest waiting `next()`. */
  _deliver(x: T): void {
    this.#waiting.shift()?.resolve({ done: false, value: x })
  }

  /** @internal the stream ended: waiting `next()` calls are answered (the first one gets the error). */
  _finish(end: IteratorEnd): void {
    if (this.#end === undefined) this.#finish(end)
  }

  #finish(end: IteratorEnd): void {
    this.#end = end
    const waiting = this.#waiting.splice(0)
    for (const w of waiting) {
      const e = this.#end
      if (e.t === 'error') {
        this.#end = DONE_END
        w.reject(e.error)
      } else w.resolve(DONE_RESULT)
    }
  }
}

class AsyncIteratorSinkLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  constructor(
    shape: SinkShape<T>,
    readonly iterator: StreamAsyncIterator<T>,
  ) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
    iterator._bind(this.getAsyncCallback(this.#onRequest), this.getAsyncCallback(this.#onCancel))
  }

  readonly #onRequest = (): void => {
    if (this.iterator._wanted > 0 && !this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
  }

  readonly #onCancel = (): void => {
    this.cancelStage(NoMoreElementsNeeded)
  }

  onPush(): void {
    const it = this.iterator
    it._deliver(this.grab(this.in))
    if (it._wanted > 0) this.pull(this.in)
  }

  onUpstreamFinish(): void {
    this.iterator._finish(DONE_END)
    this.completeStage()
  }

  onUpstreamFailure(error: unknown): void {
    this.iterator._finish({ t: 'error', error })
    this.failStage(error)
  }

  override postStop(): void {
    this.iterator._finish({ t: 'error', error: new AbruptTerminationError(this.toString()) })
  }
}

const AS_ASYNC_ITERATOR = Attributes.named('asyncIterator')

/** Materializes a single-use `AsyncIterableIterator` over the stream. */
export class AsyncIteratorSink<T> extends GraphStageWithMaterializedValue<SinkShape<T>, StreamAsyncIterator<T>> {
  readonly shape = new SinkShape(new Inlet<T>('asyncIterator.in'))
  override get initialAttributes(): Attributes {
    return AS_ASYNC_ITERATOR
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, StreamAsyncIterator<T>] {
    const iterator = new StreamAsyncIterator<T>()
    return [new AsyncIteratorSinkLogic(this.shape, iterator), iterator]
  }
}

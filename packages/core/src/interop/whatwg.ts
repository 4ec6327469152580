/**
 * WHATWG streams interop: a source reading a `ReadableStream`, a sink writing a `WritableStream`,
 * and a sink materializing a `ReadableStream`.
 *
 * Shared contract: demand crosses over one element at a time. The source calls `reader.read()`
 * only when downstream pulls and cancels the reader (so the stream's underlying source) when the
 * stage stops before the end. The writing sink pulls only while the writer's `desiredSize` is
 * positive, otherwise after `writer.ready`; it closes the writer on completion (the promise
 * resolves once it closed) and aborts it with the error on failure. The materialized
 * `ReadableStream` pulls one element per `pull()` call, which the stream makes only while its
 * `desiredSize` is positive; cancelling it cancels the stream with `NoMoreElementsNeeded`.
 */
import {
  ReadableStream,
  type ReadableStreamDefaultController,
  type ReadableStreamDefaultReader,
  type ReadableStreamReadResult,
  type WritableStream,
  type WritableStreamDefaultWriter,
} from 'node:stream/web'
import { AbruptTerminationError, NoMoreElementsNeeded } from '../errors.js'
import { deferred, type Deferred } from '../internal/deferred.js'
import { SourceLogic } from '../sources/basic.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import { GraphStageLogic, type AsyncCallback } from '../stage/GraphStageLogic.js'
import { SourceStage } from '../stage/linear.js'
import { Inlet, SinkShape, type SourceShape } from '../stage/ports.js'

const noop = (): void => {}

// ---- fromReadableStream ----

class ReadableStreamSourceLogic<T> extends SourceLogic<T> {
  #reader: ReadableStreamDefaultReader<T> | undefined = undefined
  /** True once the reader is done (it ended, failed, or was cancelled). */
  #done = false
  /** The cause passed on to `reader.cancel` when downstream cancels. */
  #cause: unknown = undefined
  readonly #result: AsyncCallback<ReadableStreamReadResult<T>>
  readonly #failure: AsyncCallback<unknown>
  readonly #ok = (r: ReadableStreamReadResult<T>): void => {
    this.#result.invoke(r)
  }
  readonly #ko = (e: unknown): void => {
    this.#failure.invoke(e)
  }

  constructor(
    shape: SourceShape<T>,
    readonly stream: ReadableStream<T> | (() => ReadableStream<T>),
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
      const s = this.stream
      this.#reader = (typeof s === 'function' ? s() : s).getReader()
    } catch (e) {
      this.#done = true
      this.failStage(e)
    }
  }

  onPull(): void {
    this.#reader!.read().then(this.#ok, this.#ko)
  }

  onDownstreamFinish(cause: unknown): void {
    this.#cause = cause
    this.cancelStage(cause)
  }

  override postStop(): void {
    const reader = this.#reader
    if (this.#done || reader === undefined) return
    this.#done = true
    reader.cancel(this.#cause).catch(noop)
  }
}

/** Emits the chunks of a `ReadableStream` (a factory is called per materialization; a stream can be read once). */
export class ReadableStreamSource<T> extends SourceStage<T> {
  constructor(readonly stream: ReadableStream<T> | (() => ReadableStream<T>)) {
    super('fromReadableStream')
  }
  createLogic(): GraphStageLogic {
    return new ReadableStreamSourceLogic(this.shape, this.stream)
  }
}

// ---- toWritableStream ----

class WritableStreamSinkLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  #writer: WritableStreamDefaultWriter<T> | undefined = undefined
  readonly #ready: AsyncCallback<void>
  readonly #closed: AsyncCallback<void>
  readonly #failed: AsyncCallback<unknown>
  readonly #onReady = (): void => {
    this.#ready.invoke()
  }
  readonly #onClosed = (): void => {
    this.#closed.invoke()
  }
  readonly #onError = (e: unknown): void => {
    this.#failed.invoke(e)
  }

  constructor(
    shape: SinkShape<T>,
    readonly stream: WritableStream<T> | (() => WritableStream<T>),
    readonly done: Deferred<void>,
  ) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
    this.#ready = this.getAsyncCallback(() => {
      if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
    })
    this.#closed = this.getAsyncCallback(() => {
      this.done.resolve()
      this.setKeepGoing(false)
    })
    this.#failed = this.getAsyncCallback((e) => {
      this.done.reject(e)
      this.failStage(e)
    })
  }

  override preStart(): void {
    try {
      const s = this.stream
      this.#writer = (typeof s === 'function' ? s() : s).getWriter()
    } catch (e) {
      this.done.reject(e)
      return this.failStage(e)
    }
    this.#writer.closed.catch(this.#onError)
    this.#writer.ready.then(this.#onReady, this.#onError)
  }

  onPush(): void {
    const w = this.#writer!
    w.write(this.grab(this.in)).catch(this.#onError)
    const size = w.desiredSize
    if (size !== null && size > 0) this.pull(this.in)
    else w.ready.then(this.#onReady, this.#onError)
  }

  onUpstreamFinish(): void {
    // stay alive until the writer closed (everything written)
    this.setKeepGoing(true)
    this.#writer!.close().then(this.#onClosed, this.#onError)
  }

  onUpstreamFailure(error: unknown): void {
    this.done.reject(error)
    this.#abort(error)
    this.failStage(error)
  }

  override postStop(): void {
    if (this.done.settled) return
    const abrupt = new AbruptTerminationError(this.toString())
    this.done.reject(abrupt)
    this.#abort(abrupt)
  }

  #abort(error: unknown): void {
    this.#writer?.abort(error).catch(noop)
  }
}

const TO_WRITABLE_STREAM = Attributes.named('toWritableStream')

/** Writes every element into a `WritableStream`; resolves once the writer closed. */
export class WritableStreamSink<T> extends GraphStageWithMaterializedValue<SinkShape<T>, Promise<void>> {
  readonly shape = new SinkShape(new Inlet<T>('toWritableStream.in'))
  constructor(readonly stream: WritableStream<T> | (() => WritableStream<T>)) {
    super()
  }
  override get initialAttributes(): Attributes {
    return TO_WRITABLE_STREAM
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Promise<void>] {
    const done = deferred<void>()
    return [new WritableStreamSinkLogic(this.shape, this.stream, done), done.promise]
  }
}

// ---- asReadableStream ----

/** Options of `Sink.asReadableStream` / `Source.toReadableStream`. */
export interface ReadableStreamOptions {
  /** Elements the ReadableStream queues ahead of its reader (default 1: one element is requested ahead). */
  readonly highWaterMark?: number
}

class ReadableStreamSinkLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  #controller: ReadableStreamDefaultController<T> | undefined = undefined
  /** Resolves the promise of the `pull()` call being served. */
  #pulled: (() => void) | undefined = undefined
  #ended = false
  readonly request: AsyncCallback<() => void>
  readonly cancelled: AsyncCallback<void>
  constructor(shape: SinkShape<T>) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
    this.request = this.getAsyncCallback((resolve) => {
      this.#pulled = resolve
      if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
    })
    this.cancelled = this.getAsyncCallback(() => {
      this.#ended = true
      this.cancelStage(NoMoreElementsNeeded)
    })
  }
  bind(controller: ReadableStreamDefaultController<T>): void {
    this.#controller = controller
  }
  onPush(): void {
    const x = this.grab(this.in)
    try {
      this.#controller!.enqueue(x)
    } catch {
      // the reader cancelled meanwhile; its cancellation is on the way
      this.#ended = true
      return this.cancelStage(NoMoreElementsNeeded)
    }
    this.#resolvePull()
  }
  onUpstreamFinish(): void {
    this.#end(() => this.#controller!.close())
    this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.#end(() => this.#controller!.error(error))
    this.failStage(error)
  }
  override postStop(): void {
    this.#end(() => this.#controller!.error(new AbruptTerminationError(this.toString())))
  }
  #end(signal: () => void): void {
    if (this.#ended) return
    this.#ended = true
    try {
      signal()
    } catch {
      // already closed by the reader's cancellation
    }
    this.#resolvePull()
  }
  #resolvePull(): void {
    const r = this.#pulled
    this.#pulled = undefined
    r?.()
  }
}

/** Materializes a `ReadableStream` whose `pull()` requests one element of the stream. */
export class ReadableStreamSink<T> extends GraphStageWithMaterializedValue<SinkShape<T>, ReadableStream<T>> {
  readonly shape = new SinkShape(new Inlet<T>('asReadableStream.in'))
  readonly #attributes = Attributes.named('asReadableStream')
  constructor(readonly options: ReadableStreamOptions) {
    super()
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, ReadableStream<T>] {
    const logic = new ReadableStreamSinkLogic<T>(this.shape)
    const stream = new ReadableStream<T>(
      {
        start: (controller) => logic.bind(controller),
        pull: () =>
          new Promise<void>((resolve) => {
            if (!logic.request.invoke(resolve)) resolve()
          }),
        cancel: () => {
          logic.cancelled.invoke()
        },
      },
      { highWaterMark: this.options.highWaterMark ?? 1 },
    )
    return [logic, stream]
  }
}

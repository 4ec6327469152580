/**
 * Node.js stream interop: a source reading a `Readable`, a sink writing a `Writable`, a flow
 * through a `Duplex` (both directions), and a sink materializing a `Readable`.
 *
 * Shared contract: the Node stream is created by a factory once per materialization, and is
 * owned by the stage — it is destroyed when the stage stops (on cancellation, or with the error on
 * failure; after a clean end this only releases it). Backpressure crosses over in both
 * directions: a `Readable` is read (`read()`, one chunk per pull) only when downstream pulls, so
 * it buffers no more than its `highWaterMark` ahead; a `Writable` is written only while `write()`
 * returns true, then the stage waits for 'drain' before pulling again. Node stream events reach
 * the stage through async callbacks; 'error' and premature close fail the stream.
 */
import { finished, Readable, type Duplex, type Writable } from 'node:stream'
import { AbruptTerminationError, InvalidArgumentError, NoMoreElementsNeeded } from '../errors.js'
import { deferred, type Deferred } from '../internal/deferred.js'
import { SourceLogic } from '../sources/basic.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import { GraphStageLogic, type AsyncCallback } from '../stage/GraphStageLogic.js'
import { LinearStage, SourceStage } from '../stage/linear.js'
import { Inlet, SinkShape, type FlowShape, type Outlet, type SourceShape } from '../stage/ports.js'

const noop = (): void => {}

/** Stop listening to `stream` and destroy it (with `error`, if any); late 'error' events are swallowed. */
function release(stream: Readable | Writable | undefined, error: unknown): void {
  if (stream === undefined) return
  stream.on('error', noop)
  if (!stream.destroyed) stream.destroy(error === undefined ? undefined : (error as Error))
}

/** How one side of a Node stream ended: `undefined` for a clean end, otherwise the error. */
type SideEnd = (error: unknown) => void

/** Reads a `Readable` into an outlet: one `read()` per pull, waiting for 'readable' when nothing is buffered. */
class ReadSide<T> {
  #stream: Readable | undefined = undefined
  /** True while downstream pulled and `read()` found nothing: the next 'readable' event reads again. */
  #waiting = false
  #cleanup: (() => void) | undefined = undefined
  readonly #wake: AsyncCallback<void>
  readonly #end: AsyncCallback<unknown>
  readonly #onReadable = (): void => {
    if (this.#waiting) this.#wake.invoke()
  }
  readonly #onFinished = (error?: unknown): void => {
    this.#end.invoke(error ?? undefined)
  }

  constructor(
    readonly logic: GraphStageLogic,
    readonly out: Outlet<T>,
    onEnd: SideEnd,
  ) {
    this.#wake = logic.getAsyncCallback(() => {
      if (this.#waiting && this.logic.isAvailable(this.out)) this.read()
    })
    this.#end = logic.getAsyncCallback((error) => {
      this.detach()
      onEnd(error)
    })
  }

  attach(stream: Readable): void {
    this.#stream = stream
    stream.on('readable', this.#onReadable)
    this.#cleanup = finished(stream, { readable: true, writable: false }, this.#onFinished)
  }

  /** Downstream pulled: push what the stream has buffered, or wait for 'readable'. */
  read(): void {
    const x = this.#stream!.read() as T | null
    if (x === null) this.#waiting = true
    else {
      this.#waiting = false
      this.logic.push(this.out, x)
    }
  }

  detach(): void {
    this.#waiting = false
    this.#stream?.off('readable', this.#onReadable)
    const c = this.#cleanup
    this.#cleanup = undefined
    c?.()
  }
}

/** Writes an inlet's elements into a `Writable`: pulls again only while `write()` returns true, else after 'drain'. */
class WriteSide<T> {
  #stream: Writable | undefined = undefined
  /** True while `write()` returned false: 'drain' pulls again. */
  #draining = false
  #cleanup: (() => void) | undefined = undefined
  readonly #drain: AsyncCallback<void>
  readonly #end: AsyncCallback<unknown>
  readonly #onDrain = (): void => {
    if (this.#draining) this.#drain.invoke()
  }
  readonly #onFinished = (error?: unknown): void => {
    this.#end.invoke(error ?? undefined)
  }

  constructor(
    readonly logic: GraphStageLogic,
    readonly in_: Inlet<T>,
    onEnd: SideEnd,
  ) {
    this.#drain = logic.getAsyncCallback(() => {
      if (!this.#draining) return
      this.#draining = false
      if (!this.logic.isClosed(this.in_) && !this.logic.hasBeenPulled(this.in_)) this.logic.pull(this.in_)
    })
    this.#end = logic.getAsyncCallback((error) => {
      this.detach()
      onEnd(error)
    })
  }

  attach(stream: Writable): void {
    this.#stream = stream
    stream.on('drain', this.#onDrain)
    this.#cleanup = finished(stream, { readable: false, writable: true }, this.#onFinished)
  }

  /** An element arrived: write it, and pull again unless the stream asked to wait for 'drain'. */
  write(): void {
    if (this.#stream!.write(this.logic.grab(this.in_))) this.logic.pull(this.in_)
    else this.#draining = true
  }

  end(): void {
    this.#stream!.end()
  }

  detach(): void {
    this.#draining = false
    this.#stream?.off('drain', this.#onDrain)
    const c = this.#cleanup
    this.#cleanup = undefined
    c?.()
  }
}

// ---- fromReadable ----

class ReadableSourceLogic<T> extends SourceLogic<T> {
  #stream: Readable | undefined = undefined
  readonly #side: ReadSide<T>
  constructor(
    shape: SourceShape<T>,
    readonly create: () => Readable,
  ) {
    super(shape)
    this.#side = new ReadSide(this, shape.out, (error) => (error === undefined ? this.completeStage() : this.failStage(error)))
  }
  override preStart(): void {
    try {
      this.#stream = this.create()
    } catch (e) {
      return this.failStage(e)
    }
    this.#side.attach(this.#stream)
  }
  onPull(): void {
    this.#side.read()
  }
  override postStop(): void {
    this.#side.detach()
    release(this.#stream, undefined)
  }
}

/** Emits the chunks (or objects) of a `Readable` created per materialization. */
export class ReadableSource<T> extends SourceStage<T> {
  constructor(readonly create: () => Readable) {
    super('fromReadable')
  }
  createLogic(): GraphStageLogic {
    return new ReadableSourceLogic<T>(this.shape, this.create)
  }
}

// ---- toWritable ----

class WritableSinkLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  #stream: Writable | undefined = undefined
  /** The error to destroy the stream with when the stage stops. */
  #error: unknown = undefined
  readonly #side: WriteSide<T>
  constructor(
    shape: SinkShape<T>,
    readonly create: () => Writable,
    readonly done: Deferred<void>,
  ) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
    this.#side = new WriteSide(this, shape.in, this.#onWriteEnd)
  }
  override preStart(): void {
    try {
      this.#stream = this.create()
    } catch (e) {
      this.done.reject(e)
      return this.failStage(e)
    }
    this.#side.attach(this.#stream)
    this.pull(this.in)
  }
  onPush(): void {
    this.#side.write()
  }
  onUpstreamFinish(): void {
    // stay alive until the stream flushed everything ('finish')
    this.setKeepGoing(true)
    this.#side.end()
  }
  onUpstreamFailure(error: unknown): void {
    this.#error = error
    this.done.reject(error)
    this.failStage(error)
  }
  readonly #onWriteEnd = (error: unknown): void => {
    if (error !== undefined) {
      this.done.reject(error)
      return this.failStage(error)
    }
    this.done.resolve()
    if (!this.isClosed(this.in)) this.cancel(this.in, NoMoreElementsNeeded)
    this.setKeepGoing(false)
  }
  override postStop(): void {
    this.#side.detach()
    if (!this.done.settled) {
      const abrupt = new AbruptTerminationError(this.toString())
      this.#error ??= abrupt
      this.done.reject(abrupt)
    }
    release(this.#stream, this.#error)
  }
}

const TO_WRITABLE = Attributes.named('toWritable')

/** Writes every element into a `Writable` created per materialization; resolves once it finished. */
export class WritableSink<T> extends GraphStageWithMaterializedValue<SinkShape<T>, Promise<void>> {
  readonly shape = new SinkShape(new Inlet<T>('toWritable.in'))
  constructor(readonly create: () => Writable) {
    super()
  }
  override get initialAttributes(): Attributes {
    return TO_WRITABLE
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Promise<void>] {
    const done = deferred<void>()
    return [new WritableSinkLogic(this.shape, this.create, done), done.promise]
  }
}

// ---- fromDuplex ----

class DuplexFlowLogic<I, O> extends GraphStageLogic {
  readonly in: Inlet<I>
  readonly out: Outlet<O>
  #stream: Duplex | undefined = undefined
  #error: unknown = undefined
  readonly #reader: ReadSide<O>
  readonly #writer: WriteSide<I>
  constructor(
    shape: FlowShape<I, O>,
    readonly create: () => Duplex,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.setHandlers(shape.in, shape.out, this)
    this.#reader = new ReadSide(this, shape.out, this.#onReadEnd)
    this.#writer = new WriteSide(this, shape.in, this.#onWriteEnd)
  }
  override preStart(): void {
    try {
      this.#stream = this.create()
    } catch (e) {
      return this.failStage(e)
    }
    this.#reader.attach(this.#stream)
    this.#writer.attach(this.#stream)
    this.pull(this.in)
  }
  onPush(): void {
    this.#writer.write()
  }
  onPull(): void {
    this.#reader.read()
  }
  onUpstreamFinish(): void {
    // half-close: the readable side goes on; the stage lives until the writable side finished
    this.setKeepGoing(true)
    this.#writer.end()
  }
  onUpstreamFailure(error: unknown): void {
    this.#error = error
    this.failStage(error)
  }
  onDownstreamFinish(cause: unknown): void {
    this.cancelStage(cause)
  }
  readonly #onReadEnd = (error: unknown): void => {
    if (error !== undefined) return this.failStage(error)
    this.complete(this.out)
  }
  readonly #onWriteEnd = (error: unknown): void => {
    if (error !== undefined) return this.failStage(error)
    if (!this.isClosed(this.in)) this.cancel(this.in, NoMoreElementsNeeded)
    this.setKeepGoing(false)
  }
  override postStop(): void {
    this.#reader.detach()
    this.#writer.detach()
    release(this.#stream, this.#error)
  }
}

/** Writes elements into a `Duplex` and emits what it reads from it; the duplex is created per materialization. */
export class DuplexFlow<I, O> extends LinearStage<I, O> {
  constructor(readonly create: () => Duplex) {
    super('fromDuplex')
  }
  createLogic(): GraphStageLogic {
    return new DuplexFlowLogic<I, O>(this.shape, this.create)
  }
}

// ---- asReadable ----

/** Options of `Sink.asReadable` / `Source.toReadable`. */
export interface ReadableOptions {
  /** Object mode (default true); with false, elements must be `Uint8Array`s or strings. */
  readonly objectMode?: boolean
  /** The Readable's `highWaterMark` (default: Node's). */
  readonly highWaterMark?: number
}

class ReadableSinkLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  #readable: Readable | undefined = undefined
  #ended = false
  readonly request: AsyncCallback<void>
  readonly destroyed: AsyncCallback<unknown>
  constructor(shape: SinkShape<T>) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
    this.request = this.getAsyncCallback(() => {
      if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
    })
    this.destroyed = this.getAsyncCallback((error) => {
      this.#ended = true
      this.cancelStage(error ?? NoMoreElementsNeeded)
    })
  }
  bind(readable: Readable): void {
    this.#readable = readable
  }
  onPush(): void {
    const x = this.grab(this.in)
    if (x === null) return this.failStage(new InvalidArgumentError('element', x, 'not null (null ends a Readable)'))
    this.#readable!.push(x)
  }
  onUpstreamFinish(): void {
    this.#ended = true
    this.#readable!.push(null)
    this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.#ended = true
    this.#readable!.destroy(error as Error)
    this.failStage(error)
  }
  override postStop(): void {
    const r = this.#readable!
    if (!this.#ended && !r.destroyed) r.destroy(new AbruptTerminationError(this.toString()))
  }
}

/** Materializes a `Readable` that reads the stream: each `_read` pulls one element. */
export class ReadableSink<T> extends GraphStageWithMaterializedValue<SinkShape<T>, Readable> {
  readonly shape = new SinkShape(new Inlet<T>('asReadable.in'))
  readonly #attributes = Attributes.named('asReadable')
  constructor(readonly options: ReadableOptions) {
    super()
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Readable] {
    const logic = new ReadableSinkLogic<T>(this.shape)
    const { objectMode = true, highWaterMark } = this.options
    const readable = new Readable({
      objectMode,
      ...(highWaterMark === undefined ? {} : { highWaterMark }),
      read: () => {
        logic.request.invoke()
      },
      destroy: (error, callback) => {
        logic.destroyed.invoke(error ?? undefined)
        callback(error)
      },
    })
    logic.bind(readable)
    return [logic, readable]
  }
}

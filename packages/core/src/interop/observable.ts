/**
 * rxjs interop: a source fed by an Observable, and a sink that hands a stream to one Observable subscriber.
 *
 * Shared contract: rxjs has no backpressure, so `fromObservable` puts an explicit bounded buffer
 * between the Observable and the stream, and an overflow strategy says what happens when it is
 * full ('backpressure' is impossible: nothing can slow an Observable down). The Observable is
 * subscribed when the stage starts and unsubscribed on cancellation and teardown; its `error`
 * fails the stream at once (buffered elements are dropped), its `complete` completes the stream
 * once the buffer was emitted. The other way round, `asObservable` requests one element at a time
 * as the subscriber receives them; unsubscribing cancels the stream with `NoMoreElementsNeeded`.
 */
import { Observable, type Subscribable, type Subscriber, type Unsubscribable } from 'rxjs'
import { AbruptTerminationError, BufferOverflowError, InvalidArgumentError, NoMoreElementsNeeded, StageProtocolError } from '../errors.js'
import { RingBuffer, makeRoom } from '../internal/RingBuffer.js'
import type { OverflowStrategy } from '../ops/buffer.js'
import { SourceLogic } from '../sources/basic.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import { GraphStageLogic, type AsyncCallback } from '../stage/GraphStageLogic.js'
import { SourceStage } from '../stage/linear.js'
import { Inlet, SinkShape, type SourceShape } from '../stage/ports.js'

/** What `fromObservable` does when an element arrives and its buffer is full ('backpressure' cannot apply to an Observable). */
export type ObservableOverflowStrategy = Exclude<OverflowStrategy, 'backpressure'>

/** The buffer between an Observable and the stream it feeds. Both fields are required: there is no safe default. */
export interface FromObservableOptions {
  /** Elements held while downstream does not pull (an integer ≥ 1). */
  readonly bufferSize: number
  /** What to drop (or whether to fail with `BufferOverflowError`) when the buffer is full. */
  readonly overflowStrategy: ObservableOverflowStrategy
}

/** An rxjs Observable, or anything with an rxjs-compatible `subscribe(observer)`. */
export type ObservableLike<T> = Observable<T> | Subscribable<T>

const STRATEGIES: readonly ObservableOverflowStrategy[] = ['dropHead', 'dropTail', 'dropBuffer', 'dropNew', 'fail']

/** How the Observable ended, while buffered elements may still wait for demand. */
type ObservableEnd = { readonly t: 'complete' } | { readonly t: 'error'; readonly error: unknown }
const COMPLETE: ObservableEnd = { t: 'complete' }

class ObservableSourceLogic<T> extends SourceLogic<T> {
  readonly #buffer: RingBuffer<T>
  readonly #strategy: ObservableOverflowStrategy
  readonly #wake: AsyncCallback<void>
  #subscription: Unsubscribable | undefined = undefined
  #end: ObservableEnd | undefined = undefined
  /** True once the stage no longer listens (cancelled, failed or stopped). */
  #closed = false
  /** True while a wake-up is queued: the logic will look at the buffer and the end. */
  #signalled = false
  readonly #observer = {
    next: (x: T): void => this.#onNext(x),
    error: (e: unknown): void => this.#onEnd({ t: 'error', error: e }),
    complete: (): void => this.#onEnd(COMPLETE),
  }

  constructor(
    shape: SourceShape<T>,
    readonly stage: ObservableSource<T>,
  ) {
    super(shape)
    this.#buffer = new RingBuffer(stage.bufferSize)
    this.#strategy = stage.overflowStrategy
    this.#wake = this.getAsyncCallback(this.#onWake)
  }

  override preStart(): void {
    let subscription: Unsubscribable
    try {
      subscription = this.stage.observable.subscribe(this.#observer)
    } catch (e) {
      this.#closed = true
      return this.failStage(e)
    }
    // the Observable may have ended (or overflowed) synchronously inside `subscribe`
    if (this.#closed || this.#end !== undefined) subscription.unsubscribe()
    else this.#subscription = subscription
  }

  onPull(): void {
    this.#drain()
  }

  onDownstreamFinish(cause: unknown): void {
    this.#close()
    this.cancelStage(cause)
  }

  override postStop(): void {
    this.#close()
    this.#buffer.clear()
  }

  // ---- called by the Observable (outside the stream's turn): touch the buffer, then wake the logic ----

  #onNext(x: T): void {
    if (this.#closed || this.#end !== undefined) return
    const buffer = this.#buffer
    const wasEmpty = buffer.isEmpty
    if (buffer.isFull) {
      const room = makeRoom(buffer, this.#strategy)
      if (room === 'drop-new') return
      if (room === 'fail') return this.#onEnd({ t: 'error', error: new BufferOverflowError(buffer.capacity) })
    }
    buffer.push(x)
    // a non-empty buffer already has a wake-up queued, or waits for the next pull
    if (wasEmpty) this.#signal()
  }

  #onEnd(end: ObservableEnd): void {
    if (this.#closed || this.#end !== undefined) return
    this.#end = end
    this.#unsubscribe()
    this.#signal()
  }

  #signal(): void {
    if (this.#signalled) return
    this.#signalled = true
    this.#wake.invoke()
  }

  // ---- inside the stream ----

  readonly #onWake = (): void => {
    this.#signalled = false
    this.#drain()
  }

  #drain(): void {
    const buffer = this.#buffer
    const end = this.#end
    if (end !== undefined && end.t === 'error') {
      this.#closed = true
      return this.failStage(end.error)
    }
    if (!buffer.isEmpty && this.isAvailable(this.out)) this.push(this.out, buffer.shift())
    if (end !== undefined && buffer.isEmpty) {
      this.#closed = true
      this.completeStage()
    }
  }

  #close(): void {
    this.#closed = true
    this.#unsubscribe()
  }

  #unsubscribe(): void {
    const s = this.#subscription
    this.#subscription = undefined
    s?.unsubscribe()
  }
}

/** Emits what an Observable emits, through a bounded buffer with an overflow strategy. */
export class ObservableSource<T> extends SourceStage<T> {
  readonly bufferSize: number
  readonly overflowStrategy: ObservableOverflowStrategy
  constructor(
    readonly observable: ObservableLike<T>,
    options: FromObservableOptions,
  ) {
    super('fromObservable')
    const { bufferSize, overflowStrategy } = options
    if (!(Number.isInteger(bufferSize) && bufferSize >= 1)) throw new InvalidArgumentError('bufferSize', bufferSize, 'an integer of at least 1')
    if (!STRATEGIES.includes(overflowStrategy)) {
      throw new InvalidArgumentError('overflowStrategy', overflowStrategy, `one of ${STRATEGIES.join(', ')}`)
    }
    this.bufferSize = bufferSize
    this.overflowStrategy = overflowStrategy
  }
  createLogic(): GraphStageLogic {
    return new ObservableSourceLogic(this.shape, this)
  }
}

// ---- asObservable: a stream delivered to one subscriber ----

/**
 * The materialized side of `asObservable`: remembers the one subscriber and how the stream ended,
 * so a subscriber that arrives after the end still hears it.
 */
class ObservableHandle<T> {
  subscriber: Subscriber<T> | undefined = undefined
  #subscribed = false
  #end: ObservableEnd | undefined = undefined
  #attach: AsyncCallback<void> | undefined = undefined
  #detach: AsyncCallback<void> | undefined = undefined

  constructor(readonly port: string) {}

  bind(attach: AsyncCallback<void>, detach: AsyncCallback<void>): void {
    this.#attach = attach
    this.#detach = detach
  }

  /** The body of the materialized Observable's subscribe function; returns its teardown. */
  subscribe(subscriber: Subscriber<T>): (() => void) | undefined {
    if (this.#subscribed) {
      subscriber.error(new StageProtocolError(this.port, 'subscribe to', 'it already has its one subscriber (use Source.toObservable for a stream per subscriber)'))
      return undefined
    }
    this.#subscribed = true
    this.subscriber = subscriber
    const end = this.#end
    if (end !== undefined) {
      deliverEnd(subscriber, end)
      return undefined
    }
    this.#attach!.invoke()
    return () => this.#detach!.invoke()
  }

  /** Record how the stream ended and tell the subscriber, if any; only the first end counts. */
  end(end: ObservableEnd): void {
    if (this.#end !== undefined) return
    this.#end = end
    const s = this.subscriber
    if (s !== undefined) deliverEnd(s, end)
  }
}

function deliverEnd(subscriber: Subscriber<unknown>, end: ObservableEnd): void {
  if (end.t === 'complete') subscriber.complete()
  else subscriber.error(end.error)
}

class ObservableSinkLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  constructor(
    shape: SinkShape<T>,
    readonly handle: ObservableHandle<T>,
  ) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
    handle.bind(this.getAsyncCallback(this.#onAttach), this.getAsyncCallback(this.#onDetach))
  }

  readonly #onAttach = (): void => {
    if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
  }

  readonly #onDetach = (): void => {
    this.cancelStage(NoMoreElementsNeeded)
  }

  onPush(): void {
    const s = this.handle.subscriber!
    s.next(this.grab(this.in))
    // the subscriber may have unsubscribed while handling the element
    if (s.closed) this.cancelStage(NoMoreElementsNeeded)
    else this.pull(this.in)
  }

  onUpstreamFinish(): void {
    this.handle.end(COMPLETE)
    this.completeStage()
  }

  onUpstreamFailure(error: unknown): void {
    this.handle.end({ t: 'error', error })
    this.failStage(error)
  }

  override postStop(): void {
    this.handle.end({ t: 'error', error: new AbruptTerminationError(this.toString()) })
  }
}

/** A cold Observable: each subscription runs `materialize` (a fresh stream) and subscribes to its result. */
export function coldObservable<T>(materialize: () => Observable<T>): Observable<T> {
  return new Observable<T>((subscriber) => materialize().subscribe(subscriber))
}

const AS_OBSERVABLE = Attributes.named('asObservable')

/** Materializes a cold-once Observable: its one subscriber receives the stream's elements as it takes them. */
export class ObservableSink<T> extends GraphStageWithMaterializedValue<SinkShape<T>, Observable<T>> {
  readonly shape = new SinkShape(new Inlet<T>('asObservable.in'))
  override get initialAttributes(): Attributes {
    return AS_OBSERVABLE
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Observable<T>] {
    const handle = new ObservableHandle<T>(this.shape.in.name)
    const logic = new ObservableSinkLogic(this.shape, handle)
    return [logic, new Observable<T>((subscriber) => handle.subscribe(subscriber))]
  }
}

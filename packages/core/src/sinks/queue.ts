/**
 * `Sink.queue`: a sink read from outside the stream through a materialized {@link SinkQueue}.
 *
 * Contract: `pull()` resolves with `some(element)` in stream order, with `none` once the stream
 * completed (or the queue was cancelled), and rejects with the stream's error once it failed —
 * elements that arrived before the end are still handed out first. The sink prefetches: it keeps
 * requesting from upstream while fewer than its buffer size (the `inputBuffer` attribute's max,
 * default {@link SINK_QUEUE_DEFAULT_BUFFER}) elements wait, so a `pull()` is usually answered at
 * once. The buffer is shared by the handle and the stage (one JS thread); the handle wakes the
 * stage through its AsyncCallback only when the stage had stopped requesting because the buffer
 * was full. At most `maxConcurrentPulls` pulls may be unsettled; a further one rejects with
 * {@link QueueConcurrencyError}. `cancel()` cancels upstream (a non-failure cause); unsettled and
 * later pulls resolve with `none`. If the stream is torn down, unsettled and later pulls reject with
 * `AbruptTerminationError`.
 */
import * as O from 'fp-ts/lib/Option.js'
import { AbruptTerminationError, InvalidArgumentError, NoMoreElementsNeeded, QueueConcurrencyError } from '../errors.js'
import { RingBuffer } from '../internal/RingBuffer.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import { GraphStageLogic, type AsyncCallback, type InHandler } from '../stage/GraphStageLogic.js'
import { Inlet, SinkShape } from '../stage/ports.js'

/** Elements `Sink.queue` prefetches unless the `inputBuffer` attribute says otherwise. */
export const SINK_QUEUE_DEFAULT_BUFFER = 16

type SinkQueueState =
  | { readonly t: 'running' }
  | { readonly t: 'completed' }
  /** The handle's `cancel()`: the stream ends, pulls answer `none`. */
  | { readonly t: 'cancelled' }
  | { readonly t: 'failed'; readonly error: unknown }

const RUNNING: SinkQueueState = { t: 'running' }
const COMPLETED: SinkQueueState = { t: 'completed' }
const CANCELLED: SinkQueueState = { t: 'cancelled' }

interface WaitingPull<T> {
  readonly resolve: (x: O.Option<T>) => void
  readonly reject: (e: unknown) => void
}

type Command = 'pull' | 'cancel'

const NONE: Promise<O.Option<never>> = Promise.resolve(O.none)

/** @internal the stage's logic; {@link SinkQueue} is its public face. */
export class QueueSinkLogic<T> extends GraphStageLogic implements InHandler {
  readonly in: Inlet<T>
  readonly #buffer: RingBuffer<T>
  readonly #pulls: RingBuffer<WaitingPull<T>>
  readonly #maxPulls: number
  readonly #command: AsyncCallback<Command>
  #state: SinkQueueState = RUNNING
  /** The buffer was full, so upstream is not being pulled: taking an element must wake the stage. */
  #idle = false

  constructor(shape: SinkShape<T>, bufferSize: number, maxConcurrentPulls: number) {
    super(shape)
    this.in = shape.in
    this.#buffer = new RingBuffer<T>(bufferSize)
    this.#pulls = new RingBuffer<WaitingPull<T>>(maxConcurrentPulls)
    this.#maxPulls = maxConcurrentPulls
    this.#command = this.getAsyncCallback(this.#onCommand)
    this.setHandler(shape.in, this)
  }

  // ---- the handle's side: called from outside the stream, touching the buffer and the state only ----

  take(): Promise<O.Option<T>> {
    const buffer = this.#buffer
    if (!buffer.isEmpty) {
      const x = buffer.shift()
      if (this.#idle) {
        this.#idle = false
        this.#command.invoke('pull')
      }
      return Promise.resolve(O.some(x))
    }
    const s = this.#state
    switch (s.t) {
      case 'completed':
      case 'cancelled':
        return NONE
      case 'failed':
        return Promise.reject(s.error)
      case 'running':
        if (this.#pulls.length >= this.#maxPulls) return Promise.reject(new QueueConcurrencyError('pull', this.#maxPulls))
        return new Promise((resolve, reject) => this.#pulls.push({ resolve, reject }))
    }
  }

  cancelQueue(): void {
    if (this.#state.t !== 'running') return
    this.#end(CANCELLED)
    this.#buffer.clear()
    this.#command.invoke('cancel')
  }

  // ---- the stage's side ----

  override preStart(): void {
    this.pull(this.in)
  }

  onPush(): void {
    const x = this.grab(this.in)
    if (!this.#pulls.isEmpty) this.#pulls.shift().resolve(O.some(x))
    else this.#buffer.push(x)
    if (this.#buffer.isFull) this.#idle = true
    else this.pull(this.in)
  }

  onUpstreamFinish(): void {
    this.#end(COMPLETED)
    this.completeStage()
  }

  onUpstreamFailure(error: unknown): void {
    this.#end({ t: 'failed', error })
    this.failStage(error)
  }

  override postStop(): void {
    // torn down without a word from upstream or the handle (e.g. the materializer shut down)
    if (this.#state.t === 'running') this.#end({ t: 'failed', error: new AbruptTerminationError(this.toString()) })
  }

  #onCommand(command: Command): void {
    if (command === 'cancel') this.cancelStage(NoMoreElementsNeeded)
    else if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
  }

  /** Move to a final state (once) and settle the waiting pulls accordingly; they exist only while the buffer is empty. */
  #end(state: SinkQueueState): void {
    if (this.#state.t !== 'running') return
    this.#state = state
    this.#idle = false
    const pulls = this.#pulls
    while (!pulls.isEmpty) {
      const p = pulls.shift()
      if (state.t === 'failed') p.reject(state.error)
      else p.resolve(O.none)
    }
  }
}

/** The handle of a running `Sink.queue`: pull elements one promise at a time, or cancel. */
export class SinkQueue<T> {
  readonly #logic: QueueSinkLogic<T>
  /** @internal created by the stage for each materialization. */
  constructor(logic: QueueSinkLogic<T>) {
    this.#logic = logic
  }
  /**
   * The next element as `some(x)`; `none` once the stream completed or the queue was cancelled; rejects with the
   * stream's error once it failed, and with `QueueConcurrencyError` if `maxConcurrentPulls` pulls are unsettled.
   */
  pull(): Promise<O.Option<T>> {
    return this.#logic.take()
  }
  /** Cancel upstream (not a failure); unsettled and later pulls resolve with `none`. Idempotent. */
  cancel(): void {
    this.#logic.cancelQueue()
  }
}

const ATTRIBUTES = Attributes.named('queue')

export class QueueSink<T> extends GraphStageWithMaterializedValue<SinkShape<T>, SinkQueue<T>> {
  readonly shape = new SinkShape(new Inlet<T>('queue.in'))
  constructor(readonly maxConcurrentPulls: number) {
    super()
    if (!(Number.isInteger(maxConcurrentPulls) && maxConcurrentPulls >= 1)) {
      throw new InvalidArgumentError('maxConcurrentPulls', maxConcurrentPulls, 'a positive integer')
    }
  }
  override get initialAttributes(): Attributes {
    return ATTRIBUTES
  }
  createLogicAndMaterializedValue(attributes: Attributes): readonly [GraphStageLogic, SinkQueue<T>] {
    const size = attributes.values.inputBuffer?.max ?? SINK_QUEUE_DEFAULT_BUFFER
    if (!(Number.isInteger(size) && size >= 1)) throw new InvalidArgumentError('inputBuffer', size, 'a positive integer')
    const logic = new QueueSinkLogic<T>(this.shape, size, this.maxConcurrentPulls)
    return [logic, new SinkQueue(logic)]
  }
}

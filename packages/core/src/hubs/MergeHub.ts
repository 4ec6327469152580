/**
 * MergeHub: a dynamic set of producers, one consumer; the elements of all producers are merged.
 *
 * The hubs' shared contract is stated in BroadcastHub.ts: one shared core of plain data per
 * running hub, joins recorded on it synchronously, port moves only inside their own stage, woken
 * through AsyncCallbacks.
 *
 * MergeHub specifics:
 * - the hub is a source; it materializes a `Sink` that may be run any number of times, each run
 *   attaching one producer. All producers' elements go through one shared queue, in arrival
 *   order, and are emitted as the hub's downstream pulls;
 * - each producer may have at most `perProducerBufferSize` elements in the hub (queued or
 *   requested): it pulls its upstream only within that credit, and gets credit back as the hub
 *   emits its elements (in batches of half the buffer, so a steady stream does not wake it per
 *   element). A slow hub consumer therefore backpressures every producer;
 * - a producer that completes or fails simply detaches (its elements already in the hub are
 *   still emitted); the hub itself never completes on its own — except after
 *   `drainAndComplete()` (see {@link MergeHub.sourceWithDraining}): new producers are then
 *   refused, and the hub completes once the attached ones completed and their elements were emitted;
 * - when the hub stops (its downstream cancels, or the stream is torn down), every attached
 *   producer cancels its upstream with the same cause, and producers that attach later cancel
 *   at once (with `StageWasCompleted` when the hub had completed after draining).
 */
import { AbruptTerminationError, InvalidArgumentError, StageWasCompleted } from '../errors.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue, type NotUsed } from '../stage/GraphStage.js'
import { GraphStageLogic, type AsyncCallback, type InHandler } from '../stage/GraphStageLogic.js'
import { Inlet, Outlet, SinkShape, SourceShape } from '../stage/ports.js'
import { SourceLogic } from '../sources/basic.js'
import { Sink } from '../Sink.js'
import { Source } from '../Source.js'
import { RingBuffer } from '../internal/RingBuffer.js'
import { SlotSet, type Slotted } from '../internal/SlotSet.js'

/** Starts the draining of a hub made by {@link MergeHub.sourceWithDraining}. */
export interface DrainingControl {
  /**
   * Refuse producers that start from now on (they cancel at once) and complete the hub once every
   * attached producer completed and its elements were emitted. Idempotent; ignored once the hub
   * stopped. A producer that was run but has not started yet counts as a new one.
   */
  drainAndComplete(): void
}

type MergeState = { readonly t: 'open' } | { readonly t: 'draining' } | { readonly t: 'closed'; readonly cause: unknown }

const OPEN: MergeState = { t: 'open' }
const DRAINING: MergeState = { t: 'draining' }

/** One producer's credit, shared by its logic (which spends it) and the core (which returns it). */
class Producer implements Slotted {
  /** @internal its index among the hub's producers */
  _slot = -1
  /** Elements the producer may still request from its upstream. */
  credit: number
  /** The producer ran out of credit and is not pulling: wake it once enough credit came back. */
  blocked = false
  constructor(
    credit: number,
    readonly wake: AsyncCallback<void>,
  ) {
    this.credit = credit
  }
}

/** The shared state of one running hub: the merged queue (producer, element, producer, element …) and the producers. */
class MergeCore<T> {
  #state: MergeState = OPEN
  readonly #queue = new RingBuffer<unknown>(Infinity, 32)
  /**
   * A hub may live long while producers come and go: in a `Set` each producer, and the stream its
   * wake reaches, was promoted to the old generation (see SlotSet).
   */
  readonly #producers = new SlotSet<Producer>()
  #consumerWaiting = false
  readonly creditBatch: number

  constructor(
    readonly perProducer: number,
    readonly consumerWake: AsyncCallback<void>,
  ) {
    this.creditBatch = Math.ceil(perProducer / 2)
  }

  get state(): MergeState {
    return this.#state
  }

  // ---- producers ----

  /** Attach `p`; returns the state that refused it, or undefined once attached. */
  join(p: Producer): MergeState | undefined {
    if (this.#state.t !== 'open') return this.#state
    this.#producers.add(p)
    return undefined
  }

  enqueue(p: Producer, x: T): void {
    if (this.#state.t === 'closed') return // the producer's cancellation is on its way
    this.#queue.push(p)
    this.#queue.push(x)
    this.#wakeConsumer()
  }

  leave(p: Producer): void {
    if (!this.#producers.delete(p)) return
    p.blocked = false
    if (this.#state.t === 'draining' && this.#producers.size === 0) this.#wakeConsumer()
  }

  // ---- the hub's logic ----

  get isEmpty(): boolean {
    return this.#queue.isEmpty
  }

  /** The next element; gives its producer one credit back. The queue must not be empty. */
  dequeue(): T {
    const p = this.#queue.shift() as Producer
    const x = this.#queue.shift() as T
    const credit = ++p.credit
    if (p.blocked && credit >= this.creditBatch) {
      p.blocked = false
      p.wake.invoke()
    }
    return x
  }

  /** The hub pulled and the queue is empty: wake it on the next element (or end of draining). */
  await(): void {
    this.#consumerWaiting = true
  }

  /** Draining and nothing left: the hub may complete. */
  get drained(): boolean {
    return this.#state.t === 'draining' && this.#producers.size === 0 && this.#queue.isEmpty
  }

  drain(): void {
    if (this.#state.t !== 'open') return
    this.#state = DRAINING
    this.#consumerWaiting = false
    this.consumerWake.invoke()
  }

  /** The hub stopped: every producer cancels with `cause`. */
  close(cause: unknown): void {
    if (this.#state.t === 'closed') return
    this.#state = { t: 'closed', cause }
    this.#queue.clear()
    for (const p of this.#producers) p.wake.invoke()
    this.#producers.clear()
  }

  #wakeConsumer(): void {
    if (!this.#consumerWaiting) return
    this.#consumerWaiting = false
    this.consumerWake.invoke()
  }
}

// ---- the hub: a source emitting the merged elements ----

class MergeHubLogic<T> extends SourceLogic<T> {
  readonly core: MergeCore<T>
  /** Why the hub stopped, for the producers; unset while running. */
  #cause: unknown = undefined
  constructor(shape: SourceShape<T>, perProducer: number) {
    super(shape)
    this.core = new MergeCore<T>(perProducer, this.getAsyncCallback(this.#onWake))
  }
  onPull(): void {
    this.#emit()
  }
  onDownstreamFinish(cause: unknown): void {
    this.#cause = cause
    this.cancelStage(cause)
  }
  override postStop(): void {
    this.core.close(this.#cause ?? new AbruptTerminationError(this.toString()))
  }

  #emit(): void {
    const core = this.core
    if (!core.isEmpty) {
      this.push(this.out, core.dequeue())
      if (core.drained) this.#complete() // that was the last element: completion needs no demand
    } else if (core.drained) this.#complete()
    else core.await()
  }

  #onWake(): void {
    if (this.isAvailable(this.out)) this.#emit()
    else if (this.core.drained) this.#complete()
  }

  #complete(): void {
    this.#cause = StageWasCompleted
    this.completeStage()
  }
}

// ---- a producer: a sink feeding the core within its credit ----

class MergeProducerLogic<T> extends GraphStageLogic implements InHandler {
  readonly in: Inlet<T>
  readonly #core: MergeCore<T>
  readonly #producer: Producer
  constructor(shape: SinkShape<T>, core: MergeCore<T>) {
    super(shape)
    this.in = shape.in
    this.#core = core
    this.#producer = new Producer(core.perProducer, this.getAsyncCallback(this.#onWake))
    this.setHandler(shape.in, this)
  }
  override preStart(): void {
    const refused = this.#core.join(this.#producer)
    if (refused === undefined) this.#pullWithinCredit()
    else this.#cancelFor(refused)
  }
  onPush(): void {
    this.#core.enqueue(this.#producer, this.grab(this.in))
    this.#pullWithinCredit()
  }
  override postStop(): void {
    this.#core.leave(this.#producer)
  }

  #pullWithinCredit(): void {
    const p = this.#producer
    if (p.credit > 0) {
      p.credit--
      this.pull(this.in)
    } else p.blocked = true
  }

  #onWake(): void {
    const state = this.#core.state
    if (state.t === 'closed') this.#cancelFor(state)
    else if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.#pullWithinCredit()
  }

  #cancelFor(state: MergeState): void {
    this.cancelStage(state.t === 'closed' ? state.cause : StageWasCompleted)
  }
}

const HUB_ATTRIBUTES = Attributes.named('MergeHub')
const PRODUCER_ATTRIBUTES = Attributes.named('MergeHub.producer')

class MergeProducerStage<T> extends GraphStageWithMaterializedValue<SinkShape<T>, NotUsed> {
  readonly shape = new SinkShape(new Inlet<T>('MergeHub.in'))
  constructor(readonly core: MergeCore<T>) {
    super()
  }
  override get initialAttributes(): Attributes {
    return PRODUCER_ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, NotUsed] {
    return [new MergeProducerLogic(this.shape, this.core), undefined]
  }
}

class DrainingControlImpl implements DrainingControl {
  constructor(readonly core: MergeCore<unknown>) {}
  drainAndComplete(): void {
    this.core.drain()
  }
}

class MergeHubStage<T> extends GraphStageWithMaterializedValue<SourceShape<T>, readonly [Sink<T, NotUsed>, DrainingControl]> {
  readonly shape = new SourceShape(new Outlet<T>('MergeHub.out'))
  constructor(readonly perProducerBufferSize: number) {
    super()
  }
  override get initialAttributes(): Attributes {
    return HUB_ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, readonly [Sink<T, NotUsed>, DrainingControl]] {
    const logic = new MergeHubLogic<T>(this.shape, this.perProducerBufferSize)
    const core = logic.core
    return [logic, [Sink.fromGraph(new MergeProducerStage(core)), new DrainingControlImpl(core)]]
  }
}

function checkBufferSize(perProducerBufferSize: number): number {
  if (!(Number.isInteger(perProducerBufferSize) && perProducerBufferSize >= 1)) {
    throw new InvalidArgumentError('perProducerBufferSize', perProducerBufferSize, 'a positive integer')
  }
  return perProducerBufferSize
}

// ---- the public factory ----

export const MergeHub = {
  /**
   * A source that merges the elements of a dynamic set of producers: it materializes a `Sink` that may be run any
   * number of times, at any time; each run attaches a producer (see the file header for credit and endings).
   * - Emits when: an element of some producer is queued in the hub (in arrival order)
   * - Backpressures when: downstream backpressures (each producer is then held to `perProducerBufferSize` elements)
   * - Completes when: never (see `sourceWithDraining`); producers completing or failing only detach
   * - Cancels when: downstream cancels — every producer, present and future, then cancels its upstream
   * @example
   * ```ts
   * const publish = MergeHub.source<string>().to(Sink.foreach(console.log)).run()
   * Source.single('a').runWith(publish)
   * Source.from(['b', 'c']).runWith(publish) // a, b, c in some interleaving
   * ```
   */
  source<T>(perProducerBufferSize = 16): Source<T, Sink<T, NotUsed>> {
    return MergeHub.sourceWithDraining<T>(perProducerBufferSize).mapMaterializedValue(([sink]) => sink)
  },

  /**
   * Like {@link MergeHub.source}, also materializing a {@link DrainingControl}: after `drainAndComplete()` new
   * producers are refused and the hub completes once the attached ones completed and their elements were emitted.
   * - Emits when: an element of some producer is queued in the hub (in arrival order)
   * - Backpressures when: downstream backpressures
   * - Completes when: draining was requested, every attached producer completed, and their elements were emitted
   * - Cancels when: downstream cancels — every producer, present and future, then cancels its upstream
   * @example
   * ```ts
   * const [[sink, draining], done] = MergeHub.sourceWithDraining<number>().toMat(Sink.seq(), Keep.both).run()
   * await Source.from([1, 2]).watchTermination(Keep.right).to(sink).run() // the producer attached and finished
   * draining.drainAndComplete()
   * await done // [1, 2]
   * ```
   */
  sourceWithDraining<T>(perProducerBufferSize = 16): Source<T, readonly [Sink<T, NotUsed>, DrainingControl]> {
    return Source.fromGraph(new MergeHubStage<T>(checkBufferSize(perProducerBufferSize)))
  },
} as const

/**
 * PartitionHub: one producer, a dynamic set of consumers; each element goes to one consumer,
 * chosen by a partitioner.
 *
 * The hubs' shared contract is stated in BroadcastHub.ts: one shared core of plain data per
 * running hub, joins recorded on it synchronously, port moves only inside their own stage, woken
 * through AsyncCallbacks.
 *
 * PartitionHub specifics:
 * - each consumer has its own queue; `bufferSize` bounds the total of all queues plus the
 *   elements held for later routing, and the producer is pulled only below it — so a slow
 *   consumer backpressures the producer once its queue has taken up the buffer;
 * - the partitioner runs in the hub's own stage, never with zero consumers: elements that arrive
 *   before `startAfterNrOfConsumers` consumers have attached (counted once, at start-up), or
 *   while none is attached, are held and routed when consumers are there. It returns a consumer
 *   index (`sink`) or id (`statefulSink`), or a negative number to drop the element; a consumer
 *   that is not attached fails the hub with {@link InvalidPartitionError}. Errors of the
 *   partitioner follow the supervision decider: `resume` and `restart` drop the element;
 * - a consumer that leaves drops what was queued for it; the others are unaffected;
 * - completion reaches each consumer after its queue (held, unrouted elements are dropped); a
 *   failure reaches every consumer at once. Both are remembered: a consumer that attaches after
 *   the producer ended completes or fails at once.
 */
import { AbruptTerminationError, InvalidArgumentError, InvalidPartitionError } from '../errors.js'
import { Attributes, type Decider } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue, type NotUsed } from '../stage/GraphStage.js'
import { GraphStageLogic, type AsyncCallback, type InHandler } from '../stage/GraphStageLogic.js'
import { decide } from '../stage/linear.js'
import { Inlet, Outlet, SinkShape, SourceShape } from '../stage/ports.js'
import { SourceLogic } from '../sources/basic.js'
import { Sink } from '../Sink.js'
import { Source } from '../Source.js'
import { RingBuffer } from '../internal/RingBuffer.js'
import { HUB_COMPLETED, HUB_OPEN, hubFailed, type HubEnd } from './HubEnd.js'

/** What a stateful partitioner knows about the attached consumers when it routes an element. */
export interface ConsumerInfo {
  /** The number of attached consumers (at least 1 whenever a partitioner runs). */
  readonly size: number
  /** The ids of the attached consumers, in the order they attached. */
  readonly consumerIds: readonly number[]
  /** The id of the consumer at `index` (`0 … size - 1`, in attach order); throws {@link InvalidPartitionError} otherwise. */
  consumerIdByIdx(index: number): number
  /** Elements queued for consumer `id` and not yet read (0 for an id not attached): a large value hints at a slow consumer. */
  queueSize(id: number): number
}

/** Chooses a consumer id for `elem` (negative: drop it). */
export type StatefulPartitioner<T> = (info: ConsumerInfo, elem: T) => number

/** One consumer's queue, shared by its logic (which reads it) and the core (which fills it). */
class Consumer<T> {
  readonly queue = new RingBuffer<T>()
  /** The consumer wants an element and its queue is empty: wake it on the next one. */
  waiting = false
  id = -1
  constructor(readonly wake: AsyncCallback<void>) {}
}

/** The shared state of one running hub; it is also the {@link ConsumerInfo} the partitioner sees. */
class PartitionCore<T> implements ConsumerInfo {
  readonly #consumers: Consumer<T>[] = []
  readonly #byId = new Map<number, Consumer<T>>()
  #ids: readonly number[] | undefined = undefined
  #nextId = 0
  /** Elements in all queues plus the held ones. */
  #queued = 0
  /** Elements that arrived before start-up or with no consumer attached, in order. */
  readonly #held = new RingBuffer<T>()
  #started: boolean
  #end: HubEnd = HUB_OPEN
  #producerWaiting = false

  constructor(
    readonly capacity: number,
    readonly startAfter: number,
    readonly producerWake: AsyncCallback<void>,
  ) {
    this.#started = startAfter === 0
  }

  // ---- ConsumerInfo ----

  get size(): number {
    return this.#consumers.length
  }
  get consumerIds(): readonly number[] {
    return (this.#ids ??= Object.freeze(this.#consumers.map((c) => c.id)))
  }
  consumerIdByIdx(index: number): number {
    const c = this.#consumers[index]
    if (c === undefined) throw new InvalidPartitionError(index, this.#consumers.length, 'index')
    return c.id
  }
  queueSize(id: number): number {
    return this.#byId.get(id)?.queue.length ?? 0
  }

  // ---- the producer side (called by the hub's logic) ----

  get end(): HubEnd {
    return this.#end
  }

  /** True if the producer may be pulled now; otherwise the hub is woken once it may. */
  mayPull(): boolean {
    if (this.#started && this.#queued < this.capacity) return true
    this.#producerWaiting = true
    return false
  }

  /** True once elements may be routed: started and at least one consumer attached. */
  get canRoute(): boolean {
    return this.#started && this.#consumers.length > 0
  }
  get hasHeld(): boolean {
    return !this.#held.isEmpty
  }
  hold(x: T): void {
    this.#held.push(x)
    this.#queued++
  }
  takeHeld(): T {
    this.#queued--
    return this.#held.shift()
  }

  /** Queue `x` for consumer `id`; false if no such consumer is attached. */
  deliver(id: number, x: T): boolean {
    const c = this.#byId.get(id)
    if (c === undefined) return false
    c.queue.push(x)
    this.#queued++
    if (c.waiting) {
      c.waiting = false
      c.wake.invoke()
    }
    return true
  }

  finish(end: HubEnd): void {
    if (this.#end.t !== 'open') return
    this.#end = end
    this.#producerWaiting = false
    this.#queued -= this.#held.length
    this.#held.clear()
    for (const c of this.#consumers) c.wake.invoke()
  }

  // ---- the consumer side (called by consumer logics) ----

  /** Attach `c`; returns the hub's end if it already ended (not attached then). */
  join(c: Consumer<T>): HubEnd {
    if (this.#end.t !== 'open') return this.#end
    c.id = this.#nextId++
    this.#consumers.push(c)
    this.#byId.set(c.id, c)
    this.#ids = undefined
    if (this.#consumers.length >= this.startAfter) this.#started = true
    // the hub may now route what it holds, or pull
    if (this.#producerWaiting || !this.#held.isEmpty) this.#wakeProducer(true)
    return HUB_OPEN
  }

  take(c: Consumer<T>): T {
    this.#queued--
    this.#wakeProducer(false)
    return c.queue.shift()
  }

  leave(c: Consumer<T>): void {
    if (this.#byId.get(c.id) !== c) return // never attached: the hub had ended
    this.#byId.delete(c.id)
    this.#consumers.splice(this.#consumers.indexOf(c), 1)
    this.#ids = undefined
    this.#queued -= c.queue.length
    c.queue.clear()
    this.#wakeProducer(false)
  }

  #wakeProducer(always: boolean): void {
    if (!always && !this.#producerWaiting) return
    this.#producerWaiting = false
    this.producerWake.invoke()
  }
}

// ---- the hub: a sink routing the producer's elements ----

class PartitionHubLogic<T> extends GraphStageLogic implements InHandler {
  readonly in: Inlet<T>
  readonly core: PartitionCore<T>
  readonly #route: StatefulPartitioner<T>
  readonly #decider: Decider
  constructor(shape: SinkShape<T>, stage: PartitionHubStage<T>, attributes: Attributes) {
    super(shape)
    this.in = shape.in
    this.core = new PartitionCore<T>(stage.bufferSize, stage.startAfter, this.getAsyncCallback(this.#onWake))
    this.#route = stage.partitioner()
    this.#decider = attributes.decider
    this.setHandler(shape.in, this)
  }
  override preStart(): void {
    this.#tryPull()
  }
  onPush(): void {
    const x = this.grab(this.in)
    if (!this.#routeHeld()) {
      if (this.core.end.t === 'open') this.core.hold(x)
    } else if (!this.#dispatch(x)) return
    this.#tryPull()
  }
  onUpstreamFinish(): void {
    this.core.finish(HUB_COMPLETED)
    this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.#fail(error)
  }
  override postStop(): void {
    // torn down without a word from upstream (e.g. the materializer shut down)
    if (this.core.end.t === 'open') this.core.finish(hubFailed(new AbruptTerminationError(this.toString())))
  }

  #onWake(): void {
    this.#routeHeld()
    this.#tryPull()
  }

  #tryPull(): void {
    if (this.isClosed(this.in) || this.hasBeenPulled(this.in)) return
    if (this.core.mayPull()) this.pull(this.in)
  }

  /** Route the held elements if routing is possible; true if it is (and all held ones were routed). */
  #routeHeld(): boolean {
    const core = this.core
    if (!core.canRoute) return false
    while (core.hasHeld) if (!this.#dispatch(core.takeHeld())) return false
    return true
  }

  /** Route `x` (or drop it); false if that failed the hub. */
  #dispatch(x: T): boolean {
    const core = this.core
    try {
      const id = this.#route(core, x)
      if (!(id < 0) && !core.deliver(id, x)) throw new InvalidPartitionError(id, core.size, 'id')
      return true
    } catch (e) {
      if (decide(this.#decider, e) !== 'stop') return true // the element is dropped
      this.#fail(e)
      return false
    }
  }

  #fail(error: unknown): void {
    this.core.finish(hubFailed(error))
    this.failStage(error)
  }
}

const HUB_ATTRIBUTES = Attributes.named('PartitionHub')
const CONSUMER_ATTRIBUTES = Attributes.named('PartitionHub.consumer')

class PartitionHubStage<T> extends GraphStageWithMaterializedValue<SinkShape<T>, Source<T, NotUsed>> {
  readonly shape = new SinkShape(new Inlet<T>('PartitionHub.in'))
  constructor(
    readonly partitioner: () => StatefulPartitioner<T>,
    readonly startAfter: number,
    readonly bufferSize: number,
  ) {
    super()
  }
  override get initialAttributes(): Attributes {
    return HUB_ATTRIBUTES
  }
  createLogicAndMaterializedValue(attributes: Attributes): readonly [GraphStageLogic, Source<T, NotUsed>] {
    const logic = new PartitionHubLogic(this.shape, this, attributes)
    return [logic, Source.fromGraph(new PartitionConsumerStage(logic.core))]
  }
}

// ---- a consumer: a source reading its own queue ----

class PartitionConsumerLogic<T> extends SourceLogic<T> {
  readonly #core: PartitionCore<T>
  readonly #consumer: Consumer<T>
  constructor(shape: SourceShape<T>, core: PartitionCore<T>) {
    super(shape)
    this.#core = core
    this.#consumer = new Consumer<T>(this.getAsyncCallback(this.#onWake))
  }
  override preStart(): void {
    const end = this.#core.join(this.#consumer)
    if (end.t === 'completed') this.completeStage()
    else if (end.t === 'failed') this.failStage(end.error)
  }
  onPull(): void {
    this.#deliver()
  }
  override postStop(): void {
    this.#core.leave(this.#consumer)
  }

  #deliver(): void {
    const core = this.#core
    const end = core.end
    if (end.t === 'failed') return this.failStage(end.error)
    const c = this.#consumer
    if (!c.queue.isEmpty) {
      this.push(this.out, core.take(c))
      // that was the last element: completion needs no demand
      if (end.t === 'completed' && c.queue.isEmpty) this.completeStage()
    } else if (end.t === 'completed') this.completeStage()
    else c.waiting = true
  }

  #onWake(): void {
    const end = this.#core.end
    if (end.t === 'failed') this.failStage(end.error)
    else if (this.isAvailable(this.out)) this.#deliver()
    else if (end.t === 'completed' && this.#consumer.queue.isEmpty) this.completeStage()
  }
}

class PartitionConsumerStage<T> extends GraphStageWithMaterializedValue<SourceShape<T>, NotUsed> {
  readonly shape = new SourceShape(new Outlet<T>('PartitionHub.out'))
  constructor(readonly core: PartitionCore<T>) {
    super()
  }
  override get initialAttributes(): Attributes {
    return CONSUMER_ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, NotUsed] {
    return [new PartitionConsumerLogic(this.shape, this.core), undefined]
  }
}

// ---- the public factory ----

function checkArguments(startAfterNrOfConsumers: number, bufferSize: number): void {
  if (!(Number.isInteger(startAfterNrOfConsumers) && startAfterNrOfConsumers >= 0)) {
    throw new InvalidArgumentError('startAfterNrOfConsumers', startAfterNrOfConsumers, 'a non-negative integer')
  }
  if (!(Number.isInteger(bufferSize) && bufferSize >= 1)) throw new InvalidArgumentError('bufferSize', bufferSize, 'a positive integer')
}

export const PartitionHub = {
  /**
   * A sink that routes each element to one of a dynamic set of consumers: `partitioner(size, elem)` returns the
   * index (`0 … size - 1`, in attach order) of the consumer, or a negative number to drop the element. It materializes a
   * `Source` that may be run any number of times, at any time; each run attaches a consumer (see the file header).
   * - Backpressures when: `bufferSize` elements are queued for consumers or held (before start-up or with no consumer)
   * - Completes when: upstream completes (each consumer completes after its queue); a failure fails every consumer at once
   * - Cancels when: never on its own (a consumer leaving only detaches it, dropping its queue)
   * - A consumer emits when: it pulls and its queue is not empty
   * @example
   * ```ts
   * const shards = Source.range(0, 99).toMat(PartitionHub.sink<number>((size, n) => n % size, 2), Keep.right).run()
   * shards.runWith(Sink.seq()) // the even numbers …
   * shards.runWith(Sink.seq()) // … and the odd ones
   * ```
   */
  sink<T>(partitioner: (size: number, elem: T) => number, startAfterNrOfConsumers = 0, bufferSize = 256): Sink<T, Source<T, NotUsed>> {
    checkArguments(startAfterNrOfConsumers, bufferSize)
    const route: StatefulPartitioner<T> = (info, elem) => {
      const index = partitioner(info.size, elem)
      return index < 0 ? -1 : info.consumerIdByIdx(index)
    }
    return Sink.fromGraph(new PartitionHubStage<T>(() => route, startAfterNrOfConsumers, bufferSize))
  },

  /**
   * Like {@link PartitionHub.sink} with a partitioner that may keep state: `partitioner()` runs once per
   * materialization of the hub and returns the function that chooses a consumer id from the {@link ConsumerInfo}
   * (e.g. the consumer with the shortest queue), or a negative number to drop the element.
   * - Backpressures when: `bufferSize` elements are queued for consumers or held (before start-up or with no consumer)
   * - Completes when: upstream completes (each consumer completes after its queue); a failure fails every consumer at once
   * - Cancels when: never on its own (a consumer leaving only detaches it, dropping its queue)
   * - A consumer emits when: it pulls and its queue is not empty
   * @example
   * ```ts
   * const leastBusy = () => (info: ConsumerInfo) =>
   *   info.consumerIds.reduce((best, id) => (info.queueSize(id) < info.queueSize(best) ? id : best))
   * const workers = jobs.toMat(PartitionHub.statefulSink(leastBusy, 2, 16), Keep.right).run()
   * ```
   */
  statefulSink<T>(
    partitioner: () => StatefulPartitioner<T>,
    startAfterNrOfConsumers = 0,
    bufferSize = 256,
  ): Sink<T, Source<T, NotUsed>> {
    checkArguments(startAfterNrOfConsumers, bufferSize)
    return Sink.fromGraph(new PartitionHubStage<T>(partitioner, startAfterNrOfConsumers, bufferSize))
  },
} as const

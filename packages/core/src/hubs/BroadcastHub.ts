/**
 * BroadcastHub: one producer, a dynamic set of consumers; each consumer receives every element
 * published while it is attached.
 *
 * Shared contract of the hubs (MergeHub, BroadcastHub, PartitionHub): one side is an ordinary
 * stage, the other a blueprint (the materialized value) that may be run any number of times, in
 * other islands or on other materializers, at any time. Each running hub has one shared core of
 * plain data; attaching and detaching is recorded on it synchronously (one JS thread: a join
 * cannot race the hub's own ending, and nothing is lost when the hub stops meanwhile). Every
 * reaction that moves a port — the hub pulling, a consumer pushing — runs inside that stage,
 * woken through its AsyncCallback, and a stage is woken only when it declared it was waiting.
 *
 * BroadcastHub specifics:
 * - the elements live once, in a ring of `bufferSize` slots; each consumer has a cursor into it.
 *   The producer is pulled while the slowest attached consumer is less than `bufferSize`
 *   elements behind — so a slow consumer backpressures the producer only once the buffer is
 *   full, and a consumer that leaves releases its share at once (the others never stall on it);
 * - a consumer starts at the current position: it sees the elements published after it
 *   attached, never earlier ones. With no consumer attached the hub does not pull (nothing is
 *   dropped, the producer waits); it starts pulling once `startAfterNrOfConsumers` (default 1)
 *   consumers have attached, and afterwards whenever at least one is;
 * - completion reaches each consumer after the elements it has not read yet; a failure reaches
 *   every consumer at once, skipping what it has not read. Both are remembered: a consumer that
 *   attaches after the producer ended completes or fails at once.
 *
 * Slow-consumer policies are composed, not built in: a consumer run as
 * `consumers.buffer(n, 'dropHead')` reads the hub eagerly and drops its own oldest elements when
 * its subscriber falls `n` behind, so it never holds the others back; a consumer run into
 * `Sink.ignore()` keeps the producer flowing while no real subscriber is attached.
 */
import { AbruptTerminationError, InvalidArgumentError } from '../errors.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue, type NotUsed } from '../stage/GraphStage.js'
import { GraphStageLogic, type AsyncCallback, type InHandler } from '../stage/GraphStageLogic.js'
import { Inlet, Outlet, SinkShape, SourceShape } from '../stage/ports.js'
import { SourceLogic } from '../sources/basic.js'
import { SlotSet, type Slotted } from '../internal/SlotSet.js'
import { Sink } from '../Sink.js'
import { Source } from '../Source.js'
import { HUB_COMPLETED, HUB_OPEN, hubFailed, type HubEnd } from './HubEnd.js'

/** Options of {@link BroadcastHub.sink}. */
export interface BroadcastHubOptions {
  /** The hub starts pulling once this many consumers have attached (default 1; later detaches do not count). */
  readonly startAfterNrOfConsumers?: number
}

/** One consumer's position in the ring: the consumer's logic moves it, the core counts it. */
class Cursor implements Slotted {
  /** @internal its index among the hub's cursors */
  _slot = -1
  offset = 0
  /** The cursor among those waiting for the next publish: a member of a second set, so an object of its own. */
  readonly waiter: Waiter
  constructor(readonly wake: AsyncCallback<void>) {
    this.waiter = new Waiter(wake)
  }
}

/** A {@link Cursor} among those waiting for the next publish. */
class Waiter implements Slotted {
  /** @internal its index among the hub's waiting cursors */
  _slot = -1
  constructor(readonly wake: AsyncCallback<void>) {}
}

function pow2AtLeast(n: number): number {
  return Math.max(2, 2 ** Math.ceil(Math.log2(n)))
}

/**
 * The shared state of one running hub (see the file header). Offsets are element sequence
 * numbers: the ring holds `[head, tail)`, and `#counts` tells how many cursors sit at each offset
 * of `[head, tail]`, so the slowest cursor is found without scanning the consumers.
 */
class BroadcastCore<T> {
  readonly #ring: (T | undefined)[]
  readonly #mask: number
  readonly #counts: Int32Array
  readonly #countMask: number
  #head = 0
  #tail = 0
  #end: HubEnd = HUB_OPEN
  #consumers = 0
  #started = false
  #producerWaiting = false
  /**
   * A hub may live long while consumers come and go: in a `Set` each consumer's cursor, and the
   * stream its wake reaches, was promoted to the old generation (see SlotSet).
   */
  readonly #cursors = new SlotSet<Cursor>()
  readonly #waiting = new SlotSet<Waiter>()

  constructor(
    readonly capacity: number,
    readonly startAfter: number,
    readonly producerWake: AsyncCallback<void>,
  ) {
    const ring = pow2AtLeast(capacity)
    this.#ring = new Array<T | undefined>(ring)
    this.#mask = ring - 1
    const counts = pow2AtLeast(capacity + 1)
    this.#counts = new Int32Array(counts)
    this.#countMask = counts - 1
  }

  get end(): HubEnd {
    return this.#end
  }
  get tail(): number {
    return this.#tail
  }
  elementAt(offset: number): T {
    return this.#ring[offset & this.#mask] as T
  }

  // ---- the producer side (called by the hub's logic) ----

  /** True if the producer may be pulled now; otherwise the hub is woken once it may. */
  mayPull(): boolean {
    if (this.#started && this.#consumers > 0 && this.#tail - this.#head < this.capacity) return true
    this.#producerWaiting = true
    return false
  }

  publish(x: T): void {
    // with nobody attached (the last consumer left while the pull was in flight) the element is dropped
    if (this.#consumers === 0) return
    this.#ring[this.#tail & this.#mask] = x
    this.#tail++
    const waiting = this.#waiting
    if (waiting.size === 0) return
    // indexed, not iterated (a copy per element): a wake is only queued, nobody waits or leaves meanwhile
    for (let i = 0; i < waiting.size; i++) waiting.at(i).wake.invoke()
    waiting.clear()
  }

  /** The producer ended: remember how, and let every consumer look. */
  finish(end: HubEnd): void {
    if (this.#end.t !== 'open') return
    this.#end = end
    this.#producerWaiting = false
    this.#waiting.clear()
    for (const c of this.#cursors) c.wake.invoke()
    if (this.#consumers === 0) this.#release(this.#tail)
  }

  // ---- the consumer side (called by consumer logics) ----

  /** Attach `cursor` at the current position; returns the hub's end if it already ended (not attached then). */
  join(cursor: Cursor): HubEnd {
    if (this.#end.t !== 'open') return this.#end
    cursor.offset = this.#tail
    this.#counts[this.#tail & this.#countMask]!++
    this.#cursors.add(cursor)
    if (++this.#consumers >= this.startAfter) this.#started = true
    this.#wakeProducer()
    return HUB_OPEN
  }

  /** `cursor` read the element at its offset and moves past it. */
  advance(cursor: Cursor): void {
    const o = cursor.offset
    cursor.offset = o + 1
    const counts = this.#counts
    counts[(o + 1) & this.#countMask]!++
    if (--counts[o & this.#countMask]! === 0 && o === this.#head) this.#advanceHead()
  }

  /** `cursor` is at the tail and its consumer wants an element: wake it on the next publish. */
  await(cursor: Cursor): void {
    if (!this.#waiting.has(cursor.waiter)) this.#waiting.add(cursor.waiter)
  }

  leave(cursor: Cursor): void {
    if (!this.#cursors.delete(cursor)) return // never attached: the hub had ended
    this.#waiting.delete(cursor.waiter)
    this.#consumers--
    const o = cursor.offset
    this.#counts[o & this.#countMask]!--
    if (this.#consumers === 0) {
      // nobody is left to read what is buffered: a later consumer starts at the current position anyway
      this.#release(this.#tail)
      this.#wakeProducer()
    } else if (o === this.#head && this.#counts[o & this.#countMask] === 0) this.#advanceHead()
  }

  #advanceHead(): void {
    const counts = this.#counts
    const ring = this.#ring
    let head = this.#head
    while (head < this.#tail && counts[head & this.#countMask] === 0) {
      ring[head & this.#mask] = undefined
      head++
    }
    this.#head = head
    this.#wakeProducer()
  }

  #release(upTo: number): void {
    for (let i = this.#head; i < upTo; i++) this.#ring[i & this.#mask] = undefined
    this.#head = upTo
  }

  #wakeProducer(): void {
    if (!this.#producerWaiting) return
    this.#producerWaiting = false
    this.producerWake.invoke()
  }
}

// ---- the hub: a sink fed by the one producer ----

class BroadcastHubLogic<T> extends GraphStageLogic implements InHandler {
  readonly in: Inlet<T>
  readonly core: BroadcastCore<T>
  constructor(shape: SinkShape<T>, stage: BroadcastHubStage<T>) {
    super(shape)
    this.in = shape.in
    this.core = new BroadcastCore<T>(stage.bufferSize, stage.startAfter, this.getAsyncCallback(this.#tryPull))
    this.setHandler(shape.in, this)
  }
  override preStart(): void {
    this.#tryPull()
  }
  onPush(): void {
    this.core.publish(this.grab(this.in))
    this.#tryPull()
  }
  onUpstreamFinish(): void {
    this.core.finish(HUB_COMPLETED)
    this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.core.finish(hubFailed(error))
    this.failStage(error)
  }
  override postStop(): void {
    // torn down without a word from upstream (e.g. the materializer shut down)
    if (this.core.end.t === 'open') this.core.finish(hubFailed(new AbruptTerminationError(this.toString())))
  }
  #tryPull(): void {
    if (this.isClosed(this.in) || this.hasBeenPulled(this.in)) return
    if (this.core.mayPull()) this.pull(this.in)
  }
}

const HUB_ATTRIBUTES = Attributes.named('BroadcastHub')
const CONSUMER_ATTRIBUTES = Attributes.named('BroadcastHub.consumer')

class BroadcastHubStage<T> extends GraphStageWithMaterializedValue<SinkShape<T>, Source<T, NotUsed>> {
  readonly shape = new SinkShape(new Inlet<T>('BroadcastHub.in'))
  constructor(
    readonly bufferSize: number,
    readonly startAfter: number,
  ) {
    super()
  }
  override get initialAttributes(): Attributes {
    return HUB_ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Source<T, NotUsed>] {
    const logic = new BroadcastHubLogic(this.shape, this)
    return [logic, Source.fromGraph(new BroadcastConsumerStage(logic.core))]
  }
}

// ---- a consumer: a source reading the ring through its cursor ----

class BroadcastConsumerLogic<T> extends SourceLogic<T> {
  readonly #core: BroadcastCore<T>
  readonly #cursor: Cursor
  constructor(shape: SourceShape<T>, core: BroadcastCore<T>) {
    super(shape)
    this.#core = core
    this.#cursor = new Cursor(this.getAsyncCallback(this.#onWake))
  }
  override preStart(): void {
    const end = this.#core.join(this.#cursor)
    if (end.t === 'completed') this.completeStage()
    else if (end.t === 'failed') this.failStage(end.error)
  }
  onPull(): void {
    this.#deliver()
  }
  override postStop(): void {
    this.#core.leave(this.#cursor)
  }

  /** Downstream is pulling: push the next element, or end, or wait for the next publish. */
  #deliver(): void {
    const core = this.#core
    const end = core.end
    if (end.t === 'failed') return this.failStage(end.error)
    const cursor = this.#cursor
    const offset = cursor.offset
    if (offset < core.tail) {
      const x = core.elementAt(offset)
      core.advance(cursor)
      this.push(this.out, x)
      // that was the last element: completion needs no demand
      if (end.t === 'completed' && offset + 1 === core.tail) this.completeStage()
    } else if (end.t === 'completed') this.completeStage()
    else core.await(cursor)
  }

  #onWake(): void {
    const end = this.#core.end
    if (end.t === 'failed') this.failStage(end.error)
    else if (this.isAvailable(this.out)) this.#deliver()
    else if (end.t === 'completed' && this.#cursor.offset === this.#core.tail) this.completeStage()
  }
}

class BroadcastConsumerStage<T> extends GraphStageWithMaterializedValue<SourceShape<T>, NotUsed> {
  readonly shape = new SourceShape(new Outlet<T>('BroadcastHub.out'))
  constructor(readonly core: BroadcastCore<T>) {
    super()
  }
  override get initialAttributes(): Attributes {
    return CONSUMER_ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, NotUsed] {
    return [new BroadcastConsumerLogic(this.shape, this.core), undefined]
  }
}

// ---- the public factory ----

export const BroadcastHub = {
  /**
   * A sink that broadcasts its elements to a dynamic set of consumers: it materializes a `Source` that may be run any
   * number of times, at any time; each run attaches a consumer that receives the elements published while it is
   * attached (see the file header for joining, leaving and ending).
   * - Backpressures when: no consumer is attached (or fewer than `startAfterNrOfConsumers` attached so far), or the
   *   slowest attached consumer is `bufferSize` elements behind
   * - Completes when: upstream completes (each consumer completes after reading what it had not read yet); a failure
   *   fails every consumer at once
   * - Cancels when: never on its own (a consumer leaving only detaches it)
   * - A consumer emits when: it pulls and an element it has not read is buffered
   * @example
   * ```ts
   * const topic = Source.tick(0, 1000, 'beat').toMat(BroadcastHub.sink<string>(16), Keep.right).run()
   * topic.take(3).runWith(Sink.seq()) // one subscriber …
   * topic.runForeach(console.log)     // … and another, attached whenever they like
   * ```
   */
  sink<T>(bufferSize = 256, options: BroadcastHubOptions = {}): Sink<T, Source<T, NotUsed>> {
    if (!(Number.isInteger(bufferSize) && bufferSize >= 1)) throw new InvalidArgumentError('bufferSize', bufferSize, 'a positive integer')
    const startAfter = options.startAfterNrOfConsumers ?? 1
    if (!(Number.isInteger(startAfter) && startAfter >= 0)) {
      throw new InvalidArgumentError('startAfterNrOfConsumers', startAfter, 'a non-negative integer')
    }
    return Sink.fromGraph(new BroadcastHubStage<T>(bufferSize, startAfter))
  },
} as const

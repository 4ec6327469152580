/**
 * Topics: in-process publish/subscribe for event streams, with a slow-consumer policy per
 * subscriber and replay from a bounded log (for `Last-Event-ID`).
 *
 * Contract:
 * - `publish(x)` is synchronous and never blocks: it answers `'published'`, `'dropped'` (more than
 *   `publishBufferSize` elements were published before the topic's stream could take them) or
 *   `'closed'` (after `close()`). Every published element goes, in publish order, through ONE
 *   `BroadcastHub` materialized when the topic is created; a drain consumer keeps the hub flowing
 *   while nobody subscribes (elements published then reach only the replay log).
 * - Each subscription reads the hub eagerly into its own buffer of `bufferSize` elements; when the
 *   subscriber is `bufferSize` elements behind, its policy decides: `'drop-oldest'` drops its
 *   oldest buffered element, `'drop-newest'` drops the incoming (newest) element — the subscriber
 *   keeps a contiguous run and misses what was published while it was full — and `'disconnect'`
 *   fails its stream with {@link SlowConsumerError} (so an SSE session built on it ends). A slow
 *   subscriber therefore never holds back the others or the publisher.
 * - A subscription sees the elements published after it started running. With a session, it
 *   completes when the session closes. `subscriberCount` counts the running subscriptions; a
 *   subscription leaves the count when its stream stops, however it stops.
 * - `subscribeFrom(lastEventId, idOf)` first emits the logged elements published after the newest
 *   one whose id is `lastEventId` (the whole log if no logged element has that id — it may be
 *   older than the log, or from another server), then the live elements: no gap and no duplicate
 *   at the seam. The seam is exact because elements carry a topic-wide sequence number: the
 *   subscription joins the hub first, discards what the hub delivers while it replays (all of it
 *   is in the log already), and switches to live once it caught up with the log, skipping live
 *   elements it already emitted. A replaying subscriber that falls more than `replay` elements
 *   behind skips the elements the log evicted (with `'disconnect'` it fails instead).
 * - `close()` completes the topic: each subscription completes after the elements it has not
 *   read yet; later publishes answer `'closed'`, later subscriptions complete at once (after
 *   their replay).
 */
import {
  Attributes,
  BroadcastHub,
  BufferOverflowError,
  Flow,
  FlowShape,
  GraphStage,
  GraphStageLogic,
  Inlet,
  InvalidArgumentError,
  Keep,
  Outlet,
  Sink,
  Source,
  WeirError,
  defaultMaterializer,
  type Materializer,
  type NotUsed,
  type OverflowStrategy,
  type SourceQueue,
} from '@weir/core'
import type { SseSession } from './session.js'

/** What a subscription does when its subscriber is `bufferSize` elements behind. */
export type SlowConsumerPolicy = 'drop-oldest' | 'drop-newest' | 'disconnect'

/**
 * What a route needs from a topic, whichever kind it is: {@link LocalTopic} (elements `T`) and
 * `RedisTopic` (elements `TopicEvent<T>`) both have it, so an SSE route is written once.
 */
export interface Subscribable<E> {
  /** The elements published from when the returned source runs (see {@link LocalTopic.subscribe}). */
  subscribe(session?: SseSession): Source<E, NotUsed>
  /** The elements after the one whose id is `lastEventId`, then live (see {@link LocalTopic.subscribeFrom}). */
  subscribeFrom(lastEventId: string, idOf: (x: E) => string | undefined, session?: SseSession): Source<E, NotUsed>
  /** The number of running (live) subscriptions. */
  readonly subscriberCount: number
  readonly isClosed: boolean
}

/** What became of a published element. */
export type PublishResult = 'published' | 'dropped' | 'closed'

export interface TopicOptions {
  /** Each subscriber's buffer, and the hub's (default 64). */
  readonly bufferSize?: number
  /** What a subscription does when its subscriber falls `bufferSize` behind (default `'drop-oldest'`). */
  readonly slowConsumer?: SlowConsumerPolicy
  /** How many of the last published elements are kept for {@link LocalTopic.subscribeFrom} (default 0). */
  readonly replay?: number
  /** How many published elements may wait for the topic's stream before `publish` answers `'dropped'` (default 256). */
  readonly publishBufferSize?: number
  /** Where the topic's hub runs (default: the default materializer). */
  readonly materializer?: Materializer
}

/**
 * A subscriber fell `bufferSize` elements behind a topic whose policy is `'disconnect'` (while
 * replaying: behind the replay log, whose capacity is then the `bufferSize` reported).
 */
export class SlowConsumerError extends WeirError {
  constructor(readonly bufferSize: number) {
    super('WEIR_SSE_SLOW_CONSUMER', `Subscriber disconnected: it fell ${bufferSize} elements behind the topic`)
  }
}

const POLICIES: Readonly<Record<SlowConsumerPolicy, OverflowStrategy>> = {
  'drop-oldest': 'dropHead',
  'drop-newest': 'dropNew',
  disconnect: 'fail',
}

/** A published element with its topic-wide sequence number (consecutive over published elements). */
class Published<T> {
  constructor(
    readonly seq: number,
    readonly value: T,
  ) {}
}

/** The last `capacity` published elements, addressed by sequence number. */
class ReplayLog<T> {
  readonly #slots: (Published<T> | undefined)[]
  /** The sequence number of the next element to be published. */
  #tail = 0
  constructor(readonly capacity: number) {
    this.#slots = new Array<Published<T> | undefined>(capacity)
  }
  /** The oldest sequence number still logged. */
  get headSeq(): number {
    return Math.max(0, this.#tail - this.capacity)
  }
  /** One past the newest sequence number. */
  get tailSeq(): number {
    return this.#tail
  }
  append(p: Published<T>): void {
    if (this.capacity > 0) this.#slots[p.seq % this.capacity] = p
    this.#tail = p.seq + 1
  }
  /** The element with sequence number `seq`, which must lie in `[headSeq, tailSeq)`. */
  at(seq: number): Published<T> {
    return this.#slots[seq % this.capacity]!
  }
  /** The sequence number after the newest logged element whose id is `id`; `headSeq` if none has it. */
  after(id: string, idOf: (x: T) => string | undefined): number {
    for (let seq = this.#tail - 1; seq >= this.headSeq; seq--) if (idOf(this.at(seq).value) === id) return seq + 1
    return this.headSeq
  }
}

/** The state a topic shares with its running subscriptions. */
class TopicCore<T> {
  subscribers = 0
  constructor(
    readonly log: ReplayLog<T>,
    readonly bufferSize: number,
    readonly policy: SlowConsumerPolicy,
  ) {}
}

interface ReplayFrom<T> {
  readonly lastEventId: string
  readonly idOf: (x: T) => string | undefined
}

type Phase = 'replay' | 'live'

class SubscriptionLogic<T> extends GraphStageLogic {
  readonly in: Inlet<Published<T>>
  readonly out: Outlet<T>
  readonly #stage: SubscriptionStage<T>
  readonly #core: TopicCore<T>
  #phase: Phase
  /** The sequence number of the next element to emit; live elements below it were emitted already. */
  #next = 0
  #counted = false
  constructor(shape: FlowShape<Published<T>, T>, stage: SubscriptionStage<T>) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.#stage = stage
    this.#core = stage.core
    this.#phase = stage.from === undefined ? 'live' : 'replay'
    this.setHandlers(shape.in, shape.out, this)
  }
  override preStart(): void {
    this.#core.subscribers++
    this.#counted = true
    const from = this.#stage.from
    if (from !== undefined) {
      this.#next = this.#core.log.after(from.lastEventId, from.idOf)
      // while replaying, whatever the hub delivers is in the log already: read it and drop it
      this.pull(this.in)
    }
    const session = this.#stage.session
    if (session !== undefined) {
      const ended = this.getAsyncCallback(() => this.completeStage())
      session.onClose(() => ended.invoke())
    }
  }
  onPush(): void {
    const p = this.grab(this.in)
    if (this.#phase === 'replay' || p.seq < this.#next) return this.pull(this.in)
    this.#next = p.seq + 1
    this.push(this.out, p.value)
  }
  onPull(): void {
    if (this.#phase === 'replay') this.#replay()
    else if (!this.hasBeenPulled(this.in)) this.pull(this.in)
  }
  onUpstreamFinish(): void {
    // a replay continues from the log; it completes once it caught up
    if (this.#phase === 'live') this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.failStage(error instanceof BufferOverflowError ? new SlowConsumerError(this.#core.bufferSize) : error)
  }
  onDownstreamFinish(cause: unknown): void {
    this.cancelStage(cause)
  }
  override postStop(): void {
    if (this.#counted) this.#core.subscribers--
    this.#counted = false
  }

  /** Downstream pulls while replaying: emit the next logged element, or switch to live. */
  #replay(): void {
    const log = this.#core.log
    if (this.#next < log.headSeq) {
      if (this.#core.policy === 'disconnect') return this.failStage(new SlowConsumerError(log.capacity))
      this.#next = log.headSeq
    }
    if (this.#next < log.tailSeq) {
      this.push(this.out, log.at(this.#next++).value)
      return
    }
    this.#phase = 'live'
    // the inlet is still pulled (replay reads eagerly) unless the hub ended
    if (this.isClosed(this.in)) this.completeStage()
  }
}

const SUBSCRIPTION_ATTRIBUTES = Attributes.named('topicSubscription')

class SubscriptionStage<T> extends GraphStage<FlowShape<Published<T>, T>> {
  readonly shape = new FlowShape(new Inlet<Published<T>>('topicSubscription.in'), new Outlet<T>('topicSubscription.out'))
  constructor(
    readonly core: TopicCore<T>,
    readonly session: SseSession | undefined,
    readonly from: ReplayFrom<T> | undefined,
  ) {
    super()
  }
  override get initialAttributes(): Attributes {
    return SUBSCRIPTION_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new SubscriptionLogic<T>(this.shape, this)
  }
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 1)) throw new InvalidArgumentError(name, value, 'a positive integer')
  return value
}

/** A topic within one process: see the file header for its contract. */
export class LocalTopic<T> implements Subscribable<T> {
  readonly #core: TopicCore<T>
  readonly #queue: SourceQueue<Published<T>>
  readonly #hub: Source<Published<T>, NotUsed>
  #closed = false

  /** @internal use {@link Topic.local}. */
  constructor(options: TopicOptions) {
    const bufferSize = positiveInteger('bufferSize', options.bufferSize ?? 64)
    const publishBufferSize = positiveInteger('publishBufferSize', options.publishBufferSize ?? 256)
    const replay = options.replay ?? 0
    if (!(Number.isSafeInteger(replay) && replay >= 0)) throw new InvalidArgumentError('replay', replay, 'a non-negative integer')
    const policy = options.slowConsumer ?? 'drop-oldest'
    if (!Object.hasOwn(POLICIES, policy)) throw new InvalidArgumentError('slowConsumer', policy, `one of ${Object.keys(POLICIES).join(', ')}`)
    this.#core = new TopicCore<T>(new ReplayLog<T>(replay), bufferSize, policy)
    const mat = options.materializer ?? defaultMaterializer()
    const [queue, hub] = Source.queue<Published<T>>(publishBufferSize, 'dropNew').toMat(BroadcastHub.sink<Published<T>>(bufferSize), Keep.both).run(mat)
    this.#queue = queue
    this.#hub = hub
    // keeps the hub flowing while nobody subscribes; completes with the topic
    void hub.runWith(Sink.ignore(), mat).catch(() => undefined)
  }

  /** The number of running subscriptions. */
  get subscriberCount(): number {
    return this.#core.subscribers
  }
  get isClosed(): boolean {
    return this.#closed
  }

  /**
   * Publishes `x` to every running subscription (and the replay log); synchronous, never blocks.
   * @example `prices.publish({ symbol: 'ACME', price: 12 }) // 'published'`
   */
  publish(x: T): PublishResult {
    if (this.#closed) return 'closed'
    const p = new Published(this.#core.log.tailSeq, x)
    const result = this.#queue.offer(p)
    if (result === 'enqueued') {
      this.#core.log.append(p)
      return 'published'
    }
    return result === 'dropped' ? 'dropped' : 'closed'
  }

  /**
   * The elements published from when the returned source runs, until the topic closes (or
   * `session` closes); each run is a subscription with its own buffer and the topic's policy.
   * - Emits when: an element was published and downstream pulls
   * - Backpressures when: never the topic; the subscription's buffer applies the slow-consumer policy
   * - Completes when: the topic is closed (after the buffered elements) or `session` closes
   * - Cancels when: downstream cancels (the subscription leaves the topic)
   * @example `sseSession((s) => prices.subscribe(s).map((p) => ({ data: JSON.stringify(p) })))`
   */
  subscribe(session?: SseSession): Source<T, NotUsed> {
    return this.#subscription(session, undefined)
  }

  /**
   * Like {@link subscribe}, first replaying the logged elements published after the one whose id
   * is `lastEventId` (all of the log if none has it), then live, without gap or duplicate.
   * - Emits when: downstream pulls and a logged element is left to replay, or (then) a live one arrives
   * - Backpressures when: never the topic (see {@link subscribe})
   * - Completes when: the topic is closed and the replay and the buffered elements were emitted, or `session` closes
   * - Cancels when: downstream cancels
   * @example `sseSession((s) => prices.subscribeFrom(lastEventId, (p) => p.id, s).map(toEvent))`
   */
  subscribeFrom(lastEventId: string, idOf: (x: T) => string | undefined, session?: SseSession): Source<T, NotUsed> {
    return this.#subscription(session, { lastEventId, idOf })
  }

  /** Completes the topic: every subscription completes after what it has not read yet. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#queue.complete()
  }

  #subscription(session: SseSession | undefined, from: ReplayFrom<T> | undefined): Source<T, NotUsed> {
    const core = this.#core
    return this.#hub.buffer(core.bufferSize, POLICIES[core.policy]).via(Flow.fromGraph(new SubscriptionStage<T>(core, session, from)))
  }
}

export const Topic = {
  /**
   * A topic within this process: one hub fanning published elements out to any number of
   * subscriptions, each behind its own bounded buffer (see {@link TopicOptions}).
   * @example
   * ```ts
   * const prices = Topic.local<Price>({ bufferSize: 64, slowConsumer: 'drop-oldest', replay: 100 })
   * prices.publish(p)
   * bind(() => sseSession((s) => prices.subscribe(s).map(toEvent)))
   * ```
   */
  local<T>(options: TopicOptions = {}): LocalTopic<T> {
    return new LocalTopic<T>(options)
  },
} as const

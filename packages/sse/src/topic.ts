/**
 * Topics: in-process publish/subscribe for event streams, with a slow-consumer policy per
 * subscriber and replay from a bounded log (for `Last-Event-ID`).
 *
 * Contract:
 * - `publish(x)` is synchronous and never blocks: it answers `'published'`, or `'closed'` after
 *   `close()`. It hands `x` to every running subscription at once, in publish order — the topic is
 *   a hub without a stream of its own: publishing costs one buffer append per subscriber, and a
 *   subscriber's stream is woken only when it waits for an element.
 * - Each subscription buffers up to `bufferSize` elements; when the subscriber is `bufferSize`
 *   elements behind, its policy decides (a subscription that has demand and is about to run takes
 *   up to `publishBufferSize` elements first, so a burst published faster than streams run is not
 *   mistaken for a slow subscriber): `'drop-oldest'` drops its oldest buffered element,
 *   `'drop-newest'` drops the incoming (newest) element — the subscriber keeps a contiguous run and
 *   misses what was published while it was full — and `'disconnect'` fails its stream with
 *   {@link SlowConsumerError} (so an SSE session built on it ends). A slow subscriber therefore
 *   never holds back the others or the publisher.
 * - A subscription sees the elements published after it started running. With a session, it
 *   completes when the session closes. `subscriberCount` counts the running subscriptions; a
 *   subscription leaves the count when its stream stops, however it stops.
 * - `subscribeFrom(lastEventId, idOf)` first emits the logged elements published after the newest
 *   one whose id is `lastEventId` (the whole log if no logged element has that id — it may be
 *   older than the log, or from another server), then the live elements: no gap and no duplicate
 *   at the seam. While it replays, everything published reaches the log, so the subscription reads
 *   only the log, and goes live once it caught up with it. A replaying subscriber that falls more
 *   than `replay` elements behind skips the elements the log evicted (with `'disconnect'` it fails).
 * - `map(f)` is a view of the topic whose subscriptions emit `f(x)`, computed once per published
 *   element for all of the view's subscribers (so an SSE event built from it is built — and
 *   encoded — once per broadcast, not once per subscriber).
 * - `close()` completes the topic: each subscription completes after the elements it has not
 *   read yet; later publishes answer `'closed'`, later subscriptions complete at once (after
 *   their replay).
 */
import {
  Attributes,
  GraphStage,
  GraphStageLogic,
  InvalidArgumentError,
  Outlet,
  SlotSet,
  Source,
  SourceShape,
  WeirError,
  type NotUsed,
  type Slotted,
} from '@weir/core'
import diagnostics_channel from 'node:diagnostics_channel'
import type { SseSession } from './session.js'

/** Elements a subscription dropped under its slow-consumer policy (see {@link topicChannels}). */
export interface TopicElementsDropped {
  readonly policy: 'drop-oldest' | 'drop-newest'
  readonly dropped: number
  /** The subscription's buffer size (its `bufferSize`, or `publishBufferSize` for a burst). */
  readonly limit: number
}

/**
 * Diagnostics of local topics on `node:diagnostics_channel` (checked with `hasSubscribers`
 * first: an idle channel costs one property read). A subscriber disconnected under the
 * `'disconnect'` policy fails with {@link SlowConsumerError} instead.
 */
export const topicChannels = {
  /** {@link TopicElementsDropped}: a slow subscriber lost elements. */
  dropped: diagnostics_channel.channel('weir:sse:topic:dropped'),
} as const

function reportDropped(policy: 'drop-oldest' | 'drop-newest', dropped: number, limit: number): void {
  if (topicChannels.dropped.hasSubscribers) topicChannels.dropped.publish({ policy, dropped, limit } satisfies TopicElementsDropped)
}

/** What a subscription does when its subscriber is `bufferSize` elements behind. */
export type SlowConsumerPolicy = 'drop-oldest' | 'drop-newest' | 'disconnect'

/**
 * What a route needs from a topic, whichever kind it is: {@link LocalTopic} (elements `T`), its
 * {@link LocalTopic.map} views and `RedisTopic` (elements `TopicEvent<T>`) all have it, so an SSE
 * route is written once.
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
export type PublishResult = 'published' | 'closed'

export interface TopicOptions {
  /** Each subscriber's buffer (default 64). */
  readonly bufferSize?: number
  /** What a subscription does when its subscriber falls `bufferSize` behind (default `'drop-oldest'`). */
  readonly slowConsumer?: SlowConsumerPolicy
  /** How many of the last published elements are kept for {@link LocalTopic.subscribeFrom} (default 0). */
  readonly replay?: number
  /**
   * How many elements a subscription that has demand (it waits, or was woken and has not run
   * yet) takes before its policy applies (default 256, at least `bufferSize`): a burst published
   * in one go is not mistaken for a slow subscriber.
   */
  readonly publishBufferSize?: number
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

const POLICIES: readonly SlowConsumerPolicy[] = ['drop-oldest', 'drop-newest', 'disconnect']

/** A published element with its topic-wide sequence number (consecutive over published elements). */
class Published<T> {
  /** The last view that mapped this element, and what it made of it (see {@link LocalTopic.map}). */
  viewKey: unknown = undefined
  viewValue: unknown = undefined
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
  /**
   * A topic lives long and its subscribers come and go (one per SSE session): in a `Set` every
   * subscription, with its whole stream, was promoted to the old generation (see SlotSet).
   */
  readonly subscribers = new SlotSet<SubscriptionLogic<T, unknown>>()
  closed = false
  constructor(
    readonly log: ReplayLog<T>,
    readonly bufferSize: number,
    readonly burstSize: number,
    readonly policy: SlowConsumerPolicy,
  ) {}
}

/** How a view turns a topic's element into its own (the identity for the topic itself). */
type ViewOf<T, E> = (p: Published<T>) => E

interface ReplayFrom<T> {
  readonly lastEventId: string
  readonly idOf: (x: T) => string | undefined
}

type Phase = 'replay' | 'live'

/** A subscription's wake handler (set in SubscriptionLogic's static block, which may call its private method). */
let WAKE: (this: SubscriptionLogic<unknown, unknown>) => void

/**
 * One subscription: a source stage whose buffer the topic fills directly (`offer`, from the
 * publisher's call stack); the stage is woken through an async callback only when it waits.
 */
class SubscriptionLogic<T, E> extends GraphStageLogic implements Slotted {
  /** @internal its index among the topic's subscribers */
  _slot = -1
  readonly out: Outlet<E>
  readonly #stage: SubscriptionStage<T, E>
  /** The stage's view (a field of its own: read for every element). */
  readonly #view: ViewOf<T, E>
  readonly #core: TopicCore<T>
  #phase: Phase
  /** While replaying: the sequence number of the next logged element to emit. */
  #next = 0
  /**
   * Buffered live elements, oldest first: `#first` (when set), then `#items[#head…#tail)` (the array
   * is reused, never shortened while running). An element that comes to an empty buffer — the
   * common case of a subscriber that keeps up — waits in `#first`, touching no array.
   */
  #first: Published<T> | undefined = undefined
  #items: (Published<T> | undefined)[] = []
  #head = 0
  #tail = 0

  #size(): number {
    return this.#tail - this.#head + (this.#first === undefined ? 0 : 1)
  }
  #append(p: Published<T>): void {
    if (this.#first === undefined && this.#head === this.#tail) this.#first = p
    else this.#items[this.#tail++] = p
  }
  /** Takes the oldest element (the buffer is not empty). */
  #shift(): Published<T> {
    const first = this.#first
    if (first !== undefined) {
      this.#first = undefined
      return first
    }
    const items = this.#items
    const p = items[this.#head]!
    items[this.#head++] = undefined
    if (this.#head === this.#tail) this.#head = this.#tail = 0
    else if (this.#head >= 64) {
      items.copyWithin(0, this.#head, this.#tail)
      this.#tail -= this.#head
      this.#head = 0
    }
    return p
  }
  /** Drops the newest element (the buffer is not empty). */
  #dropNewest(): void {
    if (this.#tail > this.#head) this.#items[--this.#tail] = undefined
    else this.#first = undefined
  }
  /** Downstream pulled and nothing was buffered: the next offer wakes the stage. */
  #waiting = false
  #wakePending = false
  /** A wake without demand looks again once more before it applies the policy. */
  #deferred = false
  #overflowed = false

  constructor(shape: SourceShape<E>, stage: SubscriptionStage<T, E>) {
    super(shape)
    this.out = shape.out
    this.#stage = stage
    this.#view = stage.view
    this.#core = stage.core
    this.#phase = stage.from === undefined ? 'live' : 'replay'
    this.setHandler(shape.out, this)
  }

  override preStart(): void {
    this.#core.subscribers.add(this as SubscriptionLogic<T, unknown>)
    const from = this.#stage.from
    if (from !== undefined) this.#next = this.#core.log.after(from.lastEventId, (x) => from.idOf(x))
    const session = this.#stage.session
    if (session !== undefined) {
      const ended = this.getAsyncCallback(() => this.completeStage())
      session.onClose(() => ended.invoke())
    }
    if (this.#core.closed && this.#phase === 'live') this.completeStage()
  }

  /**
   * Called by `publish`, outside this stage's island: buffers `p` and wakes the stage when it waits
   * for an element or is more than `bufferSize` behind (then the stage applies the policy, once it
   * knows whether its downstream has demand). Past `publishBufferSize` the policy applies at once.
   */
  offer(p: Published<T>): void {
    if (this.#phase === 'replay' || this.#overflowed) return // a replay reads the log, which has `p`
    const core = this.#core
    const size = this.#size()
    if (size >= core.burstSize) {
      switch (core.policy) {
        case 'drop-newest':
          return reportDropped('drop-newest', 1, core.burstSize)
        case 'drop-oldest':
          this.#shift()
          reportDropped('drop-oldest', 1, core.burstSize)
          break
        case 'disconnect':
          this.#overflowed = true
          return this.#signal()
      }
    }
    this.#append(p)
    if (this.#waiting || size >= core.bufferSize) this.#signal()
  }

  /** The topic closed: a waiting subscription completes. */
  topicClosed(): void {
    this.#signal()
  }

  #signal(): void {
    this.#waiting = false
    if (this.#wakePending) return
    this.#wakePending = true
    this._invokeExternal(WAKE, undefined) // an outside event of this stage, as an async callback's (no object per subscriber)
  }

  static {
    // one function for every subscription (run with the logic as `this`): no closure per subscriber
    WAKE = function (this: SubscriptionLogic<unknown, unknown>): void {
      this.#onWake()
    }
  }

  #onWake(): void {
    this.#wakePending = false
    if (this.#overflowed) return this.failStage(new SlowConsumerError(this.#core.bufferSize))
    if (this.isAvailable(this.out)) {
      this.#deferred = false
      return this.onPull()
    }
    // no demand: the subscriber is slow if more than bufferSize elements wait for it — once the
    // events already in this island ran (a pull on its way is not lost demand): look again after them
    const excess = this.#size() - this.#core.bufferSize
    if (excess > 0 && !this.#deferred) {
      this.#deferred = true
      return this.#signal()
    }
    this.#deferred = false
    if (excess > 0) {
      switch (this.#core.policy) {
        case 'drop-newest':
          for (let i = 0; i < excess; i++) this.#dropNewest()
          reportDropped('drop-newest', excess, this.#core.bufferSize)
          break
        case 'drop-oldest':
          for (let i = 0; i < excess; i++) this.#shift()
          reportDropped('drop-oldest', excess, this.#core.bufferSize)
          break
        case 'disconnect':
          return this.failStage(new SlowConsumerError(this.#core.bufferSize))
      }
    }
    if (this.#core.closed && this.#phase === 'live' && this.#size() === 0) this.completeStage()
  }

  onPull(): void {
    if (this.#phase === 'replay') return this.#replay()
    if (this.#first !== undefined || this.#head < this.#tail) this.push(this.out, this.#view(this.#shift()))
    else if (this.#core.closed) this.completeStage()
    else this.#waiting = true
  }

  onDownstreamFinish(cause: unknown): void {
    this.cancelStage(cause)
  }

  override postStop(): void {
    this.#core.subscribers.delete(this as SubscriptionLogic<T, unknown>)
    this.#first = undefined
    this.#items = []
    this.#head = this.#tail = 0
  }

  /** Downstream pulls while replaying: emit the next logged element, or go live. */
  #replay(): void {
    const log = this.#core.log
    if (this.#next < log.headSeq) {
      if (this.#core.policy === 'disconnect') return this.failStage(new SlowConsumerError(log.capacity))
      this.#next = log.headSeq
    }
    if (this.#next < log.tailSeq) {
      this.push(this.out, this.#view(log.at(this.#next++)))
      return
    }
    // caught up: everything published from now on is offered to the buffer
    this.#phase = 'live'
    this.onPull()
  }
}

const SUBSCRIPTION_ATTRIBUTES = Attributes.named('topicSubscription')

class SubscriptionStage<T, E> extends GraphStage<SourceShape<E>> {
  readonly shape = new SourceShape(new Outlet<E>('topicSubscription.out'))
  constructor(
    readonly core: TopicCore<T>,
    readonly view: ViewOf<T, E>,
    readonly session: SseSession | undefined,
    readonly from: ReplayFrom<T> | undefined,
  ) {
    super()
  }
  override get initialAttributes(): Attributes {
    return SUBSCRIPTION_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new SubscriptionLogic<T, E>(this.shape, this)
  }
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 1)) throw new InvalidArgumentError(name, value, 'a positive integer')
  return value
}

const valueOf = <T>(p: Published<T>): T => p.value

/** What a topic and its views share: subscriptions over one core, each through a view. */
abstract class TopicSubscriptions<T, E> implements Subscribable<E> {
  readonly #view: ViewOf<T, E>
  protected constructor(
    protected readonly core: TopicCore<T>,
    view: ViewOf<T, E>,
  ) {
    this.#view = view
  }

  /** The number of running subscriptions (of the topic and all its views). */
  get subscriberCount(): number {
    return this.core.subscribers.size
  }
  get isClosed(): boolean {
    return this.core.closed
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
  subscribe(session?: SseSession): Source<E, NotUsed> {
    return Source.fromGraph(new SubscriptionStage<T, E>(this.core, this.#view, session, undefined))
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
  subscribeFrom(lastEventId: string, idOf: (x: E) => string | undefined, session?: SseSession): Source<E, NotUsed> {
    const view = this.#view
    const from: ReplayFrom<T> = { lastEventId, idOf: (x) => idOf(view(new Published(-1, x))) }
    return Source.fromGraph(new SubscriptionStage<T, E>(this.core, view, session, from))
  }

  /**
   * A view of this topic whose subscriptions emit `f(x)`: `f` runs once per published element for
   * all of the view's subscribers (when the first of them takes it), so build SSE events here to
   * build and encode each once per broadcast. `f` must not depend on the subscriber; an error it
   * throws fails the subscription that took the element.
   * @example `const priceEvents = prices.map((p) => ({ event: 'price', id: String(p.seq), data: JSON.stringify(p) }))`
   */
  map<U>(f: (x: E) => U): MappedTopic<T, U> {
    const view = this.#view
    const key = {}
    return new MappedTopic<T, U>(this.core, (p) => {
      if (p.viewKey === key) return p.viewValue as U
      const u = f(view(p))
      if (p.seq >= 0) {
        p.viewKey = key
        p.viewValue = u
      }
      return u
    })
  }
}

/** A view of a topic made by {@link LocalTopic.map}: subscribe to it as to the topic. */
export class MappedTopic<T, E> extends TopicSubscriptions<T, E> {
  /** @internal use {@link LocalTopic.map}. */
  constructor(core: TopicCore<T>, view: ViewOf<T, E>) {
    super(core, view)
  }
}

/** A topic within one process: see the file header for its contract. */
export class LocalTopic<T> extends TopicSubscriptions<T, T> {
  /** @internal use {@link Topic.local}. */
  constructor(options: TopicOptions) {
    const bufferSize = positiveInteger('bufferSize', options.bufferSize ?? 64)
    const replay = options.replay ?? 0
    if (!(Number.isSafeInteger(replay) && replay >= 0)) throw new InvalidArgumentError('replay', replay, 'a non-negative integer')
    const burstSize = Math.max(bufferSize, positiveInteger('publishBufferSize', options.publishBufferSize ?? 256))
    const policy = options.slowConsumer ?? 'drop-oldest'
    if (!POLICIES.includes(policy)) throw new InvalidArgumentError('slowConsumer', policy, `one of ${POLICIES.join(', ')}`)
    super(new TopicCore<T>(new ReplayLog<T>(replay), bufferSize, burstSize, policy), valueOf)
  }

  /**
   * Publishes `x` to every running subscription (and the replay log); synchronous, never blocks.
   * @example `prices.publish({ symbol: 'ACME', price: 12 }) // 'published'`
   */
  publish(x: T): PublishResult {
    const core = this.core
    if (core.closed) return 'closed'
    const p = new Published(core.log.tailSeq, x)
    core.log.append(p)
    // indexed, not iterated (a copy per element): `offer` only buffers and queues a wake, so no
    // subscriber leaves during the loop
    const subscribers = core.subscribers
    for (let i = 0; i < subscribers.size; i++) subscribers.at(i).offer(p)
    return 'published'
  }

  /** Completes the topic: every subscription completes after what it has not read yet. */
  close(): void {
    const core = this.core
    if (core.closed) return
    core.closed = true
    for (const s of core.subscribers) s.topicClosed()
  }
}

export const Topic = {
  /**
   * A topic within this process: publishing hands each element to every subscription, each
   * behind its own bounded buffer (see {@link TopicOptions}).
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

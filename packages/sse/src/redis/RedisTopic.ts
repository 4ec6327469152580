/**
 * Redis-bridged topics: one topic shared by several server processes, with a replay log that
 * outlives any of them — Redis pub/sub for live events, a Redis stream for the replay log.
 *
 * Contract:
 * - `publish(x)` encodes `x` and runs one atomic script on the broker: XADD to the topic's stream
 *   (trimmed to about `replay` entries: Redis trims whole nodes, so at least `replay` are kept)
 *   and PUBLISH of `"<id> <text>"` on the topic's channel. It resolves to the event's stream id —
 *   the id every instance gives the event, so a client's `Last-Event-ID` is valid on all of them.
 *   It rejects with {@link TopicCodecError} (`'encode'`) before anything is sent, with
 *   `RedisBrokerError` (`'publish'`) when the broker fails or is unreachable (at once: no
 *   offline queue), and with {@link TopicClosedError} after `close()`.
 * - Every instance holds one subscriber connection and feeds what arrives, in id order, into an
 *   in-process {@link LocalTopic} of {@link TopicEvent}s: `subscribe(session)` is that topic's
 *   subscription, with its `bufferSize` and slow-consumer policy per subscriber. Events published
 *   by any instance reach the subscribers of all of them.
 * - `subscribeFrom(lastEventId, idOf, session)` reads the stream after `lastEventId` (exclusive;
 *   the whole log when it is not a stream id, or older than the log) in pages, then joins the
 *   live feed from the last id it read: no gap and no duplicate at the seam, because the live
 *   feed and the stream share ids and order (the script is atomic) and the join compares ids.
 *   While replaying the subscription is not counted in `subscriberCount`; if the broker fails
 *   during the replay the subscription fails with `RedisBrokerError` (`'replay'`), which
 *   ends an SSE response — the client reconnects with its `Last-Event-ID` and resumes.
 * - When the broker drops, live subscriptions stay open and receive nothing (an SSE response
 *   keeps sending heartbeats); publishing rejects. Both connections reconnect on their own; once
 *   both are back the topic reads the stream after the last event it delivered and feeds the
 *   missed events to its subscribers in order before live ones, so they see a pause, not a gap
 *   — unless more than the log's capacity was published meanwhile, or the broker lost the log
 *   (a restart without persistence): what is gone from the log is skipped.
 * - A message that does not decode is skipped, reported on `weir:sse:redis:skipped` with a
 *   {@link TopicCodecError}. Link changes are reported on `weir:sse:redis:broker`.
 * - `close()` completes every subscription (after what it has buffered) and closes both
 *   connections; it resolves when they are closed.
 *
 * Why pub/sub for live events rather than every instance reading the stream with XREAD BLOCK:
 * Redis pushes a published event to every subscribed instance in one hop with no polling loop,
 * and the stream still guarantees completeness — a replay and a reconnection read it by id, and
 * the atomic script keeps both in the same order, so joining them is a comparison of ids.
 */
import { Source, InvalidArgumentError, NotUsed } from '@weir/core'
import type { RedisClientOptions } from '@redis/client'
import type { SseSession } from '../session.js'
import { Topic, type LocalTopic, type SlowConsumerPolicy, type Subscribable } from '../topic.js'
import { RedisBroker, type BrokerListener, type StreamEntry } from './broker.js'
import { TopicCodec } from './codec.js'
import { redisChannels } from './diagnostics.js'
import { TopicClosedError, TopicCodecError } from './errors.js'
import { MIN_STREAM_ID, compareStreamIds, isStreamId } from './streamId.js'

/** An event of a Redis topic: its stream id (use it as the SSE `id`) and its value. */
export interface TopicEvent<T> {
  readonly id: string
  readonly value: T
}

export interface RedisTopicOptions<T> {
  /** The topic's name: every instance using the same name (and broker) shares the topic. */
  readonly name: string
  /** The broker (default `redis://127.0.0.1:6379`); overrides `client.url`. */
  readonly url?: string
  /** Further node-redis client options (credentials, TLS, `socket.reconnectStrategy`, …). */
  readonly client?: RedisClientOptions
  /** Prefix of the stream key (`<prefix><name>:log`) and channel (`<prefix><name>:live`) (default `'weir:sse:'`). */
  readonly keyPrefix?: string
  /** How many of the last events the stream keeps for replay, at least (default 1000). */
  readonly replay?: number
  /** How values travel as text (default {@link TopicCodec.json}). */
  readonly codec?: TopicCodec<T>
  /** Each subscriber's buffer in this process (default 64). */
  readonly bufferSize?: number
  /** What a subscription does when its subscriber falls `bufferSize` behind (default `'drop-oldest'`). */
  readonly slowConsumer?: SlowConsumerPolicy
  /** How many events arriving in one burst a subscription with demand takes before its policy applies (default 1024). */
  readonly publishBufferSize?: number
}

/** Entries read per XRANGE while replaying or catching up. */
const PAGE = 256
/** Events kept in process to join a replay to the live feed exactly (see `subscribeFrom`). */
const SEAM_LOG = 1024

type FeedState =
  | { readonly kind: 'live' }
  | { readonly kind: 'down' }
  | { readonly kind: 'catching-up'; readonly epoch: number; readonly pending: [string, string][] }
  | { readonly kind: 'closed' }

function positiveInteger(name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 1)) throw new InvalidArgumentError(name, value, 'a positive integer')
  return value
}

/** A topic shared through Redis by every process that uses its name: see the file header for its contract. */
export class RedisTopic<T> implements Subscribable<TopicEvent<T>> {
  readonly name: string
  readonly #codec: TopicCodec<T>
  readonly #replay: number
  readonly #local: LocalTopic<TopicEvent<T>>
  #broker: RedisBroker | undefined = undefined
  #state: FeedState = { kind: 'catching-up', epoch: 0, pending: [] }
  #epoch = 0
  /** The id of the newest event fed to the in-process topic (or known to be before the feed started). */
  #lastSeen = MIN_STREAM_ID
  #closing: Promise<void> | undefined = undefined

  private constructor(options: RedisTopicOptions<T>) {
    if (typeof options.name !== 'string' || options.name.length === 0) throw new InvalidArgumentError('name', options.name, 'a non-empty string')
    this.name = options.name
    this.#codec = options.codec ?? TopicCodec.json<T>()
    this.#replay = positiveInteger('replay', options.replay ?? 1000)
    this.#local = Topic.local<TopicEvent<T>>({
      bufferSize: options.bufferSize,
      slowConsumer: options.slowConsumer,
      publishBufferSize: options.publishBufferSize ?? 1024,
      replay: SEAM_LOG,
    })
  }

  /**
   * Connects to the broker and joins the topic `options.name`; rejects with
   * `RedisBrokerError` (`'connect'`) when the broker cannot be reached, leaving nothing open.
   * @example
   * ```ts
   * const prices = await RedisTopic.connect<Price>({ name: 'prices', url: 'redis://127.0.0.1:6379', replay: 1000 })
   * await prices.publish({ symbol: 'ACME', price: 12 }) // '1700000000000-0'
   * ```
   */
  static async connect<T>(options: RedisTopicOptions<T>): Promise<RedisTopic<T>> {
    const topic = new RedisTopic<T>(options)
    const prefix = options.keyPrefix ?? 'weir:sse:'
    const clientOptions: RedisClientOptions = { ...options.client, url: options.url ?? options.client?.url ?? 'redis://127.0.0.1:6379' }
    try {
      const broker = await RedisBroker.connect(topic.name, `${prefix}${topic.name}:log`, `${prefix}${topic.name}:live`, clientOptions, topic.#listener)
      topic.#broker = broker
      // the subscription is confirmed: everything up to the stream's tail now is before the feed
      topic.#lastSeen = (await broker.tailId()) ?? MIN_STREAM_ID
    } catch (e) {
      await topic.close()
      throw e
    }
    topic.#goLive(0)
    return topic
  }

  /** The number of running live subscriptions in this process. */
  get subscriberCount(): number {
    return this.#local.subscriberCount
  }
  get isClosed(): boolean {
    return this.#state.kind === 'closed'
  }

  /**
   * Publishes `x` to every instance's subscribers and to the replay log; resolves to its id.
   * @example `const id = await prices.publish({ symbol: 'ACME', price: 12 })`
   */
  async publish(x: T): Promise<string> {
    const broker = this.#broker
    if (this.#state.kind === 'closed' || broker === undefined) throw new TopicClosedError(this.name)
    return broker.publish(this.#codec.encode(x), this.#replay)
  }

  /**
   * The events published from when the returned source runs, until the topic closes (or `session`
   * closes); each run is a subscription with its own buffer and the topic's policy.
   * - Emits when: an event arrived from the broker and downstream pulls
   * - Backpressures when: never the topic; the subscription's buffer applies the slow-consumer policy
   * - Completes when: the topic is closed (after the buffered events) or `session` closes
   * - Cancels when: downstream cancels (the subscription leaves the topic)
   * @example `sseSession((s) => prices.subscribe(s).map((e) => ({ id: e.id, data: JSON.stringify(e.value) })))`
   */
  subscribe(session?: SseSession): Source<TopicEvent<T>, NotUsed> {
    return this.#local.subscribe(session)
  }

  /**
   * The events after the one whose id is `lastEventId` (read from the broker's log, on any
   * instance, even after a restart), then live ones, without gap or duplicate. A Redis topic knows
   * its events by stream id, whatever `_idOf` answers: the parameter keeps the signature of
   * {@link Subscribable}, so one route serves a local and a Redis topic alike.
   * - Emits when: downstream pulls and a logged event is left to replay, or (then) a live one arrives
   * - Backpressures when: replaying, downstream backpressures (pages are read on demand); live, never the topic
   * - Completes when: the topic is closed and the replay and the buffered events were emitted, or `session` closes;
   *   fails with `RedisBrokerError` (`'replay'`) when the broker fails during the replay
   * - Cancels when: downstream cancels
   * @example `sseSession((s) => prices.subscribeFrom(lastEventId, (e) => e.id, s).map(toEvent))`
   */
  subscribeFrom(lastEventId: string, _idOf?: (x: TopicEvent<T>) => string | undefined, session?: SseSession): Source<TopicEvent<T>, NotUsed> {
    return Source.lazySource(() => this.#replayThenLive(lastEventId, session)).mapMaterializedValue(() => NotUsed)
  }

  /** Completes every subscription and closes the connections to the broker. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#state = { kind: 'closed' }
    this.#local.close()
    await this.#broker?.close()
  }

  #replayThenLive(lastEventId: string, session: SseSession | undefined): Source<TopicEvent<T>, unknown> {
    let cursor = isStreamId(lastEventId) ? lastEventId : undefined
    const pages = Source.unfoldAsync<boolean, TopicEvent<T>[]>(true, async (more) => {
      const broker = this.#broker
      if (!more || broker === undefined || this.isClosed) return undefined
      let entries: StreamEntry[]
      try {
        entries = await broker.range(cursor, PAGE, 'replay')
      } catch (e) {
        if (this.isClosed) return undefined
        throw e
      }
      const events: TopicEvent<T>[] = []
      for (const entry of entries) {
        cursor = entry.id
        const event = this.#decode(entry)
        if (event !== undefined) events.push(event)
      }
      return [entries.length === PAGE, events]
    })
    const live = Source.lazySource(() => {
      const from = cursor ?? MIN_STREAM_ID
      // the in-process log joins exactly when it holds `from`; otherwise the filter drops what the replay emitted
      return this.#local.subscribeFrom(from, (e) => e.id, session).filter((e) => compareStreamIds(e.id, from) > 0)
    })
    return pages.mapConcat((events) => events).concat(live)
  }

  #decode(entry: StreamEntry): TopicEvent<T> | undefined {
    try {
      return { id: entry.id, value: this.#codec.decode(entry.text) }
    } catch (e) {
      const error = e instanceof TopicCodecError ? new TopicCodecError('decode', e.problems, entry.id, e.cause) : new TopicCodecError('decode', [String(e)], entry.id, e)
      if (redisChannels.skipped.hasSubscribers) redisChannels.skipped.publish({ topic: this.name, id: entry.id, reason: 'codec', error })
      return undefined
    }
  }

  // ---- the live feed: broker messages → the in-process topic, in id order, without gaps ----

  readonly #listener: BrokerListener = {
    message: (id, text) => {
      const state = this.#state
      if (state.kind === 'live') this.#ingest(id, text)
      else if (state.kind === 'catching-up') state.pending.push([id, text])
      // 'down': the catch-up that follows reads this message from the log
    },
    down: (error) => {
      const kind = this.#state.kind
      if (kind === 'closed' || this.#broker === undefined) return
      this.#epoch++
      this.#state = { kind: 'down' }
      if (kind !== 'down' && redisChannels.broker.hasSubscribers) redisChannels.broker.publish({ topic: this.name, state: 'down', error })
    },
    ready: () => {
      if (this.#state.kind === 'down' && this.#broker?.isReady === true) void this.#catchUp()
    },
  }

  #ingest(id: string, text: string): void {
    if (!isStreamId(id) || compareStreamIds(id, this.#lastSeen) <= 0) return
    this.#lastSeen = id
    const event = this.#decode({ id, text })
    if (event === undefined) return
    this.#local.publish(event)
  }

  /** Reads the log after the last event fed, while buffering live messages; then goes live. */
  async #catchUp(): Promise<void> {
    const epoch = ++this.#epoch
    this.#state = { kind: 'catching-up', epoch, pending: [] }
    let read = 0
    try {
      for (;;) {
        const entries = await this.#broker!.range(this.#lastSeen, PAGE, 'catch-up')
        if (this.#epoch !== epoch) return
        for (const entry of entries) this.#ingest(entry.id, entry.text)
        read += entries.length
        if (entries.length < PAGE) break
      }
    } catch {
      // the link went down again (reported by the connection): the next 'ready' retries
      if (this.#epoch === epoch && this.#state.kind === 'catching-up') this.#state = { kind: 'down' }
      return
    }
    this.#goLive(read)
  }

  #goLive(caughtUp: number): void {
    const state = this.#state
    if (state.kind !== 'catching-up') return
    this.#state = { kind: 'live' }
    for (const [id, text] of state.pending) this.#ingest(id, text)
    if (redisChannels.broker.hasSubscribers) redisChannels.broker.publish({ topic: this.name, state: 'up', caughtUp })
  }
}


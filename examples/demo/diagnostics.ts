/**
 * The diagnostics feed behind the demo's dashboard: it listens to the server's own diagnostics
 * events (`weir:http:server:*` on `node:diagnostics_channel`) and, after each burst of them and
 * once per `intervalMs`, publishes a snapshot — the app server's counters (connections open and
 * accepted, requests, closes by reason), the open SSE sessions, the upstream's counters, and the
 * latest events — on a topic that the dashboard reads as server-sent events.
 *
 * The channels are process-wide: the event log shows the events of every weir server in the
 * process (the app and its upstream); the numbers come from each server's own counters.
 */
import type { Channel } from 'node:diagnostics_channel'
import { Source, type Materializer } from '@weir/core'
import { diagnosticsChannels, type HttpServerBinding } from '@weir/http'
import { Topic, type LocalTopic, type ServerSentEvent, type SseSession } from '@weir/sse'

type Counters = ReturnType<HttpServerBinding['counters']>

/** One diagnostics event, as the dashboard lists it. */
export interface DiagnosticsEvent {
  /** Milliseconds since the feed started. */
  readonly at: number
  /** The channel's last name segment: `connection-accepted`, `connection-closed`, `peer-closed`, `timeout`, … */
  readonly event: string
  /** The connection id. */
  readonly connection: number
  /** What the event says besides the id: a close reason, a timeout kind, `fin` / `rst`, a method and target. */
  readonly detail: string
}

/** What the dashboard receives, as `event: snapshot` with this JSON as data. */
export interface DiagnosticsSnapshot {
  /** Milliseconds since the feed started. */
  readonly at: number
  readonly app: Counters
  readonly upstream: Counters
  /** Open sessions of the live feed (`/feed`). */
  readonly sseSessions: number
  /** Open dashboard streams (this feed's own readers). */
  readonly dashboards: number
  /** The latest events, newest last. */
  readonly events: readonly DiagnosticsEvent[]
}

/** Where the numbers come from. */
export interface DiagnosticsSources {
  readonly app: () => Counters
  readonly upstream: () => Counters
  readonly sseSessions: () => number
  readonly dashboards: () => number
}

export interface DiagnosticsFeedOptions {
  /** A snapshot at least this often, events or not (default 1000 ms). */
  readonly intervalMs?: number
  /** After an event, wait this long for more before publishing (default 100 ms). */
  readonly burstMs?: number
  /** How many recent events a snapshot carries (default 30). */
  readonly keepEvents?: number
  readonly materializer: Materializer
}

const WATCHED = {
  'connection-accepted': diagnosticsChannels.connectionAccepted,
  'connection-closed': diagnosticsChannels.connectionClosed,
  'request-start': diagnosticsChannels.requestStart,
  'peer-closed': diagnosticsChannels.peerClosed,
  timeout: diagnosticsChannels.timeout,
  'early-response': diagnosticsChannels.earlyResponse,
  'bad-request': diagnosticsChannels.badRequest,
} as const satisfies Record<string, Channel>

function detailOf(event: keyof typeof WATCHED, m: Record<string, unknown>): string {
  switch (event) {
    case 'connection-accepted':
      return ''
    case 'connection-closed':
      return String(m['reason'])
    case 'request-start':
      return `${String(m['method'])} ${String(m['target'])}`
    case 'peer-closed':
      return String(m['kind'])
    case 'timeout':
      return `${String(m['timeout'])} (${String(m['ms'])} ms)`
    case 'early-response':
      return String(m['decision'])
    case 'bad-request':
      return `${String(m['status'])} ${String(m['reason'])}`
  }
}

export class DiagnosticsFeed {
  readonly #sources: DiagnosticsSources
  readonly #topic: LocalTopic<DiagnosticsSnapshot>
  readonly #events: DiagnosticsEvent[] = []
  readonly #keep: number
  readonly #burstMs: number
  readonly #startedAt = Date.now()
  readonly #unsubscribe: (() => void)[] = []
  readonly #tick: ReturnType<typeof setInterval>
  #burst: ReturnType<typeof setTimeout> | undefined
  #closed = false

  constructor(sources: DiagnosticsSources, options: DiagnosticsFeedOptions) {
    this.#sources = sources
    this.#keep = options.keepEvents ?? 30
    this.#burstMs = options.burstMs ?? 100
    this.#topic = Topic.local<DiagnosticsSnapshot>({ bufferSize: 16, slowConsumer: 'drop-oldest' })
    for (const [event, channel] of Object.entries(WATCHED) as [keyof typeof WATCHED, Channel][]) {
      const onMessage = (m: unknown): void => this.#record(event, m as Record<string, unknown>)
      channel.subscribe(onMessage)
      this.#unsubscribe.push(() => channel.unsubscribe(onMessage))
    }
    this.#tick = setInterval(() => this.#publish(), options.intervalMs ?? 1000)
  }

  /** The numbers now. */
  snapshot(): DiagnosticsSnapshot {
    const s = this.#sources
    return { at: Date.now() - this.#startedAt, app: s.app(), upstream: s.upstream(), sseSessions: s.sseSessions(), dashboards: s.dashboards(), events: [...this.#events] }
  }

  /** The current snapshot, then one per burst of events and per interval, as server-sent events; ends with `session` or {@link close}. */
  events(session: SseSession): Source<ServerSentEvent, unknown> {
    const toEvent = (s: DiagnosticsSnapshot): ServerSentEvent => ({ event: 'snapshot', data: JSON.stringify(s) })
    return Source.lazySource(() => Source.single(this.snapshot())).concat(this.#topic.subscribe(session)).map(toEvent)
  }

  /** Stops listening and ends every reader's stream. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const u of this.#unsubscribe.splice(0)) u()
    clearInterval(this.#tick)
    if (this.#burst !== undefined) clearTimeout(this.#burst)
    this.#topic.close()
  }

  #record(event: keyof typeof WATCHED, m: Record<string, unknown>): void {
    this.#events.push({ at: Date.now() - this.#startedAt, event, connection: Number(m['id']), detail: detailOf(event, m) })
    if (this.#events.length > this.#keep) this.#events.shift()
    // A closing connection's counters are updated after its event is published: read them a little later.
    this.#burst ??= setTimeout(() => {
      this.#burst = undefined
      this.#publish()
    }, this.#burstMs)
  }

  #publish(): void {
    if (!this.#closed) this.#topic.publish(this.snapshot())
  }
}

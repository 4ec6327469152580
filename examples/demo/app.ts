/**
 * The demo application: one weir server on 127.0.0.1 with
 *
 * - `GET /feed` — a live SSE feed (one session per client, in a registry) of the `messages` topic:
 *   a clock tick every `tickMs` and every message posted to the API; `Last-Event-ID` replays what
 *   a reconnecting client missed (the last 100 events);
 * - `GET|POST /api/messages` — a JSON API: POST `{ author, text }` (an io-ts codec, text 1–280
 *   characters) publishes to the topic and answers 201; GET lists the last messages;
 * - `/proxy/*` — a reverse-proxy route to an upstream service the demo also starts (see `proxy.ts`);
 * - `GET /diagnostics` — the diagnostics page (static HTML and JS, no build step), fed by
 *   `GET /diagnostics/events` (SSE) from the server's own diagnostics events;
 * - `GET /metrics` — the same numbers for Prometheus.
 *
 * `startDemo` returns the URLs and `stop(why)`, the graceful termination, which reports what it closed.
 */
import { readFile } from 'node:fs/promises'
import * as t from 'io-ts'
import { Materializer } from '@weir/core'
import { Headers, Http, HttpEntity, HttpResponse, complete, concat, entity, extractRequest, get, path, pathEndOrSingleSlash, pathPrefix, post, validate, type HttpServerBinding, type Route } from '@weir/http'
import { SessionRegistry, Topic, sseSession, type CloseReason, type ServerSentEvent } from '@weir/sse'
import { DiagnosticsFeed } from './diagnostics.js'
import { metrics } from './metrics.js'
import { PROXY_PREFIX, forwarder } from './proxy.js'
import { startUpstream } from './upstream.js'

/** The embedded default configuration; `main.ts` lets the environment override it. */
export interface DemoConfig {
  readonly host: string
  /** The app's port (0: any free port). */
  readonly port: number
  /** The upstream's port (0: any free port). */
  readonly upstreamPort: number
  /** Milliseconds between two clock ticks on the feed. */
  readonly tickMs: number
  /** Milliseconds between two dashboard snapshots when nothing happens. */
  readonly snapshotMs: number
  /** How long `stop` lets connections finish before destroying them. */
  readonly shutdownDeadline: string
}

export const defaultConfig: DemoConfig = { host: '127.0.0.1', port: 0, upstreamPort: 0, tickMs: 2000, snapshotMs: 1000, shutdownDeadline: '5s' }

/** What clients post to the API. */
export const NewMessage = t.type({ author: t.string, text: t.string })
export const MAX_TEXT = 280

/** An event of the feed: `seq` is its SSE id. */
export type FeedEvent =
  | { readonly kind: 'tick'; readonly seq: number; readonly n: number }
  | { readonly kind: 'message'; readonly seq: number; readonly author: string; readonly text: string }

export interface DemoUrls {
  readonly diagnostics: string
  readonly feed: string
  readonly api: string
  readonly proxy: string
  readonly metrics: string
  readonly upstream: string
}

/** What `stop` closed, and why. */
export interface ShutdownReport {
  readonly why: string
  /** Feed sessions ended by the shutdown, by the reason their cleanup saw. */
  readonly feedSessions: Record<string, number>
  /** Dashboard streams ended by the shutdown. */
  readonly dashboards: number
  /** The app's connections closed while terminating, by reason. */
  readonly appConnections: Record<string, number>
  /** The upstream's connections closed while terminating, by reason. */
  readonly upstreamConnections: Record<string, number>
  /** Connections the proxy's pool held at shutdown. */
  readonly poolConnections: number
  readonly durationMs: number
}

export interface Demo {
  readonly urls: DemoUrls
  readonly app: HttpServerBinding
  readonly upstream: HttpServerBinding
  readonly feedSessions: SessionRegistry
  readonly materializer: Materializer
  /** Graceful termination; resolves once every server, session, pool and timer is closed. Idempotent. */
  stop(why: string): Promise<ShutdownReport>
}

const asset = (name: string): Promise<string> => readFile(new URL(`./${name}`, import.meta.url), 'utf8')
const staticResponse = (body: string, contentType: string): HttpResponse =>
  new HttpResponse(200, Headers.fromRecord({ 'cache-control': 'no-cache' }), HttpEntity.text(body, contentType))

function closesDuring(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [reason, n] of Object.entries(after)) if (n - (before[reason] ?? 0) > 0) out[reason] = n - (before[reason] ?? 0)
  return out
}

function countBy(reasons: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of reasons) out[r] = (out[r] ?? 0) + 1
  return out
}

export async function startDemo(config: DemoConfig = defaultConfig): Promise<Demo> {
  const mat = Materializer.create()
  const [page, script] = await Promise.all([asset('dashboard.html'), asset('dashboard.js')])
  const upstream = await startUpstream(config.host, config.upstreamPort, mat)
  const proxy = forwarder(`http://${config.host}:${upstream.port}`, mat)

  const feedSessions = new SessionRegistry()
  const dashboards = new SessionRegistry()
  const sessionEnds: CloseReason[] = []
  const topic = Topic.local<FeedEvent>({ replay: 100, bufferSize: 64, slowConsumer: 'drop-oldest' })
  const messages: FeedEvent[] = []
  let seq = 0
  let ticks = 0
  const ticker = setInterval(() => topic.publish({ kind: 'tick', seq: ++seq, n: ++ticks }), config.tickMs)
  const toEvent = (e: FeedEvent): ServerSentEvent => ({ id: String(e.seq), event: e.kind, data: JSON.stringify(e) })

  const bound: { app?: HttpServerBinding } = {} // the app's counters are read from the binding once there is one
  const appCounters = (): ReturnType<HttpServerBinding['counters']> => bound.app?.counters() ?? { connectionsAccepted: 0, connectionsOpen: 0, requests: 0, upgradedOpen: 0, closesByReason: {} }
  const sources = { app: appCounters, upstream: () => upstream.counters(), sseSessions: () => feedSessions.count, dashboards: () => dashboards.count }
  const feed = new DiagnosticsFeed(sources, { materializer: mat, intervalMs: config.snapshotMs })
  const prometheus = metrics({ ...sources, topicSubscribers: () => topic.subscriberCount })

  const route: Route = concat(
    pathEndOrSingleSlash(() => get(() => new HttpResponse(303, Headers.fromRecord({ location: '/diagnostics' })))),
    path('diagnostics', () => get(() => staticResponse(page, 'text/html; charset=utf-8'))),
    path('diagnostics/dashboard.js', () => get(() => staticResponse(script, 'text/javascript; charset=utf-8'))),
    path('diagnostics/events', () => get(() => sseSession((s) => feed.events(s), { registry: dashboards, heartbeat: '15s' }))),
    path('diagnostics/snapshot', () => get(() => complete(200, feed.snapshot()))),
    path('metrics', () => get(async () => new HttpResponse(200, Headers.empty, HttpEntity.text(await prometheus.render(), prometheus.contentType)))),
    path('feed', () =>
      get(() =>
        extractRequest((req) => {
          const last = req.headers.get('last-event-id')
          return sseSession(
            (s) => {
              s.onClose((reason) => sessionEnds.push(reason))
              const events = last === undefined ? topic.subscribe(s) : topic.subscribeFrom(last, (e) => String(e.seq), s)
              return events.map(toEvent)
            },
            { registry: feedSessions, heartbeat: '15s', retry: 2000 },
          )
        }),
      ),
    ),
    path('api/messages', () =>
      concat(
        get(() => complete(200, messages)),
        post(() =>
          entity(NewMessage, (m) =>
            validate(m.text.length > 0 && m.text.length <= MAX_TEXT, `text must have 1 to ${MAX_TEXT} characters`, () => {
              const event: FeedEvent = { kind: 'message', seq: ++seq, author: m.author, text: m.text }
              messages.push(event)
              if (messages.length > 20) messages.shift()
              topic.publish(event)
              return complete(201, event)
            }),
          ),
        ),
      ),
    ),
    pathPrefix(PROXY_PREFIX.slice(1), () => extractRequest((req) => proxy.forward(req))),
  )

  let app: HttpServerBinding
  try {
    app = await Http.newServerAt(config.host, config.port).withMaterializer(mat).bindRoute(route)
  } catch (e) {
    // the port is taken (or the bind timed out): release what was started, then report
    clearInterval(ticker)
    feed.close()
    topic.close()
    await proxy.shutdown('1s')
    await upstream.terminate('1s')
    mat.shutdown()
    throw e
  }
  bound.app = app
  const base = `http://${config.host}:${app.port}`
  const urls: DemoUrls = {
    diagnostics: `${base}/diagnostics`,
    feed: `${base}/feed`,
    api: `${base}/api/messages`,
    proxy: `${base}${PROXY_PREFIX}/`,
    metrics: `${base}/metrics`,
    upstream: `http://${config.host}:${upstream.port}/`,
  }

  let stopping: Promise<ShutdownReport> | undefined
  const stop = (why: string): Promise<ShutdownReport> =>
    (stopping ??= (async () => {
      const started = Date.now()
      clearInterval(ticker)
      const appBefore = app.counters().closesByReason
      const upstreamBefore = upstream.counters().closesByReason
      // End the streams first (their cleanup runs with reason 'shutdown'), so that terminating
      // finds only requests that complete.
      const endsBefore = sessionEnds.length
      const dashboardCount = dashboards.count
      for (const s of [...feedSessions.sessions(), ...dashboards.sessions()]) s.close('shutdown')
      feed.close()
      topic.close()
      const poolConnections = proxy.pool.stats().connections
      await app.terminate(config.shutdownDeadline)
      await proxy.shutdown('2s')
      await upstream.terminate('2s')
      mat.shutdown()
      return {
        why,
        feedSessions: countBy(sessionEnds.slice(endsBefore)),
        dashboards: dashboardCount,
        appConnections: closesDuring(appBefore, app.counters().closesByReason),
        upstreamConnections: closesDuring(upstreamBefore, upstream.counters().closesByReason),
        poolConnections,
        durationMs: Date.now() - started,
      }
    })())
  return { urls, app, upstream, feedSessions, materializer: mat, stop }
}

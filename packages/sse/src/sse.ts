/**
 * SSE responses: an event source turned into a `text/event-stream` HTTP response.
 *
 * Contract: the response carries `Content-Type: text/event-stream`, `Cache-Control: no-cache` and
 * `X-Accel-Buffering: no` (so nginx does not buffer it), plus any extra headers given. Events are
 * encoded as they arrive; when the client has waited `heartbeat` (default 15 s) for one, a
 * heartbeat comment (`: \n\n`) is written instead — only when idle, never between busy events.
 * With `retry`, the stream opens with a `retry:` field setting the client's reconnection time.
 * With {@link sseSession}, the session ends (its cleanup runs once) when the stream ends.
 */
import { Flow, InvalidArgumentError, toMillis, type Duration, type Source } from '@weir/core'
import { Headers, HttpResponse } from '@weir/http'
import { SseEventStage } from './eventStream.js'
import { SseSession, type SessionRegistry } from './session.js'
import { SseEncodingError, type SseFrame } from './ServerSentEvent.js'

export interface SseOptions {
  /** How long the client may wait for an event before a heartbeat comment is sent (default `'15s'`; `'infinite'` disables). */
  readonly heartbeat?: Duration
  /** A reconnection time (ms) announced to the client at the start of the stream. */
  readonly retry?: number
  /** Extra response headers. */
  readonly headers?: Headers
}

export interface SseSessionOptions extends SseOptions {
  /** The registry the session joins while it is open. */
  readonly registry?: SessionRegistry
}

export const DEFAULT_HEARTBEAT: Duration = '15s'

const SSE_HEADERS: readonly (readonly [string, string])[] = [
  ['Cache-Control', 'no-cache'],
  ['X-Accel-Buffering', 'no'],
]

function retryPreamble(retry: number): Uint8Array {
  if (!Number.isSafeInteger(retry) || retry < 0) throw new SseEncodingError('retry', retry, 'a non-negative integer of milliseconds')
  return new TextEncoder().encode(`retry: ${retry}\n\n`)
}

/** Options checked up front, so a bad one throws a typed error before a session is opened. */
interface Checked {
  readonly heartbeatMs: number
  readonly preamble: Uint8Array | undefined
}

function check(options: SseOptions): Checked {
  const heartbeatMs = toMillis(options.heartbeat ?? DEFAULT_HEARTBEAT, 'heartbeat')
  if (heartbeatMs === 0) throw new InvalidArgumentError('heartbeat', 0, 'a positive duration')
  return { heartbeatMs, preamble: options.retry === undefined ? undefined : retryPreamble(options.retry) }
}

function eventStream(events: Source<SseFrame, unknown>, checked: Checked, session?: SseSession): Source<Uint8Array, unknown> {
  return events.via(Flow.fromGraph(new SseEventStage(checked.heartbeatMs, checked.preamble, session)))
}

function response(bytes: Source<Uint8Array, unknown>, options: SseOptions): HttpResponse {
  const headers = Headers.from([...SSE_HEADERS, ...(options.headers ?? Headers.empty)])
  return HttpResponse.stream(bytes, { contentType: 'text/event-stream', headers })
}

/**
 * An SSE response streaming `events`, with heartbeats while idle.
 * @example `Http.newServerAt('0.0.0.0', 8080).bind(() => sse(ticks.map((n) => ({ data: String(n) }))))`
 */
export function sse(events: Source<SseFrame, unknown>, options: SseOptions = {}): HttpResponse {
  return response(eventStream(events, check(options)), options)
}

/**
 * An SSE response whose events come from a per-client session: `build` receives the session (to
 * register cleanup with `onClose`) and returns the events. The session ends exactly once when the
 * stream does — the client left (FIN, RST, write error), an idle timeout, server shutdown, or the
 * events completed or failed.
 * @example `sseSession((s) => { const sub = topic.subscribe(); s.onClose(() => sub.cancel()); return sub.events }, { registry })`
 */
export function sseSession(build: (session: SseSession) => Source<SseFrame, unknown>, options: SseSessionOptions = {}): HttpResponse {
  const checked = check(options)
  const session = options.registry?.open() ?? new SseSession()
  let events: Source<SseFrame, unknown>
  try {
    events = build(session)
  } catch (e) {
    session.close('failed')
    throw e
  }
  return response(eventStream(events, checked, session), options)
}

/**
 * The SSE client: an event stream read over weir's HTTP client as a `Source<ServerSentEvent>`, with the
 * reconnection rules of the browser's EventSource (WHATWG HTML §9.2 "Server-sent events").
 *
 * ```ts
 * const [control, done] = SseClient.source('http://127.0.0.1:8080/events', { reconnectionTime: '1s' })
 *   .toMat(Sink.foreach((e) => console.log(e.event, e.id, e.data)), Keep.both)
 *   .run()
 * control.close()   // later: no more reconnections, the connection is closed
 * ```
 *
 * What the server's answer does: 200 with `text/event-stream` opens the stream; 204 ends it (no reconnection);
 * 301/302/303/307/308 are followed (up to `maxRedirects`); any other status or content type fails it with a typed
 * error (client/errors.ts). A network error, a body cut short, or a stream the server ends makes the client wait
 * the reconnection time (the server's `retry:`, else the option), then reconnect with `Last-Event-ID`.
 */
import { Source } from '@weir/core'
import { SseClientStage } from './client/SseClientStage.js'
import { resolveOptions, type SseClientOptions } from './client/options.js'
import type { SseClientControl } from './client/control.js'
import type { ServerSentEvent } from './ServerSentEvent.js'

export { SseClientControl, type SseReadyState } from './client/control.js'
export { sseClientChannels, type SseClientCloseReason } from './client/diagnostics.js'
export { SseAttemptsExhaustedError, SseClientError, SseContentTypeError, SseEventTooLargeError, SseRedirectError, SseStatusError, type SseRedirectFailure } from './client/errors.js'
export type { SseBackoff, SseClientOptions, SseConnect } from './client/options.js'

export const SseClient = {
  /**
   * The events of the event stream at `url`, reconnecting as an EventSource does. Each event has `data`, `event`
   * (its type, `'message'` unless the stream named one) and `id` (the last event ID in force, when there is one).
   * The materialized {@link SseClientControl} shows the ready state and last event ID, and closes the stream.
   * Options are checked at once (InvalidArgumentError); the first request is sent when the source is materialized.
   * - Emits when: an event was parsed and downstream pulls
   * - Backpressures when: downstream backpressures — the response body is then not read, so the server's writes
   *   back up to its socket
   * - Completes when: the server answers 204, or `control.close()` is called; fails on any other non-200 status
   *   (except `reconnectOnStatus`), a wrong content type, a redirect it cannot follow, `maxAttempts` failed
   *   connection attempts in a row, an event past `maxEventSize`, or a request that cannot be sent
   * - Cancels when: downstream cancels (the connection is closed, no more reconnections)
   * @example
   * ```ts
   * const events = SseClient.source('https://example.com/prices', { headers: Headers.from([['authorization', 'Bearer …']]), maxAttempts: 10 })
   * await events.take(3).runWith(Sink.seq())   // three events, then the connection is closed
   * ```
   */
  source(url: string | URL, options: SseClientOptions = {}): Source<ServerSentEvent, SseClientControl> {
    return Source.fromGraph(new SseClientStage(resolveOptions(url, options)))
  },
} as const

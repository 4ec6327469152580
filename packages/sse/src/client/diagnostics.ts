/**
 * SSE client diagnostics on `node:diagnostics_channel` (publishers check `hasSubscribers` first): every connection
 * attempt, every stream opened, every reconnection with its delay and reason, and how the client ended — enough to
 * see why a feed went quiet (a server that keeps answering 503, a proxy that cuts the stream every 60 s …).
 */
import diagnostics_channel from 'node:diagnostics_channel'

export const sseClientChannels = {
  /** `{ url, attempt, lastEventId }` — a request is being sent (`attempt`: 1 for the first of a run of failures) */
  connect: diagnostics_channel.channel('weir:sse:client:connect'),
  /** `{ url, status }` — a 200 `text/event-stream` response arrived; events flow */
  open: diagnostics_channel.channel('weir:sse:client:open'),
  /** `{ url, delayMs, reason: 'end' | 'error', error }` — the stream ended or could not be opened; reconnecting after `delayMs` */
  reconnect: diagnostics_channel.channel('weir:sse:client:reconnect'),
  /** `{ url, reason, error }` — the client stopped; reason: see {@link SseClientCloseReason} */
  close: diagnostics_channel.channel('weir:sse:client:close'),
} as const

/**
 * Why an SSE client stopped: the server answered 204 (`no-content`), `close()` was called (`closed`), the consumer
 * cancelled (`cancelled`), or it failed (`failed`, with the error).
 */
export type SseClientCloseReason = 'no-content' | 'closed' | 'cancelled' | 'failed'

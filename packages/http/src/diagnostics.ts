/**
 * Connection diagnostics — the "application-level tcpdump" for debugging 502/504s behind a load
 * balancer. Every connection has an id; its lifecycle is published on `node:diagnostics_channel`
 * (publishers check `hasSubscribers` before building a message, so an idle channel costs one
 * property read and no allocation), closes
 * are counted by reason, and a connection can record a wire trace on demand.
 *
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel'
 * diagnostics_channel.subscribe('weir:http:server:connection-closed', (m) => console.log(m))
 * ```
 */
import diagnostics_channel from 'node:diagnostics_channel'

export const channels = {
  /** `{ id, remote }` */
  connectionAccepted: diagnostics_channel.channel('weir:http:server:connection-accepted'),
  /** `{ id, remote, reason, requests, bytesRead, bytesWritten }` — reason: see {@link ServerCloseReason} */
  connectionClosed: diagnostics_channel.channel('weir:http:server:connection-closed'),
  /** `{ id, method, target, seq }` */
  requestStart: diagnostics_channel.channel('weir:http:server:request-start'),
  /** `{ id, seq }` — the request entity was read to its end */
  requestEnd: diagnostics_channel.channel('weir:http:server:request-end'),
  /** `{ id, seq, status, close }` — `close`: the connection closes after this response */
  responseStart: diagnostics_channel.channel('weir:http:server:response-start'),
  /** `{ id, seq, status }` */
  responseEnd: diagnostics_channel.channel('weir:http:server:response-end'),
  /** `{ id, kind: 'fin' | 'rst' }` — the client half-closed or reset */
  peerClosed: diagnostics_channel.channel('weir:http:server:peer-closed'),
  /** `{ id, timeout: 'idle' | 'request' | 'header-read' | 'linger', ms }` */
  timeout: diagnostics_channel.channel('weir:http:server:timeout'),
  /** `{ id, seq, remainingBytes, decision: 'drain' | 'close' }` — a response came before the request body was read */
  earlyResponse: diagnostics_channel.channel('weir:http:server:early-response'),
  /** `{ id, status, reason }` — a request rejected by the parser */
  badRequest: diagnostics_channel.channel('weir:http:server:bad-request'),
} as const

/** Why a server connection closed. */
export type ServerCloseReason =
  | 'client-fin'
  | 'client-rst'
  | 'idle-timeout'
  | 'request-timeout'
  | 'header-read-timeout'
  | 'linger-timeout'
  | 'connection-close'
  | 'early-response'
  | 'bad-request'
  | 'write-error'
  | 'shutdown'
  | 'max-connections'
  | 'handler-failure'
  /** the connection switched protocols (e.g. to WebSocket) and was handed over */
  | 'upgraded'

/** Per-server counters, readable at any time. */
export class ServerCounters {
  connectionsAccepted = 0
  connectionsOpen = 0
  requests = 0
  /** Connections handed over to another protocol (WebSocket) and still open. */
  upgradedOpen = 0
  readonly closesByReason = new Map<ServerCloseReason, number>()
  closed(reason: ServerCloseReason): void {
    this.connectionsOpen--
    this.closesByReason.set(reason, (this.closesByReason.get(reason) ?? 0) + 1)
  }
  snapshot(): { connectionsAccepted: number; connectionsOpen: number; requests: number; upgradedOpen: number; closesByReason: Record<string, number> } {
    return {
      connectionsAccepted: this.connectionsAccepted,
      connectionsOpen: this.connectionsOpen,
      requests: this.requests,
      upgradedOpen: this.upgradedOpen,
      closesByReason: Object.fromEntries(this.closesByReason),
    }
  }
}

/** One line of a wire trace: time (scheduler ms since the connection started), direction, bytes (latin1, truncated). */
export interface WireTraceEntry {
  readonly at: number
  readonly dir: 'in' | 'out' | 'event'
  readonly text: string
}

/** A bounded wire trace of one connection (opt-in: `traceConnections` setting or `binding.trace(id)`). */
export class WireTrace {
  readonly entries: WireTraceEntry[] = []
  constructor(readonly maxEntries = 1000, readonly maxBytesPerEntry = 512) {}
  record(at: number, dir: WireTraceEntry['dir'], data: Uint8Array | string): void {
    if (this.entries.length >= this.maxEntries) this.entries.shift()
    const text = typeof data === 'string' ? data : Buffer.from(data.subarray(0, this.maxBytesPerEntry)).toString('latin1')
    this.entries.push({ at, dir, text })
  }
}

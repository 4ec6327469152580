/**
 * Client and pool diagnostics on `node:diagnostics_channel` (publishers check `hasSubscribers` first). With the
 * server's channels they show both ends of a keep-alive race: which connection was reused, when the server's FIN
 * arrived, which request was retried and why.
 */
import diagnostics_channel from 'node:diagnostics_channel'

export const clientChannels = {
  /** `{ id, seq, method, target }` — a request is being written on connection `id` */
  requestStart: diagnostics_channel.channel('weir:http:client:request-start'),
  /** `{ id, seq, status, keepAlive }` */
  responseStart: diagnostics_channel.channel('weir:http:client:response-start'),
  /** `{ id, seq }` — the response body was read (or dropped) to its end */
  responseEnd: diagnostics_channel.channel('weir:http:client:response-end'),
  /** `{ id, kind: 'fin' | 'rst' | 'error', pending }` — the server closed or reset the connection, or the socket failed */
  peerClosed: diagnostics_channel.channel('weir:http:client:peer-closed'),
  /** `{ id, timeout: 'response' | 'idle', ms }` */
  timeout: diagnostics_channel.channel('weir:http:client:timeout'),
  /** `{ id, seq, timeoutMs }` — a response entity nobody subscribed to was read and dropped */
  entityDiscarded: diagnostics_channel.channel('weir:http:client:entity-discarded'),
  /** `{ id, remote, peer }` — the connection's stage stopped */
  connectionClosed: diagnostics_channel.channel('weir:http:client:connection-closed'),
  /** `{ remote, id }` — the pool opened a connection */
  poolConnectionOpened: diagnostics_channel.channel('weir:http:pool:connection-opened'),
  /** `{ remote, id, reason }` — the pool closed or lost a connection; reason: see {@link PoolCloseReason} */
  poolConnectionClosed: diagnostics_channel.channel('weir:http:pool:connection-closed'),
  /** `{ remote, method, target, attempt, error }` — a request that failed on a reused connection is sent again */
  poolRetry: diagnostics_channel.channel('weir:http:pool:retry'),
} as const

/** Why a pool let go of a connection. */
export type PoolCloseReason =
  | 'keep-alive-timeout'
  | 'keep-alive-hint'
  | 'lifetime'
  | 'server-close'
  | 'server-fin'
  | 'failure'
  | 'pool-idle'
  | 'shutdown'
  | 'make-room'
  | 'entity-cancelled'
  /** the caller aborted the request it was serving (`request(req, { signal })`) */
  | 'aborted'

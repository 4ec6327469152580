/**
 * WebSocket diagnostics on `node:diagnostics_channel` (publishers check `hasSubscribers` first).
 * The connection id is the server's (as in the `weir:http:server:*` channels); the HTTP side of an
 * upgraded connection closes with the reason `'upgraded'`, and these channels follow it from there.
 */
import diagnostics_channel from 'node:diagnostics_channel'

export const channels = {
  /** `{ id, target }` — the handshake completed and the handler flow runs */
  opened: diagnostics_channel.channel('weir:http:websocket:opened'),
  /** `{ id, code, reason, by: 'client' | 'server', error }` — the socket closed */
  closed: diagnostics_channel.channel('weir:http:websocket:closed'),
  /** `{ id, ms }` — a ping went unanswered: the peer is gone, the connection is terminated */
  pongTimeout: diagnostics_channel.channel('weir:http:websocket:pong-timeout'),
} as const

/**
 * WebSockets in a route: `handleWebSocket(flow, options)` completes a WebSocket handshake request by switching the
 * connection to `flow` (see `WebSocket.handle`: a malformed handshake gets 400/426 there); any other request is
 * rejected with `upgrade-required`, which the default rejection handler answers with 426 and `Upgrade: websocket`
 * when no other route matches.
 *
 * ```ts
 * const echo = Flow.create<Message>()
 * const route = concat(path('echo', () => handleWebSocket(echo)), path('health', () => get(() => completeText(200, 'ok'))))
 * ```
 */
import type { Flow } from '@weir/core'
import { WebSocket, type WebSocketOptions } from '../websocket/WebSocket.js'
import type { Message } from '../websocket/Message.js'
import { Rejections } from './rejections.js'
import { completed, rejected, type Route } from './Route.js'

/** Switch WebSocket handshake requests to `flow`; reject anything else with `upgrade-required`. */
export function handleWebSocket(flow: Flow<Message, Message, unknown>, options?: WebSocketOptions): Route {
  const rejection = rejected([Rejections.upgradeRequired('websocket')])
  return (ctx) => Promise.resolve(WebSocket.isUpgrade(ctx.request) ? completed(WebSocket.handle(ctx.request, flow, options)) : rejection)
}

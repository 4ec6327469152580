/**
 * WebSockets on weir's upgrade path, with `ws` (in `noServer` mode) speaking the frame protocol:
 *
 * ```ts
 * const echo = Flow.create<Message>().map((m) => m)
 * await Http.newServerAt('127.0.0.1', 8080).bind((req) =>
 *   WebSocket.isUpgrade(req) ? WebSocket.handle(req, echo) : HttpResponse.text('not a websocket', 400))
 * ```
 *
 * `handle` checks the opening handshake (a bad one is answered 400/426 over HTTP, see
 * handshake.ts) and returns an {@link UpgradeResponse}; when the server hands the connection over,
 * `ws` completes the handshake on the socket (writing the 101) and the handler flow is run
 * against the connection by {@link WebSocketStage}, with the server's materializer. The flow's
 * contract (backpressure, endings, close codes, keep-alive) is the stage's.
 */
import type { IncomingMessage } from 'node:http'
import { Flow } from '@weir/core'
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import type { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { UpgradeResponse, type UpgradedConnection } from '../server/upgrade.js'
import { checkHandshake, isWebSocketUpgrade } from './handshake.js'
import type { Message } from './Message.js'
import { webSocketSettings, type WebSocketSettings, type WebSocketSettingsInput } from './WebSocketSettings.js'
import type { WebSocketCloseInfo } from './errors.js'
import { WebSocketStage } from './WebSocketStage.js'

export interface WebSocketOptions {
  /** Keep-alive, timeouts and limits (validated; see {@link webSocketSettingsSpec}). */
  readonly settings?: WebSocketSettingsInput
  /**
   * Subprotocols this handler speaks, in preference order: the first one the client offers is
   * selected (`Sec-WebSocket-Protocol`); none is selected when the client offers none of them.
   */
  readonly subprotocols?: readonly string[]
  /** Told once how the connection ended: close code, reason, who closed, and any error. */
  readonly onClosed?: (info: WebSocketCloseInfo) => void
}

/** Decoded settings and the `ws` server of one options object (decoded once, not per request). */
interface Prepared {
  readonly settings: WebSocketSettings
  readonly server: WebSocketServer
}
const prepared = new WeakMap<WebSocketOptions, Prepared>()
const NO_OPTIONS: WebSocketOptions = {}

function prepare(options: WebSocketOptions): Prepared {
  let p = prepared.get(options)
  if (p === undefined) {
    const settings = webSocketSettings(options.settings)
    const wanted = options.subprotocols
    const server = new WebSocketServer({
      noServer: true,
      clientTracking: false, // the HTTP server tracks its connections
      perMessageDeflate: false,
      maxPayload: settings.maxMessageSize,
      handleProtocols: (offered: Set<string>) => wanted?.find((w) => offered.has(w)) ?? false,
    })
    p = { settings, server }
    prepared.set(options, p)
  }
  return p
}

/** What `ws` reads of the request: method, url, and the handshake's header fields (lower-case, joined). */
function incomingMessage(req: HttpRequest): IncomingMessage {
  const headers: Record<string, string> = {}
  for (const [name, value] of req.headers.entries) {
    const key = name.toLowerCase()
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`
  }
  return { method: req.method, url: req.target, headers } as unknown as IncomingMessage
}

function takeOver(conn: UpgradedConnection, handler: Flow<Message, Message, any>, options: WebSocketOptions, p: Prepared): void {
  const socket = conn.socket
  if (socket.destroyed || !socket.readable || !socket.writable) {
    // the client left before the switch: nobody to talk to
    socket.destroy()
    return conn.closed()
  }
  let ws: WsSocket | undefined
  p.server.handleUpgrade(incomingMessage(conn.request), socket, conn.head, (w) => (ws = w))
  if (ws === undefined) {
    // the handshake was checked before: ws refused it anyway and answered on the socket itself
    socket.destroy()
    return conn.closed()
  }
  const stage = new WebSocketStage({ ws, settings: p.settings, connection: conn, onClosed: options.onClosed })
  try {
    Flow.fromGraph(stage).join(handler).run(conn.materializer)
  } catch (e) {
    conn.materializer.logger.error(`websocket ${conn.id}: the handler flow could not be materialized`, e)
    ws.terminate()
    conn.closed()
  }
}

/** WebSocket handlers (RFC 6455) for the HTTP server. */
export const WebSocket = {
  /** True when the request asks to switch to WebSocket (it may still be a malformed handshake: `handle` answers those). */
  isUpgrade(req: HttpRequest): boolean {
    return isWebSocketUpgrade(req)
  },

  /**
   * Answer a WebSocket handshake by running `handler` over the connection: received messages flow
   * into it, what it emits is sent. A malformed handshake gets 400 (426 for an unsupported
   * version) and the connection stays HTTP. Settings are validated here: a bad one throws
   * `InvalidSettingError` (the handler fails: 500).
   */
  handle(req: HttpRequest, handler: Flow<Message, Message, any>, options: WebSocketOptions = NO_OPTIONS): HttpResponse {
    const p = prepare(options)
    const check = checkHandshake(req)
    if (!check.ok) return check.response
    return new UpgradeResponse((conn) => takeOver(conn, handler, options, p))
  },
} as const

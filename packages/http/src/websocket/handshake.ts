/**
 * The server's side of the opening handshake (RFC 6455 §4.2.1): which requests ask for a
 * WebSocket, and which of those are well-formed. A bad handshake is answered over HTTP — 400 Bad
 * Request, or 426 Upgrade Required when the client speaks a version other than 13 (§4.2.2) — and
 * the connection stays HTTP: the parser resumes after the declined switch, as for any upgrade the
 * server does not take. Both refusals carry `Sec-WebSocket-Version: 13`, the version this server
 * speaks (§4.4).
 */
import { Headers } from '../model/Headers.js'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'

/** The only WebSocket version (RFC 6455 §4.1: `Sec-WebSocket-Version: 13`). */
export const WEBSOCKET_VERSION = '13'

/** A Sec-WebSocket-Key is the base64 form of 16 bytes (RFC 6455 §4.1 item 7): 22 characters and `==`. */
const KEY = /^[+/0-9A-Za-z]{22}==$/

/** Why a handshake was refused (machine-readable). */
export type HandshakeProblem =
  | 'not-get'
  | 'not-http-1.1'
  | 'no-connection-upgrade'
  | 'no-upgrade-websocket'
  | 'bad-key'
  | 'missing-version'
  | 'unsupported-version'

export type HandshakeCheck =
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly problem: HandshakeProblem; readonly response: HttpResponse }

/** Whether a comma-separated header (all its fields) lists `token`, case-insensitively. */
function listsToken(req: HttpRequest, name: string, token: string): boolean {
  for (const field of req.headers.getAll(name)) {
    for (const item of field.split(',')) if (item.trim().toLowerCase() === token) return true
  }
  return false
}

/** True when the request asks to switch to WebSocket (its `Upgrade` lists `websocket`); it may still be malformed. */
export function isWebSocketUpgrade(req: HttpRequest): boolean {
  return listsToken(req, 'upgrade', 'websocket')
}

const VERSION_HEADER = Headers.from([['sec-websocket-version', WEBSOCKET_VERSION]])

function refuse(problem: HandshakeProblem, status: 400 | 426, text: string): HandshakeCheck {
  return { ok: false, problem, response: HttpResponse.text(text, status, VERSION_HEADER) }
}

/** Check an opening handshake; a refusal carries the response to send. */
export function checkHandshake(req: HttpRequest): HandshakeCheck {
  if (req.method !== 'GET') return refuse('not-get', 400, 'A WebSocket handshake must be a GET request.')
  if (req.version !== '1.1') return refuse('not-http-1.1', 400, 'A WebSocket handshake needs HTTP/1.1.')
  if (!isWebSocketUpgrade(req)) return refuse('no-upgrade-websocket', 400, 'The Upgrade header must list websocket.')
  if (!listsToken(req, 'connection', 'upgrade')) return refuse('no-connection-upgrade', 400, 'The Connection header must list upgrade.')
  const keys = req.headers.getAll('sec-websocket-key')
  const key = keys[0]?.trim()
  if (keys.length !== 1 || key === undefined || !KEY.test(key)) return refuse('bad-key', 400, 'Sec-WebSocket-Key must be one base64-encoded 16-byte value.')
  const versions = req.headers.getAll('sec-websocket-version')
  if (versions.length === 0) return refuse('missing-version', 400, 'Sec-WebSocket-Version is missing.')
  if (versions.length !== 1 || versions[0]!.trim() !== WEBSOCKET_VERSION) return refuse('unsupported-version', 426, 'This server speaks WebSocket version 13.')
  return { ok: true, key }
}

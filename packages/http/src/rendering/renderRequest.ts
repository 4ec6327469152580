/**
 * Rendering a request head (RFC 9112 §3): the request line in origin-form, `Host` from the target's authority,
 * framing from the entity (`Content-Length`, or `Transfer-Encoding: chunked` for a streamed entity of unknown
 * length), `Connection: close` when the client closes after this exchange. The connection owns every hop-by-hop
 * field: whatever the caller put in `Connection`, `Keep-Alive`, `TE`, `Upgrade` … (and fields a `Connection`
 * header names) is not written. Pure functions, like the response renderer.
 */
import type { HttpRequest } from '../model/HttpMessage.js'
import { HOP_BY_HOP, connectionOptions } from './hopByHop.js'
import { checkField } from './renderResponse.js'

/** How the body of a request goes on the wire. */
export type RequestFraming = 'none' | 'content-length' | 'chunked'

export interface RequestRenderContext {
  /** `host[:port]` for the `Host` field when the request has none. */
  readonly authority: string
  /** The connection closes after this exchange. */
  readonly close: boolean
  /** Value of the `User-Agent` field when the request has none (omit: none). */
  readonly userAgent?: string | undefined
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** The origin-form target (`/path?query`) of a request whose target may be absolute (`http://host/path`). */
export function originForm(target: string): string {
  if (target.startsWith('/') || target === '*') return target
  const s = target.indexOf('//')
  if (s < 0) return target
  const rest = target.slice(s + 2)
  const p = rest.search(/[/?]/)
  if (p < 0) return '/'
  return rest[p] === '?' ? `/${rest.slice(p)}` : rest.slice(p)
}

/** How `req` will be framed. */
export function requestFramingOf(req: HttpRequest): RequestFraming {
  const e = req.entity
  if (e.kind === 'strict') return e.data.length > 0 || bodyExpected(req.method) ? 'content-length' : 'none'
  return e.contentLength !== undefined ? 'content-length' : 'chunked'
}

/** Methods whose requests are expected to carry content (an empty body is announced as `Content-Length: 0`). */
function bodyExpected(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH'
}

/**
 * The last head rendered for a request, by request: a pool renders a request once to refuse a malformed one before
 * it reaches a connection, and the connection then writes the same head without rendering it again.
 */
const rendered = new WeakMap<HttpRequest, { readonly ctx: RequestRenderContext; readonly framing: RequestFraming; readonly head: string }>()

/** The request line and header block of `req`, ending with the empty line. Throws on a request that would break framing. */
export function renderRequestHead(req: HttpRequest, ctx: RequestRenderContext, framing: RequestFraming): string {
  const last = rendered.get(req)
  if (last !== undefined && last.framing === framing && last.ctx.authority === ctx.authority && last.ctx.close === ctx.close && last.ctx.userAgent === ctx.userAgent) return last.head
  const head = renderHead(req, ctx, framing)
  rendered.set(req, { ctx, framing, head })
  return head
}

function renderHead(req: HttpRequest, ctx: RequestRenderContext, framing: RequestFraming): string {
  if (!TOKEN.test(req.method)) throw new TypeError(`invalid method ${JSON.stringify(req.method)}`)
  const target = originForm(req.target)
  if (target.length === 0 || hasControlOrSpace(target)) throw new TypeError(`invalid request target ${JSON.stringify(req.target)}`)
  let head = `${req.method} ${target} HTTP/1.1\r\n`
  const named = connectionOptions(req.headers)
  let hasHost = false
  let hasUserAgent = false
  let hasContentType = false
  for (const [name, value] of req.headers.entries) {
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || named.has(lower) || lower === 'content-length') continue
    if (lower === 'host') hasHost = true
    else if (lower === 'user-agent') hasUserAgent = true
    else if (lower === 'content-type') hasContentType = true
    checkField(name, value)
    head += `${name}: ${value}\r\n`
  }
  if (!hasHost) head += `Host: ${ctx.authority}\r\n`
  if (!hasUserAgent && ctx.userAgent !== undefined) head += `User-Agent: ${ctx.userAgent}\r\n`
  const e = req.entity
  if (!hasContentType && e.contentType !== undefined && framing !== 'none') head += `Content-Type: ${e.contentType}\r\n`
  if (framing === 'content-length') head += `Content-Length: ${e.kind === 'strict' ? e.data.length : e.contentLength}\r\n`
  else if (framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n'
  if (ctx.close) head += 'Connection: close\r\n'
  return head + '\r\n'
}

/** A request-target must not contain whitespace or control characters (RFC 9112 §3.2). */
function hasControlOrSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c <= 0x20 || c === 0x7f) return true
  }
  return false
}

/**
 * Rendering a response head and framing its body. Pure functions: the connection decides
 * whether the connection stays open; the renderer makes the wire say so.
 *
 * The connection owns framing and hop-by-hop fields: `Content-Length`/`Transfer-Encoding` come
 * from the entity, `Connection: close` is written whenever the connection will close after this
 * response (whatever the handler set), `Keep-Alive: timeout=N` advertises the idle timeout on
 * responses that keep the connection open.
 */
import type { HttpResponse } from '../model/HttpMessage.js'
import { STATUS_TEXT, type HttpVersion } from '../model/HttpMessage.js'
import { HOP_BY_HOP, connectionOptions } from './hopByHop.js'
import { ResponseRenderingError } from './errors.js'

/** How the body of a response goes on the wire. */
export type BodyFraming = 'none' | 'content-length' | 'chunked' | 'close-delimited'

export interface ResponseContext {
  /** The request's method (HEAD responses carry no body). */
  readonly requestMethod: string
  /** The request's version: HTTP/1.0 peers cannot receive chunked bodies. */
  readonly requestVersion: HttpVersion
  /** The connection closes after this response. */
  readonly close: boolean
  /** Seconds advertised in `Keep-Alive: timeout=N` on responses that keep the connection (omit: none). */
  readonly keepAliveTimeoutSec?: number | undefined
  /** Value of the `Date` field. */
  readonly date: string
  /** Value of the `Server` field (omit: none). */
  readonly server?: string | undefined
}

/** Statuses whose responses never have a body (RFC 9110 §6.4.1). */
export function statusHasNoBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304
}

/** How `res` will be framed in `ctx`; 'close-delimited' forces the connection to close. */
export function framingOf(res: HttpResponse, ctx: ResponseContext): BodyFraming {
  if (statusHasNoBody(res.status)) return 'none'
  const e = res.entity
  if (e.kind === 'strict' || e.contentLength !== undefined) return 'content-length'
  return ctx.requestVersion === '1.1' ? 'chunked' : 'close-delimited'
}

/** Throws ResponseRenderingError when a field would break the message framing (response splitting). */
export function checkField(name: string, value: string): void {
  // response splitting: no CR, LF or NUL in what a handler puts on the wire (RFC 9110 §5.5)
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 13 || c === 10 || c === 0) throw new ResponseRenderingError(`header ${name} contains a line break or NUL`)
  }
  if (name.length === 0 || /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(name)) throw new ResponseRenderingError(`invalid header name ${JSON.stringify(name)}`)
}

/** The status line and header block of `res`, ending with the empty line. */
export function renderHead(res: HttpResponse, ctx: ResponseContext, framing: BodyFraming): string {
  const reason = STATUS_TEXT[res.status] ?? ''
  if (!Number.isInteger(res.status) || res.status < 100 || res.status > 999) throw new ResponseRenderingError(`invalid status ${res.status}`)
  let head = `HTTP/1.1 ${res.status} ${reason}\r\n`
  const named = connectionOptions(res.headers)
  let hasDate = false
  let hasServer = false
  let hasContentType = false
  for (const [name, value] of res.headers.entries) {
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || named.has(lower) || lower === 'content-length') continue
    if (lower === 'date') hasDate = true
    else if (lower === 'server') hasServer = true
    else if (lower === 'content-type') hasContentType = true
    checkField(name, value)
    head += `${name}: ${value}\r\n`
  }
  if (!hasDate) head += `Date: ${ctx.date}\r\n`
  if (!hasServer && ctx.server !== undefined) head += `Server: ${ctx.server}\r\n`
  const e = res.entity
  if (!hasContentType && e.contentType !== undefined && framing !== 'none') head += `Content-Type: ${e.contentType}\r\n`
  if (framing === 'content-length') head += `Content-Length: ${e.kind === 'strict' ? e.data.length : e.contentLength}\r\n`
  else if (framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n'
  // 426 Upgrade Required must say which protocols (RFC 9110 §15.5.22): the one hop-by-hop field a handler may set
  const upgrade = res.status === 426 ? res.headers.get('upgrade') : undefined
  if (upgrade !== undefined) {
    checkField('Upgrade', upgrade)
    head += `Upgrade: ${upgrade}\r\n`
  }
  const upgradeToken = upgrade === undefined ? '' : ', upgrade'
  if (ctx.close || framing === 'close-delimited') head += `Connection: close${upgradeToken}\r\n`
  else {
    if (ctx.requestVersion === '1.0') head += `Connection: keep-alive${upgradeToken}\r\n`
    else if (upgrade !== undefined) head += 'Connection: upgrade\r\n'
    if (ctx.keepAliveTimeoutSec !== undefined) head += `Keep-Alive: timeout=${ctx.keepAliveTimeoutSec}\r\n`
  }
  return head + '\r\n'
}

/**
 * The whole response as one buffer when its body is in memory (head and body in a single write);
 * HEAD responses get the head only.
 */
export function renderStrict(res: HttpResponse, ctx: ResponseContext): Uint8Array {
  const framing = framingOf(res, ctx)
  const head = renderHead(res, ctx, framing)
  const body = res.entity.kind === 'strict' && framing !== 'none' && ctx.requestMethod !== 'HEAD' ? res.entity.data : undefined
  const headLen = head.length // latin1: one byte per code unit
  const out = Buffer.allocUnsafe(headLen + (body?.length ?? 0))
  out.write(head, 0, 'latin1')
  if (body !== undefined) out.set(body, headLen)
  return out
}

/** The last chunk of a chunked body with no trailers. */
export const LAST_CHUNK: Uint8Array = Buffer.from('0\r\n\r\n', 'latin1')

export { renderChunk } from './chunks.js'

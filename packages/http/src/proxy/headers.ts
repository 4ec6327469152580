/**
 * The header fields a proxy rewrites, as pure functions over {@link Headers}:
 *
 * - hop-by-hop fields (RFC 9110 §7.6.1: `Connection`, `Keep-Alive`, `Transfer-Encoding`, `TE`, `Trailer`,
 *   `Upgrade`, `Proxy-Connection` and every field a `Connection` header names) describe one connection and are
 *   removed in both directions; each connection writes its own. `Content-Length` is removed too: the connection
 *   frames the entity it actually sends;
 * - `Via` (RFC 9110 §7.6.3) gets this hop appended, `received-protocol` then the proxy's pseudonym;
 * - `X-Forwarded-For` gets the client's address appended to the list earlier proxies built; `X-Forwarded-Proto`
 *   and `X-Forwarded-Host` say how the client reached this proxy (by default they replace what the client sent,
 *   which it could forge; `trustForwarded` keeps an earlier proxy's values).
 *
 * Repeated list fields are joined into one (`a, b, c`), which means the same (RFC 9110 §5.3).
 */
import type { Headers } from '../model/Headers.js'
import { stripHopByHop } from '../rendering/hopByHop.js'

/** Which `X-Forwarded-*` fields a proxy adds; all by default. */
export interface ForwardedFields {
  readonly for?: boolean
  readonly proto?: boolean
  readonly host?: boolean
}

/** What the forwarded request's header section is built from. */
export interface RequestHeaderContext {
  /** The pseudonym in `Via` (`1.1 <via>`), or false for no `Via`. */
  readonly via: string | false
  /** The version of the request as received (`Via` records it). */
  readonly version: string
  /** The client's address for `X-Forwarded-For` (none: not added). */
  readonly remoteAddress: string | undefined
  /** The client reached this proxy over TLS. */
  readonly secure: boolean
  readonly forwarded: ForwardedFields
  /** Keep the `X-Forwarded-Proto` and `-Host` an earlier proxy set, instead of replacing them. */
  readonly trustForwarded: boolean
  /** Keep the client's `Host`; otherwise it is removed and the client connection writes the upstream's. */
  readonly preserveHost: boolean
}

/** `headers` with the values of `name` joined into one list field ending with `value` (appended last). */
export function appendToList(headers: Headers, name: string, value: string): Headers {
  const existing = headers.getAll(name).map((v) => v.trim()).filter((v) => v !== '')
  return headers.delete(name).add(name, existing.length === 0 ? value : `${existing.join(', ')}, ${value}`)
}

/** The header section of a request as it goes to the upstream. */
export function forwardRequestHeaders(headers: Headers, ctx: RequestHeaderContext): Headers {
  const host = headers.get('host')
  let out = stripHopByHop(headers).delete('content-length')
  if (!ctx.preserveHost) out = out.delete('host')
  if (ctx.via !== false) out = appendToList(out, 'Via', `${ctx.version} ${ctx.via}`)
  if (ctx.forwarded.for !== false && ctx.remoteAddress !== undefined) out = appendToList(out, 'X-Forwarded-For', ctx.remoteAddress)
  if (ctx.forwarded.proto !== false && !(ctx.trustForwarded && out.has('x-forwarded-proto'))) out = out.set('X-Forwarded-Proto', ctx.secure ? 'https' : 'http')
  if (ctx.forwarded.host !== false && host !== undefined && !(ctx.trustForwarded && out.has('x-forwarded-host'))) out = out.set('X-Forwarded-Host', host)
  return out
}

/** The header section of an upstream response as it goes back to the client. */
export function forwardResponseHeaders(headers: Headers, via: string | false): Headers {
  const out = stripHopByHop(headers).delete('content-length')
  return via === false ? out : appendToList(out, 'Via', `1.1 ${via}`)
}

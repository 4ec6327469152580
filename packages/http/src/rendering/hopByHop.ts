/**
 * Hop-by-hop header fields (RFC 9110 §7.6.1): they describe one connection, not the message, so
 * the connection that sends a message owns them. A handler's or an upstream's values for these
 * are never forwarded; fields named in a `Connection` header are hop-by-hop too.
 */
import type { Headers } from '../model/Headers.js'

/** Lower-case names of the fields that are always hop-by-hop. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection'])

const NO_OPTIONS: ReadonlySet<string> = new Set()

/** The lower-case field names a `Connection` header lists (its connection options). */
export function connectionOptions(headers: Headers): ReadonlySet<string> {
  if (!headers.has('connection')) return NO_OPTIONS // the common case costs no set
  const out = new Set<string>()
  for (const v of headers.getAll('connection')) {
    for (const token of v.split(',')) {
      const t = token.trim().toLowerCase()
      if (t !== '') out.add(t)
    }
  }
  return out
}

/** `headers` without every hop-by-hop field (including those named in `Connection`). */
export function stripHopByHop(headers: Headers): Headers {
  const named = connectionOptions(headers)
  return headers.filter((name) => !HOP_BY_HOP.has(name) && !named.has(name))
}

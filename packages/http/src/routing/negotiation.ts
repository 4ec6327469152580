/**
 * Content negotiation (RFC 9110 §12.5.1): does the request's `Accept` allow a media type? The most
 * specific matching range decides (`application/json;q=0, *\/*` refuses JSON); no `Accept` allows
 * everything. Media type parameters other than `q` are ignored.
 */
import type { HttpRequest } from '../model/HttpMessage.js'

interface Range {
  readonly type: string
  readonly subtype: string
  readonly q: number
}

function parseAccept(value: string): Range[] {
  const out: Range[] = []
  for (const part of value.split(',')) {
    const [range, ...params] = part.split(';')
    const [type, subtype] = (range ?? '').trim().toLowerCase().split('/')
    if (type === undefined || type === '' || subtype === undefined || subtype === '') continue
    let q = 1
    for (const p of params) {
      const [k, v] = p.split('=')
      if (k?.trim().toLowerCase() === 'q') {
        const n = Number(v?.trim())
        q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 1
      }
    }
    out.push({ type, subtype, q })
  }
  return out
}

/** The bare media type of a Content-Type value, lower-cased (`application/json; charset=utf-8` → `application/json`). */
export function mediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined
  const bare = contentType.split(';')[0]!.trim().toLowerCase()
  return bare === '' ? undefined : bare
}

/** Whether `req` accepts `contentType`. */
export function accepts(req: HttpRequest, contentType: string): boolean {
  const values = req.headers.getAll('accept')
  if (values.length === 0) return true
  const ranges = parseAccept(values.join(','))
  if (ranges.length === 0) return true
  const [type, subtype] = mediaType(contentType)!.split('/')
  let best: Range | undefined
  let bestRank = -1
  for (const r of ranges) {
    const rank = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1
    if (rank > bestRank) {
      best = r
      bestRank = rank
    }
  }
  return best !== undefined && best.q > 0
}

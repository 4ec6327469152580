/**
 * Content-coding negotiation (RFC 9110 §12.5.3): parse `Accept-Encoding` and choose the coding of
 * a response. Pure functions: header values in, a closed union out.
 *
 * Rules, from the RFC:
 * - a coding is acceptable if listed with q > 0, or matched by `*` with q > 0 when not listed itself;
 *   `x-gzip` is taken as `gzip` (RFC 9110 §8.4.1.3);
 * - `identity` (no coding) is acceptable unless refused by `identity;q=0`, or by `*;q=0` with no
 *   entry for `identity`; when not listed it ranks below every listed coding;
 * - the highest q wins; among equal q, the server's order of preference decides, and a coding beats
 *   `identity` (the point of offering it);
 * - nothing acceptable and `identity` refused: `not-acceptable` (a server may answer 406).
 *
 * Two choices where the RFC leaves room: a request *without* `Accept-Encoding` gets `identity`
 * (the RFC allows any coding, but a client that says nothing may well not decode one), and an
 * empty field value means `identity` only (RFC 9110 §12.5.3). Malformed members (a bad token, a
 * q-value outside 0–1 or with more than three decimals) are ignored, the rest of the field counts.
 */
import type { ContentCoding } from './errors.js'

/** One member of `Accept-Encoding`: a coding (lower-cased; `*` and `identity` included) and its weight. */
export interface AcceptEncodingEntry {
  readonly coding: string
  /** The weight, 0–1 (1 when no `q` was given). */
  readonly q: number
}

/** The outcome of negotiating a response's content coding. */
export type EncodingChoice =
  /** encode with this coding */
  | { readonly kind: 'coding'; readonly coding: ContentCoding; readonly q: number }
  /** send the representation as it is */
  | { readonly kind: 'identity' }
  /** the client refused identity and accepts none of the available codings */
  | { readonly kind: 'not-acceptable' }

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/
/** Ranks an identity that the field does not mention below any listed coding (q-values are multiples of 0.001). */
const IMPLICIT_IDENTITY = 0.0001

const IDENTITY: EncodingChoice = { kind: 'identity' }
const NOT_ACCEPTABLE: EncodingChoice = { kind: 'not-acceptable' }

/**
 * The members of `Accept-Encoding` (every field line given, in order), malformed members skipped.
 * `x-gzip` is reported as `gzip`.
 */
export function parseAcceptEncoding(values: readonly string[]): AcceptEncodingEntry[] {
  const out: AcceptEncodingEntry[] = []
  for (const value of values) {
    for (const member of value.split(',')) {
      const entry = parseMember(member)
      if (entry !== undefined) out.push(entry)
    }
  }
  return out
}

function parseMember(member: string): AcceptEncodingEntry | undefined {
  const parts = member.split(';')
  const coding = parts[0]!.trim().toLowerCase()
  if (coding === '' || !TOKEN.test(coding)) return undefined
  let q = 1
  for (let i = 1; i < parts.length; i++) {
    const param = parts[i]!.trim()
    const eq = param.indexOf('=')
    if (eq < 0) return undefined
    const name = param.slice(0, eq).trimEnd().toLowerCase()
    if (name !== 'q') continue // not defined for Accept-Encoding: ignored
    const v = param.slice(eq + 1).trimStart()
    if (!QVALUE.test(v)) return undefined
    q = Number(v)
  }
  return { coding: coding === 'x-gzip' ? 'gzip' : coding, q }
}

/**
 * Choose a response's coding from the request's `Accept-Encoding` field values (`undefined` or
 * `[]` when the request had none) among `available`, listed in the server's order of preference.
 */
export function negotiateEncoding(acceptEncoding: readonly string[] | undefined, available: readonly ContentCoding[]): EncodingChoice {
  if (acceptEncoding === undefined || acceptEncoding.length === 0) return IDENTITY
  const entries = parseAcceptEncoding(acceptEncoding)
  if (entries.length === 0) return IDENTITY // empty (identity only) or nothing well-formed
  const weight = (coding: string): number | undefined => entries.find((e) => e.coding === coding)?.q
  const star = weight('*')

  let best: ContentCoding | undefined
  let bestQ = 0
  for (const coding of available) {
    const q = weight(coding) ?? star ?? 0
    if (q > bestQ) {
      best = coding
      bestQ = q
    }
  }
  const identityQ = weight('identity') ?? star ?? IMPLICIT_IDENTITY
  if (best !== undefined && bestQ >= identityQ) return { kind: 'coding', coding: best, q: bestQ }
  if (identityQ > 0) return IDENTITY
  return NOT_ACCEPTABLE
}

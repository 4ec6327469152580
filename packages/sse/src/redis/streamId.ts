/**
 * Redis stream entry ids (`<ms>-<seq>`, both unsigned 64-bit decimal integers): recognising them
 * and ordering them.
 *
 * Contract: {@link isStreamId} accepts exactly the complete ids Redis assigns (no `*`, no bare
 * `<ms>`, no sign, no leading zeros except `0` itself). {@link compareStreamIds} orders two such
 * ids as Redis does — by milliseconds, then sequence — exactly, with no loss of precision above
 * 2^53: the decimal strings are compared by length first, then lexically.
 */

const STREAM_ID = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/

/** The smallest id Redis can assign: every entry id is greater. */
export const MIN_STREAM_ID = '0-0'

/** Whether `s` is a complete stream entry id (`<ms>-<seq>`). */
export function isStreamId(s: string): boolean {
  return STREAM_ID.test(s)
}

function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

/** Negative, zero or positive as stream id `a` is before, equal to or after `b` (both complete ids). */
export function compareStreamIds(a: string, b: string): number {
  const da = a.indexOf('-')
  const db = b.indexOf('-')
  return compareDecimal(a.slice(0, da), b.slice(0, db)) || compareDecimal(a.slice(da + 1), b.slice(db + 1))
}

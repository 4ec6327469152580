/**
 * Durations in settings and operator arguments: a number of milliseconds, or a string with a
 * unit (`'250ms'`, `'75s'`, `'2m'`, `'1h'`, `'1.5s'`), or `'infinite'` / `Infinity`.
 */
import { InvalidArgumentError } from './errors.js'

export type Duration = number | string

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)\s*$/

/** Milliseconds of a {@link Duration}; throws {@link InvalidArgumentError} naming `what` on bad input. */
export function toMillis(d: Duration, what = 'duration'): number {
  if (typeof d === 'number') {
    if (Number.isNaN(d) || d < 0) throw new InvalidArgumentError(what, d, 'a non-negative number of milliseconds')
    return d
  }
  if (d === 'infinite' || d === 'Infinity') return Infinity
  const m = PATTERN.exec(d)
  if (m === null) throw new InvalidArgumentError(what, JSON.stringify(d), "a duration such as 500, '250ms', '75s', '2m' or 'infinite'")
  return Number(m[1]) * UNIT_MS[m[2]!]!
}

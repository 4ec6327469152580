/**
 * io-ts building blocks for settings: durations (`75`, `'75s'`, `'infinite'`), byte sizes
 * (`1048576`, `'1m'`, `'64k'`), bounded integers, and the error that names the setting and the
 * value when a setting is wrong.
 */
import * as t from 'io-ts'
import { isLeft } from 'fp-ts/lib/Either.js'
import { toMillis, WeirError } from '@weir/core'

/** A duration in ms, or a string with a unit; decodes to milliseconds (Infinity for 'infinite'). */
export const DurationC = new t.Type<number, number | string, unknown>(
  'Duration',
  (u): u is number => typeof u === 'number' && u >= 0,
  (u, c) => {
    if (typeof u !== 'number' && typeof u !== 'string') return t.failure(u, c, "a duration such as 500, '250ms', '75s', '2m' or 'infinite'")
    try {
      return t.success(toMillis(u))
    } catch {
      return t.failure(u, c, "a duration such as 500, '250ms', '75s', '2m' or 'infinite'")
    }
  },
  (ms) => ms,
)

const SIZE = /^\s*(\d+)\s*(b|k|kb|m|mb|g|gb)?\s*$/i
const UNIT: Readonly<Record<string, number>> = { b: 1, k: 1024, kb: 1024, m: 1 << 20, mb: 1 << 20, g: 1 << 30, gb: 1 << 30 }

/** A byte size: a number of bytes or a string like '64k', '10m'. */
export const ByteSizeC = new t.Type<number, number | string, unknown>(
  'ByteSize',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 0,
  (u, c) => {
    if (typeof u === 'number') return Number.isInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c, 'a whole number of bytes ≥ 0')
    if (typeof u === 'string') {
      const m = SIZE.exec(u)
      if (m !== null) return t.success(Number(m[1]) * UNIT[(m[2] ?? 'b').toLowerCase()]!)
    }
    return t.failure(u, c, "a size such as 8192, '64k' or '10m'")
  },
  (n) => n,
)

/** A whole number in [min, max]. */
export function IntC(min: number, max = Number.MAX_SAFE_INTEGER): t.Type<number, number, unknown> {
  return new t.Type<number, number, unknown>(
    `Int[${min}..${max}]`,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max ? t.success(u) : t.failure(u, c, `a whole number from ${min} to ${max}`)),
    (n) => n,
  )
}

/** A setting had a wrong value; `setting` is its path (e.g. `idleTimeout`), `expected` what it takes. */
export class InvalidSettingError extends WeirError {
  constructor(
    readonly setting: string,
    readonly value: unknown,
    readonly expected: string,
    readonly others: readonly { setting: string; value: unknown; expected: string }[] = [],
  ) {
    super('WEIR_HTTP_INVALID_SETTING', `Invalid setting ${setting}: ${JSON.stringify(value)} (expected ${expected})${others.length > 0 ? ` and ${others.length} more` : ''}`)
  }
}

/** One documented setting: its codec, its default (in the input form users write) and why it exists. */
export interface SettingSpec<A> {
  readonly codec: t.Type<A, unknown, unknown>
  readonly default: unknown
  readonly doc: string
}

export type Spec = Readonly<Record<string, SettingSpec<any>>>
export type Decoded<S extends Spec> = { readonly [K in keyof S]: S[K] extends SettingSpec<infer A> ? A : never }
export type Input<S extends Spec> = { readonly [K in keyof S]?: unknown }

/** Decode user settings against a spec: unknown keys and wrong values fail with InvalidSettingError; defaults fill the rest. */
export function decodeSettings<S extends Spec>(spec: S, input: Input<S> | undefined, prefix = ''): Decoded<S> {
  const out: Record<string, unknown> = {}
  const errors: { setting: string; value: unknown; expected: string }[] = []
  const given = (input ?? {}) as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(key in spec)) errors.push({ setting: prefix + key, value: given[key], expected: `one of the known settings (${Object.keys(spec).join(', ')})` })
  }
  for (const [key, s] of Object.entries(spec)) {
    const raw = given[key] === undefined ? s.default : given[key]
    const r = s.codec.decode(raw)
    if (isLeft(r)) {
      const msg = r.left[0]?.message ?? s.codec.name
      errors.push({ setting: prefix + key, value: raw, expected: msg })
    } else out[key] = r.right
  }
  if (errors.length > 0) {
    const [first, ...rest] = errors
    throw new InvalidSettingError(first!.setting, first!.value, first!.expected, rest)
  }
  return out as Decoded<S>
}

/**
 * Path matchers: what a path directive matches after each `/`. A string is a literal (it may span
 * several segments: `'api/v1'`); a matcher extracts typed values from one segment or more.
 *
 * Contract: `match(path)` receives the unmatched path just after a `/` and returns the values and
 * what is left (empty, or starting with `/`), or `undefined` when it does not match. Segments are
 * percent-decoded before they are compared or converted (a malformed escape does not match);
 * `remaining` is the exception: it gives the rest as sent, still encoded, so an encoded `/`
 * (`%2F`) can never pass for a separator.
 */
import { InvalidArgumentError } from '@weir/core'

/** The values a matcher extracted and the path left after it. */
export interface PathMatch<T extends readonly unknown[]> {
  readonly values: T
  readonly rest: string
}

/** Matches the path after a `/`, extracting `T`. */
export interface PathMatcher<T extends readonly unknown[]> {
  /** What it matches, for diagnostics (`int`, `uuid`, `'items'`). */
  readonly name: string
  match(path: string): PathMatch<T> | undefined
}

/** One argument of a path directive: a literal or a matcher. */
export type PathArg = string | PathMatcher<readonly unknown[]>

/** The values the arguments of a path directive extract, in order (literals extract nothing). */
export type PathValues<M extends readonly PathArg[]> = M extends readonly [infer H, ...infer R extends readonly PathArg[]]
  ? H extends PathMatcher<infer T>
    ? [...T, ...PathValues<R>]
    : PathValues<R>
  : []

function split(path: string): [segment: string, rest: string] {
  const i = path.indexOf('/')
  return i < 0 ? [path, ''] : [path.slice(0, i), path.slice(i)]
}

function decode(segment: string): string | undefined {
  if (!segment.includes('%')) return segment
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** A matcher of one segment: `convert` turns the decoded segment into a value or `undefined` (no match). */
export function segmentMatcher<A>(name: string, convert: (segment: string) => A | undefined): PathMatcher<[A]> {
  return {
    name,
    match(path) {
      const [raw, rest] = split(path)
      if (raw === '') return undefined
      const s = decode(raw)
      if (s === undefined) return undefined
      const v = convert(s)
      return v === undefined ? undefined : { values: [v], rest }
    },
  }
}

/** One literal segment (compared after percent-decoding). */
function literalSegment(text: string): PathMatcher<[]> {
  return {
    name: `'${text}'`,
    match(path) {
      const [raw, rest] = split(path)
      return decode(raw) === text ? { values: [], rest } : undefined
    },
  }
}

/** The matchers of a literal: one per segment (`'api/v1'` is `'api'` then `'v1'`). */
export function literalMatchers(text: string): PathMatcher<[]>[] {
  const trimmed = text.replace(/^\/+|\/+$/g, '')
  if (trimmed === '' || trimmed.includes('//')) throw new InvalidArgumentError('path literal', JSON.stringify(text), 'one or more non-empty segments, such as "items" or "api/v1"')
  return trimmed.split('/').map(literalSegment)
}

const INT = /^\d{1,16}$/
const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/** Any non-empty segment, decoded. */
export const segment: PathMatcher<[string]> = segmentMatcher('segment', (s) => s)

/** A non-negative whole number in decimal digits, up to 2^53 − 1 (`/items/42` → 42). */
export const intNumber: PathMatcher<[number]> = segmentMatcher('int', (s) => {
  if (!INT.test(s)) return undefined
  const n = Number(s)
  return Number.isSafeInteger(n) ? n : undefined
})

/** A decimal number, possibly negative or with a fraction or exponent (`-1.5`, `2e3`). */
export const decimalNumber: PathMatcher<[number]> = segmentMatcher('decimal', (s) => {
  if (!DECIMAL.test(s)) return undefined
  const n = Number(s)
  return Number.isFinite(n) ? n : undefined
})

/** A UUID in its canonical 8-4-4-4-12 hex form, lower-cased. */
export const uuid: PathMatcher<[string]> = segmentMatcher('uuid', (s) => (UUID.test(s) ? s.toLowerCase() : undefined))

/** A segment matching `re` entirely; extracts the segment, or the first capture group when there is one. */
export function segmentMatching(re: RegExp): PathMatcher<[string]> {
  const anchored = new RegExp(`^(?:${re.source})$`, re.flags.replace(/[gy]/g, ''))
  return segmentMatcher(`/${re.source}/`, (s) => {
    const m = anchored.exec(s)
    return m === null ? undefined : (m[1] ?? m[0])
  })
}

/** One of the given segments, mapped to its value (`oneOf({ asc: 1, desc: -1 })`). */
export function oneOf<const V extends Readonly<Record<string, unknown>>>(values: V): PathMatcher<[V[keyof V]]> {
  return segmentMatcher(Object.keys(values).map((k) => `'${k}'`).join(' | '), (s) => (Object.hasOwn(values, s) ? (values[s] as V[keyof V]) : undefined))
}

/** The rest of the path, as sent (still percent-encoded), possibly empty: `/files/a/b%20c` → `a/b%20c`. */
export const remaining: PathMatcher<[string]> = {
  name: 'remaining',
  match: (path) => ({ values: [path], rest: '' }),
}

/** The remaining segments, each decoded (a malformed escape does not match): `/files/a/b` → `['a', 'b']`. */
export const segments: PathMatcher<[string[]]> = {
  name: 'segments',
  match(path) {
    const out: string[] = []
    for (const raw of path === '' ? [] : path.split('/')) {
      const s = decode(raw)
      if (s === undefined) return undefined
      out.push(s)
    }
    return { values: [out], rest: '' }
  },
}

/**
 * Query parameters and headers with typed extraction.
 *
 * A spec names a value and how to read it: `param('page', As.int)`, `header('X-Request-Id')`; it is
 * required unless made `.optional()` (gives `undefined`), `.withDefault(v)` or `.repeated()` (all
 * occurrences, possibly none). `parameters(...specs, inner)` and `headerValues(...specs, inner)`
 * hand the values to `inner` in order, typed:
 *
 * ```ts
 * parameters(param('q'), param('page', As.int).withDefault(1), param('tag').repeated(), (q, page, tags) => …)
 * //                                                                                     string, number, string[]
 * ```
 *
 * A missing required value rejects with `missing-query-param` / `missing-header`, a value that does
 * not read as its type with `malformed-query-param` / `malformed-header` (400 by default).
 */
import type * as t from 'io-ts'
import { isRight } from 'fp-ts/lib/Either.js'
import { rejected, runInner, type Inner, type Route } from './Route.js'
import { Rejections, type Rejection } from './rejections.js'

/** Reads a text value (a query parameter, a header) as a `T`, or `undefined` when it cannot. */
export interface ValueReader<T> {
  /** What it expects, for the rejection (`a whole number`). */
  readonly expected: string
  read(text: string): T | undefined
}

const INT = /^[-+]?\d{1,16}$/
const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, yes: true, no: false, on: true, off: false, '1': true, '0': false }

/** The value readers. */
export const As = {
  string: { expected: 'a string', read: (s: string) => s } as ValueReader<string>,
  /** A whole number (safe integer), optionally signed. */
  int: { expected: 'a whole number', read: (s: string) => (INT.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : undefined) } as ValueReader<number>,
  /** A finite decimal number. */
  number: { expected: 'a number', read: (s: string) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : undefined) } as ValueReader<number>,
  /** `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0` (case-insensitive). */
  boolean: { expected: 'a boolean (true or false)', read: (s: string) => BOOLEANS[s.toLowerCase()] } as ValueReader<boolean>,
  /** One of the given literals. */
  oneOf<const V extends readonly string[]>(...values: V): ValueReader<V[number]> {
    return { expected: `one of ${values.join(', ')}`, read: (s) => (values.includes(s) ? (s as V[number]) : undefined) }
  },
  /** Whatever an io-ts codec decodes the text to (`As.codec(t.keyof({ asc: null, desc: null }))`). */
  codec<A>(codec: t.Decoder<unknown, A>): ValueReader<A> {
    return {
      expected: codec.name,
      read: (s) => {
        const r = codec.decode(s)
        return isRight(r) ? r.right : undefined
      },
    }
  },
}

type Where = 'query' | 'header'
type Mode = { readonly kind: 'required' } | { readonly kind: 'optional' } | { readonly kind: 'default'; readonly value: unknown } | { readonly kind: 'repeated' }

/** A value to extract from the query (`W = 'query'`) or the headers (`W = 'header'`), as a `T`. */
export class ValueSpec<T, W extends Where> {
  /** @internal use `param` / `header`. */
  constructor(
    readonly where: W,
    readonly name: string,
    readonly reader: ValueReader<unknown>,
    readonly mode: Mode = { kind: 'required' },
  ) {}
  /** Absent → `undefined` instead of a rejection. */
  optional(): ValueSpec<T | undefined, W> {
    return new ValueSpec(this.where, this.name, this.reader, { kind: 'optional' })
  }
  /** Absent → `value`. */
  withDefault(value: T): ValueSpec<T, W> {
    return new ValueSpec(this.where, this.name, this.reader, { kind: 'default', value })
  }
  /** Every occurrence, in order (none → `[]`). */
  repeated(): ValueSpec<T[], W> {
    return new ValueSpec(this.where, this.name, this.reader, { kind: 'repeated' })
  }
  /** @internal the phantom type of the value. */
  declare readonly _type?: T
}

/** A query parameter (read as a string unless a reader is given). */
export function param<T = string>(name: string, reader: ValueReader<T> = As.string as ValueReader<any>): ValueSpec<T, 'query'> {
  return new ValueSpec('query', name, reader)
}

/** A header (name case-insensitive; read as a string unless a reader is given). */
export function header<T = string>(name: string, reader: ValueReader<T> = As.string as ValueReader<any>): ValueSpec<T, 'header'> {
  return new ValueSpec('header', name, reader)
}

/** The values of a list of specs, in order. */
export type SpecValues<S extends readonly ValueSpec<any, any>[]> = { -readonly [K in keyof S]: S[K] extends ValueSpec<infer T, any> ? T : never }

type Extracted = { ok: true; value: unknown } | { ok: false; rejection: Rejection }

function extractOne(spec: ValueSpec<unknown, Where>, all: readonly string[]): Extracted {
  const missing = (): Extracted => ({ ok: false, rejection: spec.where === 'query' ? Rejections.missingQueryParam(spec.name) : Rejections.missingHeader(spec.name) })
  const malformed = (value: string): Extracted => ({
    ok: false,
    rejection: spec.where === 'query' ? Rejections.malformedQueryParam(spec.name, value, spec.reader.expected) : Rejections.malformedHeader(spec.name, value, spec.reader.expected),
  })
  if (spec.mode.kind === 'repeated') {
    const out: unknown[] = []
    for (const s of all) {
      const v = spec.reader.read(s)
      if (v === undefined) return malformed(s)
      out.push(v)
    }
    return { ok: true, value: out }
  }
  const first = all[0]
  if (first === undefined) {
    switch (spec.mode.kind) {
      case 'required':
        return missing()
      case 'optional':
        return { ok: true, value: undefined }
      case 'default':
        return { ok: true, value: spec.mode.value }
    }
  }
  const v = spec.reader.read(first)
  return v === undefined ? malformed(first) : { ok: true, value: v }
}

function compile(args: readonly unknown[], directive: string, where: Where): { specs: ValueSpec<unknown, Where>[]; inner: Inner<any> } {
  const inner = args[args.length - 1]
  if (typeof inner !== 'function') throw new TypeError(`${directive}: the last argument must be the inner function`)
  const specs = args.slice(0, -1) as ValueSpec<unknown, Where>[]
  for (const s of specs) if (!(s instanceof ValueSpec) || s.where !== where) throw new TypeError(`${directive}: expected ${where === 'query' ? 'param(...)' : 'header(...)'} specs`)
  return { specs, inner: inner as Inner<any> }
}

function extracting(specs: readonly ValueSpec<unknown, Where>[], inner: Inner<any>, lookup: (ctx: Parameters<Route>[0], name: string) => string[]): Route {
  return (ctx) => {
    const values: unknown[] = []
    for (const spec of specs) {
      const r = extractOne(spec, lookup(ctx, spec.name))
      if (!r.ok) return Promise.resolve(rejected([r.rejection]))
      values.push(r.value)
    }
    return runInner(inner, values, ctx)
  }
}

/** Extract query parameters, typed, in order. */
export function parameters<const S extends readonly ValueSpec<any, 'query'>[]>(...args: [...S, Inner<SpecValues<S>>]): Route {
  const { specs, inner } = compile(args, 'parameters', 'query')
  return extracting(specs, inner, (ctx, name) => ctx.request.query.getAll(name))
}

/** Extract headers, typed, in order. */
export function headerValues<const S extends readonly ValueSpec<any, 'header'>[]>(...args: [...S, Inner<SpecValues<S>>]): Route {
  const { specs, inner } = compile(args, 'headerValues', 'header')
  return extracting(specs, inner, (ctx, name) => ctx.request.headers.getAll(name))
}

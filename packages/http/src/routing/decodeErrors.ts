/**
 * io-ts validation errors as a readable list: where (`$.items[2].price`), what was expected (the
 * codec's name), what was there (as JSON text). Members of unions, intersections and refinements
 * do not add to the path (refinements, exact and readonly types add no entry of their own); a failure is reported at the outermost type of its location, once.
 */
import type * as t from 'io-ts'
import type { EntityFieldError } from './rejections.js'

/** Types whose context entries are member indices, not locations (refinements, exact and readonly types add no entry). */
const TRANSPARENT = new Set(['UnionType', 'IntersectionType'])
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const MAX_RECEIVED = 80

function tag(type: t.Decoder<any, any>): string | undefined {
  return (type as { _tag?: string })._tag
}

function received(value: unknown): string {
  let s: string | undefined
  try {
    s = JSON.stringify(value)
  } catch {
    s = undefined
  }
  s ??= String(value)
  return s.length > MAX_RECEIVED ? `${s.slice(0, MAX_RECEIVED - 1)}…` : s
}

/** One error: its path and the type expected there. */
function locate(context: t.Context): { path: string; expected: string } {
  let path = '$'
  let expected = context[0]?.type.name ?? 'unknown'
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1]!
    const entry = context[i]!
    const parentTag = tag(parent.type)
    if (parentTag !== undefined && TRANSPARENT.has(parentTag)) continue
    const arrayLike = parentTag === 'ArrayType' || parentTag === 'ReadonlyArrayType' || parentTag === 'TupleType' || (parentTag === undefined && Array.isArray(parent.actual))
    path += arrayLike ? `[${entry.key}]` : IDENTIFIER.test(entry.key) ? `.${entry.key}` : `[${JSON.stringify(entry.key)}]`
    expected = entry.type.name
  }
  return { path, expected }
}

/** The validation errors as field errors, in order, without duplicates. */
export function describeErrors(errors: t.Errors): EntityFieldError[] {
  const out: EntityFieldError[] = []
  const seen = new Set<string>()
  for (const e of errors) {
    const { path, expected } = locate(e.context)
    const key = `${path}\u0000${expected}`
    if (seen.has(key)) continue
    seen.add(key)
    const base = { path, expected, received: received(e.value) }
    out.push(e.message === undefined ? base : { ...base, message: e.message })
  }
  return out
}

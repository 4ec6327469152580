/**
 * io-ts errors as readable field errors: paths through objects, arrays, tuples and records; union,
 * intersection and refinement members add nothing to the path; duplicates are dropped; a codec's
 * own message is kept.
 */
import * as t from 'io-ts'
import { isLeft } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { describeErrors } from './decodeErrors.js'

function errorsOf(codec: t.Decoder<unknown, unknown>, value: unknown) {
  const r = codec.decode(value)
  if (!isLeft(r)) throw new Error('expected a failure')
  return describeErrors(r.left)
}

describe('describeErrors', () => {
  it('walks objects, arrays, tuples and records', () => {
    const Order = t.type({ lines: t.array(t.type({ sku: t.string, qty: t.number })), pair: t.tuple([t.string, t.number]), meta: t.record(t.string, t.number) })
    expect(errorsOf(Order, { lines: [{ sku: 'a', qty: 1 }, { sku: 2, qty: 1 }], pair: ['x', 'y'], meta: { 'not an id': 'v' } })).toEqual([
      { path: '$.lines[1].sku', expected: 'string', received: '2' },
      { path: '$.pair[1]', expected: 'number', received: '"y"' },
      { path: '$.meta["not an id"]', expected: 'number', received: '"v"' },
    ])
  })

  it('reports a union once, at its location, by the union name', () => {
    const Id = t.union([t.string, t.number])
    expect(errorsOf(t.type({ id: Id }), { id: true })).toEqual([{ path: '$.id', expected: '(string | number)', received: 'true' }])
  })

  it('sees through intersections, exact and partial types', () => {
    const A = t.intersection([t.type({ a: t.string }), t.partial({ b: t.number })])
    expect(errorsOf(t.exact(t.type({ x: A })), { x: { a: 1, b: 'no' } })).toEqual([
      { path: '$.x.a', expected: 'string', received: '1' },
      { path: '$.x.b', expected: 'number', received: '"no"' },
    ])
  })

  it('keeps a custom message and shortens long values', () => {
    const Even = new t.Type<number, number, unknown>('Even', (u): u is number => typeof u === 'number' && u % 2 === 0, (u, c) => (typeof u === 'number' && u % 2 === 0 ? t.success(u) : t.failure(u, c, 'must be even')), (n) => n)
    expect(errorsOf(t.type({ n: Even }), { n: 3 })).toEqual([{ path: '$.n', expected: 'Even', received: '3', message: 'must be even' }])
    const [long] = errorsOf(t.number, 'x'.repeat(200))
    expect(long!.received.length).toBe(80)
    expect(long!.received.endsWith('…')).toBe(true)
  })
})

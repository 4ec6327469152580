import { describe, expect, it } from 'vitest'
import * as t from 'io-ts'
import { TopicCodec } from './codec.js'
import { TopicCodecError } from './errors.js'

function thrown(f: () => unknown): unknown {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error('did not throw')
}

describe('TopicCodec.json', () => {
  const json = TopicCodec.json<unknown>()

  it('round-trips JSON values', () => {
    const value = { a: [1, 'two', null, true], b: { c: 'line\nbreak' } }
    expect(json.decode(json.encode(value))).toEqual(value)
  })

  it('rejects what JSON cannot represent with an encode error', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const value of [undefined, () => 1, Symbol('s'), 1n, cyclic]) {
      expect(thrown(() => json.encode(value))).toMatchObject({ code: 'WEIR_SSE_TOPIC_CODEC', direction: 'encode' })
    }
  })

  it('rejects text that is not JSON with a decode error', () => {
    const e = thrown(() => json.decode('{nope'))
    expect(e).toBeInstanceOf(TopicCodecError)
    expect(e).toMatchObject({ direction: 'decode' })
  })
})

describe('TopicCodec.fromType', () => {
  const Price = t.type({ symbol: t.string, price: t.number })
  const codec = TopicCodec.fromType(Price)

  it('round-trips values of the type', () => {
    expect(codec.decode(codec.encode({ symbol: 'ACME', price: 12 }))).toEqual({ symbol: 'ACME', price: 12 })
  })

  it('rejects JSON of another shape, naming each failing path', () => {
    const e = thrown(() => codec.decode('{"symbol":1,"price":"x"}')) as TopicCodecError
    expect(e).toMatchObject({ code: 'WEIR_SSE_TOPIC_CODEC', direction: 'decode' })
    expect(e.problems).toHaveLength(2)
    expect(e.problems.some((p) => p.startsWith('symbol'))).toBe(true)
    expect(e.problems.some((p) => p.startsWith('price'))).toBe(true)
  })

  it('applies the type’s encoding before JSON', () => {
    const Dated = t.type({ at: new t.Type<Date, string, unknown>('DateFromISO', (u): u is Date => u instanceof Date, (u, c) => (typeof u === 'string' ? t.success(new Date(u)) : t.failure(u, c)), (d) => d.toISOString()) })
    const dated = TopicCodec.fromType(Dated)
    expect(dated.encode({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}')
    expect(dated.decode('{"at":"1970-01-01T00:00:00.000Z"}').at.getTime()).toBe(0)
  })
})

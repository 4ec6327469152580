import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MIN_STREAM_ID, compareStreamIds, isStreamId } from './streamId.js'

describe('stream ids', () => {
  it('accepts complete ids only', () => {
    for (const id of ['0-0', '1-0', '1700000000000-12', '18446744073709551615-18446744073709551615']) expect(isStreamId(id)).toBe(true)
    for (const id of ['', '*', '1', '1-', '-1', '01-0', '1-01', '1-0 ', 'a-b', '1-2-3', '+1-0', '123456789012345678901-0']) expect(isStreamId(id)).toBe(false)
  })

  it('orders ids by milliseconds, then sequence, exactly above 2^53', () => {
    expect(compareStreamIds('1-9', '2-0')).toBeLessThan(0)
    expect(compareStreamIds('10-0', '9-99')).toBeGreaterThan(0)
    expect(compareStreamIds('5-5', '5-5')).toBe(0)
    expect(compareStreamIds('9007199254740993-0', '9007199254740992-0')).toBeGreaterThan(0)
    expect(compareStreamIds('1-9007199254740993', '1-9007199254740992')).toBeGreaterThan(0)
    expect(compareStreamIds(MIN_STREAM_ID, '0-1')).toBeLessThan(0)
  })

  it('agrees with BigInt ordering', () => {
    const part = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
    fc.assert(
      fc.property(part, part, part, part, (ma, sa, mb, sb) => {
        const expected = ma === mb ? (sa === sb ? 0 : sa < sb ? -1 : 1) : ma < mb ? -1 : 1
        expect(Math.sign(compareStreamIds(`${ma}-${sa}`, `${mb}-${sb}`))).toBe(expected)
      }),
    )
  })
})

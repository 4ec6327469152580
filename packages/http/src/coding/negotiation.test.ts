import { describe, expect, it } from 'vitest'
import type { ContentCoding } from './errors.js'
import { negotiateEncoding, parseAcceptEncoding, type EncodingChoice } from './negotiation.js'

const SERVER: readonly ContentCoding[] = ['br', 'gzip', 'deflate']

const coding = (c: ContentCoding): string => c
const IDENTITY = 'identity'
const NOT_ACCEPTABLE = '406'

function outcome(choice: EncodingChoice): string {
  switch (choice.kind) {
    case 'coding':
      return choice.coding
    case 'identity':
      return IDENTITY
    case 'not-acceptable':
      return NOT_ACCEPTABLE
  }
}

describe('parseAcceptEncoding', () => {
  it('reads codings with their weights, case-insensitively, across field lines', () => {
    expect(parseAcceptEncoding(['GZip;Q=0.5, br', ' deflate ; q=0 ,'])).toEqual([
      { coding: 'gzip', q: 0.5 },
      { coding: 'br', q: 1 },
      { coding: 'deflate', q: 0 },
    ])
  })

  it('skips malformed members and keeps the rest', () => {
    expect(parseAcceptEncoding(['gzip;q=2, br;q=0.1234, deflate;q=, @bad, identity;q=1.000, *;q=0.001'])).toEqual([
      { coding: 'identity', q: 1 },
      { coding: '*', q: 0.001 },
    ])
  })

  it('reads x-gzip as gzip and ignores parameters other than q', () => {
    expect(parseAcceptEncoding(['x-gzip;level=9;q=0.3'])).toEqual([{ coding: 'gzip', q: 0.3 }])
  })
})

describe('negotiateEncoding (RFC 9110 §12.5.3), server preference br > gzip > deflate', () => {
  const table: readonly (readonly [string | undefined, string])[] = [
    // no field: identity (any coding would be allowed, but the client did not say it decodes one)
    [undefined, IDENTITY],
    // an empty field: no coding wanted
    ['', IDENTITY],
    ['gzip', coding('gzip')],
    ['deflate', coding('deflate')],
    ['br', coding('br')],
    // equal weights: the server's preference decides
    ['gzip, deflate, br', coding('br')],
    ['deflate, gzip', coding('gzip')],
    // the highest weight wins over the server's preference
    ['br;q=0.5, gzip', coding('gzip')],
    ['br;q=0.5, gzip;q=0.8, deflate;q=0.9', coding('deflate')],
    // * matches what is not listed
    ['*', coding('br')],
    ['br;q=0, *', coding('gzip')],
    ['gzip;q=0.2, *;q=0.5', coding('br')],
    // only unknown codings: identity
    ['compress, zstd', IDENTITY],
    // q=0 excludes
    ['gzip;q=0', IDENTITY],
    ['gzip;q=0, br;q=0, deflate;q=0', IDENTITY],
    // identity preferred explicitly
    ['gzip;q=0.5, identity', IDENTITY],
    // a coding beats identity at equal weight
    ['gzip, identity', coding('gzip')],
    // identity refused, a coding acceptable
    ['identity;q=0, gzip', coding('gzip')],
    ['*;q=0, br', coding('br')],
    // identity refused and nothing acceptable: 406
    ['identity;q=0', NOT_ACCEPTABLE],
    ['*;q=0', NOT_ACCEPTABLE],
    ['identity;q=0, zstd', NOT_ACCEPTABLE],
    ['*;q=0, gzip;q=0', NOT_ACCEPTABLE],
    // a more specific identity entry overrides *;q=0
    ['*;q=0, identity', IDENTITY],
    ['*;q=0, identity;q=0.5, gzip;q=0.1', IDENTITY],
    // x-gzip is gzip
    ['x-gzip', coding('gzip')],
    // malformed members are ignored, the rest counts
    ['br;q=5, gzip', coding('gzip')],
    ['identity;q=abc', IDENTITY],
  ]
  for (const [field, expected] of table) {
    it(`${field === undefined ? '(no field)' : JSON.stringify(field)} → ${expected}`, () => {
      expect(outcome(negotiateEncoding(field === undefined ? undefined : [field], SERVER))).toBe(expected)
    })
  }

  it('only offers the codings the server makes available, in its order', () => {
    expect(outcome(negotiateEncoding(['br, gzip'], ['gzip']))).toBe('gzip')
    expect(outcome(negotiateEncoding(['br, gzip, deflate'], ['deflate', 'gzip']))).toBe('deflate')
    expect(outcome(negotiateEncoding(['br'], ['gzip']))).toBe(IDENTITY)
    expect(outcome(negotiateEncoding(['br, identity;q=0'], ['gzip']))).toBe(NOT_ACCEPTABLE)
  })

  it('reports the weight of the chosen coding', () => {
    expect(negotiateEncoding(['gzip;q=0.7'], SERVER)).toEqual({ kind: 'coding', coding: 'gzip', q: 0.7 })
  })
})

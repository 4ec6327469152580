import { describe, expect, it } from 'vitest'
import { Headers } from '../model/Headers.js'
import { appendToList, forwardRequestHeaders, forwardResponseHeaders, type RequestHeaderContext } from './headers.js'

const ctx: RequestHeaderContext = {
  via: 'weir',
  version: '1.1',
  remoteAddress: '10.0.0.7',
  secure: false,
  forwarded: {},
  trustForwarded: false,
  preserveHost: false,
}

describe('proxy header rewriting', () => {
  it('strips every hop-by-hop field of a request, including those Connection names, and Content-Length', () => {
    const h = Headers.from([
      ['Host', 'front.example'],
      ['Connection', 'keep-alive, X-Hop'],
      ['Keep-Alive', 'timeout=5'],
      ['Proxy-Connection', 'keep-alive'],
      ['TE', 'trailers'],
      ['Trailer', 'x-sum'],
      ['Upgrade', 'websocket'],
      ['Transfer-Encoding', 'chunked'],
      ['Content-Length', '10'],
      ['X-Hop', 'secret'],
      ['Accept', 'text/plain'],
    ])
    expect(forwardRequestHeaders(h, ctx).entries).toEqual([
      ['Accept', 'text/plain'],
      ['Via', '1.1 weir'],
      ['X-Forwarded-For', '10.0.0.7'],
      ['X-Forwarded-Proto', 'http'],
      ['X-Forwarded-Host', 'front.example'],
    ])
  })

  it('appends to an existing Via and X-Forwarded-For list (repeated fields joined), replaces a forged -Proto and -Host', () => {
    const h = Headers.from([
      ['Host', 'front.example'],
      ['Via', '1.0 edge'],
      ['X-Forwarded-For', '203.0.113.9, 198.51.100.2'],
      ['X-Forwarded-For', '192.0.2.1'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'forged.example'],
    ])
    const out = forwardRequestHeaders(h, { ...ctx, version: '1.0', secure: true })
    expect(out.getAll('via')).toEqual(['1.0 edge, 1.0 weir'])
    expect(out.getAll('x-forwarded-for')).toEqual(['203.0.113.9, 198.51.100.2, 192.0.2.1, 10.0.0.7'])
    expect(out.getAll('x-forwarded-proto')).toEqual(['https'])
    expect(out.getAll('x-forwarded-host')).toEqual(['front.example'])
    expect(out.has('host')).toBe(false)
  })

  it('keeps an earlier proxy\'s -Proto and -Host with trustForwarded, the client\'s Host with preserveHost', () => {
    const h = Headers.from([['Host', 'front.example'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'original.example']])
    const out = forwardRequestHeaders(h, { ...ctx, trustForwarded: true, preserveHost: true })
    expect(out.get('host')).toBe('front.example')
    expect(out.get('x-forwarded-proto')).toBe('https')
    expect(out.get('x-forwarded-host')).toBe('original.example')
  })

  it('adds only the fields asked for', () => {
    const h = Headers.from([['Host', 'front.example']])
    const out = forwardRequestHeaders(h, { ...ctx, via: false, forwarded: { for: true, proto: false, host: false } })
    expect(out.entries).toEqual([['X-Forwarded-For', '10.0.0.7']])
    expect(forwardRequestHeaders(h, { ...ctx, remoteAddress: undefined }).has('x-forwarded-for')).toBe(false)
  })

  it('strips hop-by-hop fields of a response and appends Via; end-to-end fields stay in order', () => {
    const h = Headers.from([
      ['Date', 'Sat, 21 Nov 2026 22:00:00 GMT'],
      ['Connection', 'keep-alive, X-Upstream-Hop'],
      ['Keep-Alive', 'timeout=5'],
      ['Transfer-Encoding', 'chunked'],
      ['X-Upstream-Hop', '1'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Via', '1.1 upstream-cache'],
    ])
    expect(forwardResponseHeaders(h, 'weir').entries).toEqual([
      ['Date', 'Sat, 21 Nov 2026 22:00:00 GMT'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Via', '1.1 upstream-cache, 1.1 weir'],
    ])
    expect(forwardResponseHeaders(Headers.from([['Connection', 'close']]), false).size).toBe(0)
  })

  it('appendToList ignores empty list members', () => {
    expect(appendToList(Headers.from([['X-L', ' '], ['x-l', 'a ']]), 'X-L', 'b').entries).toEqual([['X-L', 'a, b']])
  })
})

import { describe, expect, it } from 'vitest'
import { Source } from '@weir/core'
import { Headers } from '../model/Headers.js'
import { HttpResponse } from '../model/HttpMessage.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { stripHopByHop } from './hopByHop.js'
import { ResponseRenderingError } from './errors.js'
import { framingOf, renderChunk, renderHead, renderStrict, type ResponseContext } from './renderResponse.js'

const ctx: ResponseContext = { requestMethod: 'GET', requestVersion: '1.1', close: false, date: 'Sat, 21 Nov 2026 20:00:00 GMT' }
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1')

describe('renderStrict', () => {
  it('renders status line, date, content type and length, then the body, in one buffer', () => {
    expect(text(renderStrict(HttpResponse.text('Hello, World!'), ctx))).toBe(
      'HTTP/1.1 200 OK\r\nDate: Sat, 21 Nov 2026 20:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nHello, World!',
    )
  })

  it('says Connection: close whenever the connection will close, even if the handler set keep-alive', () => {
    const res = HttpResponse.text('early', 200, Headers.from([['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=5']]))
    const wire = text(renderStrict(res, { ...ctx, close: true, keepAliveTimeoutSec: 75 }))
    expect(wire).toContain('Connection: close\r\n')
    expect(wire).not.toMatch(/keep-alive/i)
    expect(wire.match(/^Connection:/gim)).toHaveLength(1)
  })

  it('advertises the keep-alive timeout on responses that keep the connection', () => {
    const wire = text(renderStrict(HttpResponse.text('x'), { ...ctx, keepAliveTimeoutSec: 75 }))
    expect(wire).toContain('Keep-Alive: timeout=75\r\n')
    expect(wire).not.toContain('Connection:')
  })

  it('answers an HTTP/1.0 keep-alive request with an explicit Connection: keep-alive', () => {
    expect(text(renderStrict(HttpResponse.text('x'), { ...ctx, requestVersion: '1.0' }))).toContain('Connection: keep-alive\r\n')
  })

  it('drops every hop-by-hop field a handler set, including those named in its Connection header', () => {
    const res = HttpResponse.text(
      'x',
      200,
      Headers.from([
        ['Connection', 'X-Secret, close'],
        ['X-Secret', 'leak'],
        ['Transfer-Encoding', 'chunked'],
        ['Upgrade', 'h2c'],
        ['Proxy-Connection', 'keep-alive'],
        ['TE', 'trailers'],
        ['Trailer', 'X'],
        ['Content-Length', '999'],
        ['X-Kept', 'yes'],
      ]),
    )
    const wire = text(renderStrict(res, ctx))
    for (const gone of ['X-Secret', 'Transfer-Encoding', 'Upgrade', 'Proxy-Connection', 'TE:', 'Trailer', 'Content-Length: 999']) expect(wire).not.toContain(gone)
    expect(wire).toContain('X-Kept: yes\r\n')
    expect(wire).toContain('Content-Length: 1\r\n')
  })

  it('sends the head only for HEAD, with the length a GET would have', () => {
    const wire = text(renderStrict(HttpResponse.text('12345'), { ...ctx, requestMethod: 'HEAD' }))
    expect(wire.endsWith('Content-Length: 5\r\n\r\n')).toBe(true)
  })

  it('sends no body and no length for 204 and 304', () => {
    for (const status of [204, 304]) {
      const wire = text(renderStrict(new HttpResponse(status, Headers.empty, HttpResponse.text('ignored').entity), ctx))
      expect(wire).not.toContain('Content-Length')
      expect(wire.endsWith('\r\n\r\n')).toBe(true)
    }
  })

  it('refuses header injection and invalid statuses with a typed error', () => {
    expect(() => renderStrict(HttpResponse.text('x', 200, Headers.from([['X-A', 'a\r\nSet-Cookie: evil=1']])), ctx)).toThrow(ResponseRenderingError)
    expect(() => renderStrict(HttpResponse.text('x', 200, Headers.from([['Bad Name', 'v']])), ctx)).toThrow(ResponseRenderingError)
    expect(() => renderStrict(HttpResponse.text('x', 42), ctx)).toThrow(ResponseRenderingError)
  })
})

describe('framing', () => {
  const streamed = HttpResponse.stream(Source.empty<Uint8Array>())
  it('is chunked for a streamed entity without a length on HTTP/1.1, close-delimited on HTTP/1.0', () => {
    expect(framingOf(streamed, ctx)).toBe('chunked')
    expect(framingOf(streamed, { ...ctx, requestVersion: '1.0' })).toBe('close-delimited')
  })
  it('uses Content-Length when the streamed entity knows its length', () => {
    expect(framingOf(HttpResponse.stream(Source.empty<Uint8Array>(), { contentLength: 10 }), ctx)).toBe('content-length')
  })
  it('renders chunks with a hex size line', () => {
    expect(text(renderChunk(Buffer.alloc(26, 'a')))).toBe(`1a\r\n${'a'.repeat(26)}\r\n`)
    expect(renderChunk(new Uint8Array(0)).length).toBe(0)
  })
  it('renders the frame of shared bytes once, and a fresh frame for bytes that are not shared', () => {
    const shared = HttpEntity.sharedChunk(Buffer.from('data: 1\n\n'))
    const first = renderChunk(shared)
    expect(text(first)).toBe('9\r\ndata: 1\n\n\r\n')
    expect(renderChunk(shared)).toBe(first) // the same frame, not a copy
    const plain = Buffer.from('data: 1\n\n')
    expect(renderChunk(plain)).not.toBe(renderChunk(plain))
    expect(text(renderChunk(plain))).toBe(text(first))
    expect(HttpEntity.sharedChunk(shared)).toBe(shared) // marking again keeps the rendered frame
    expect(renderChunk(shared)).toBe(first)
  })
})

describe('stripHopByHop', () => {
  it('keeps end-to-end fields only', () => {
    const h = stripHopByHop(Headers.from([['Connection', 'keep-alive, X-Hop'], ['X-Hop', '1'], ['Keep-Alive', 'timeout=5'], ['Via', '1.1 lb'], ['Accept', '*/*']]))
    expect([...h].map(([n]) => n)).toEqual(['Via', 'Accept'])
  })

  it('keeps the Upgrade field of a 426 (and announces it in Connection), and only there', () => {
    const ctx = { requestMethod: 'GET', requestVersion: '1.1' as const, close: false, date: 'D' }
    const h = Headers.from([['Upgrade', 'websocket']])
    expect(renderHead(HttpResponse.empty(426, h), ctx, 'none')).toBe('HTTP/1.1 426 Upgrade Required\r\nDate: D\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n')
    expect(renderHead(HttpResponse.empty(426, h), { ...ctx, close: true }, 'none')).toContain('Connection: close, upgrade\r\n')
    expect(renderHead(HttpResponse.empty(200, h), ctx, 'none')).not.toContain('Upgrade')
  })
})

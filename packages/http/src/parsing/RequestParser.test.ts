/**
 * Specification of the request parser on valid input: what each request yields, for every cut of its bytes
 * (whole, at each offset, byte by byte, random pieces), and the driving protocol (pull, pause, detach).
 */
import { Buffer } from 'node:buffer'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, WeirError } from '@weir/core'
import { IllegalParserStateError } from '../errors.js'
import type { ParserLimits } from './limits.js'
import { DEFAULT_REQUEST_LIMITS } from './limits.js'
import { RequestParser } from './RequestParser.js'
import { drive, everyCut, normalize } from './testing.js'
import type { NormalizedEvent } from './testing.js'

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')

/** Parses `input` whole, then checks that every cut of it yields the same events. */
function parse(input: string, options: { limits?: Partial<ParserLimits>; end?: boolean } = {}): NormalizedEvent[] {
  const data = bytes(input)
  const end = options.end ?? false
  const whole = normalize(drive(new RequestParser(options.limits), [data], end))
  for (const [label, chunks] of everyCut(data)) {
    expect(normalize(drive(new RequestParser(options.limits), chunks, end)), label).toEqual(whole)
  }
  return whole
}

const start = (fields: Record<string, unknown>): Record<string, unknown> => ({
  type: 'start',
  method: 'GET',
  target: '/',
  version: '1.1',
  framing: 'none',
  contentLength: undefined,
  chunked: false,
  keepAlive: true,
  expectContinue: false,
  upgrade: undefined,
  ...fields,
})
const body = (text: string): NormalizedEvent => ({ type: 'body', text })
const END: NormalizedEvent = { type: 'end' }
const HOST = 'Host: example.com\r\n'

interface Case {
  readonly name: string
  readonly input: string
  readonly events: readonly Record<string, unknown>[]
}

const cases: Case[] = [
  {
    name: 'a GET with a Host and nothing else',
    input: 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n',
    events: [start({ headers: [['Host', 'example.com']] }), END],
  },
  {
    name: 'standard, extension and case-sensitive methods',
    input: `PURGE /a HTTP/1.1\r\n${HOST}\r\nM-SEARCH /b HTTP/1.1\r\n${HOST}\r\nget /c HTTP/1.1\r\n${HOST}\r\nDELETE /d HTTP/1.1\r\n${HOST}\r\n`,
    events: [start({ method: 'PURGE', target: '/a' }), END, start({ method: 'M-SEARCH', target: '/b' }), END,
      start({ method: 'get', target: '/c' }), END, start({ method: 'DELETE', target: '/d' }), END],
  },
  {
    name: 'origin-form with query, absolute-form, and asterisk-form for OPTIONS',
    input: `GET /p/a%20th?q=1&r=[x] HTTP/1.1\r\n${HOST}\r\nGET http://example.com:8080/x?y HTTP/1.1\r\n${HOST}\r\nOPTIONS * HTTP/1.1\r\n${HOST}\r\n`,
    events: [start({ target: '/p/a%20th?q=1&r=[x]' }), END, start({ target: 'http://example.com:8080/x?y' }), END,
      start({ method: 'OPTIONS', target: '*' }), END],
  },
  {
    name: 'HTTP/1.0 without Host closes by default and persists with keep-alive',
    input: 'GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n',
    events: [start({ version: '1.0', keepAlive: false, headers: [] }), END, start({ version: '1.0', keepAlive: true }), END],
  },
  {
    name: 'a later HTTP/1.x minor version is read as 1.1 (RFC 9110 §2.5)',
    input: `GET / HTTP/1.7\r\n${HOST}\r\n`,
    events: [start({ version: '1.1' }), END],
  },
  {
    name: 'names as sent, values without surrounding whitespace, obs-text as latin1, empty values, inner tabs',
    input: `GET / HTTP/1.1\r\nhOsT:example.com\r\nX-Empty:\r\nX-Spaced: \t a  b \t\r\nX-Latin: caf\xe9\r\nX-Tab: a\tb\r\n\r\n`,
    events: [start({ headers: [['hOsT', 'example.com'], ['X-Empty', ''], ['X-Spaced', 'a  b'], ['X-Latin', 'café'], ['X-Tab', 'a\tb']] }), END],
  },
  {
    name: 'Connection: close ends persistence; options are a case-insensitive list',
    input: `GET / HTTP/1.1\r\n${HOST}Connection: foo, CLOSE\r\n\r\n`,
    events: [start({ keepAlive: false }), END],
  },
  {
    name: 'a body by Content-Length',
    input: `POST /form HTTP/1.1\r\n${HOST}Content-Length: 5\r\n\r\nhello`,
    events: [start({ method: 'POST', target: '/form', framing: 'length', contentLength: 5 }), body('hello'), END],
  },
  {
    name: 'Content-Length: 0 means no body',
    input: `POST / HTTP/1.1\r\n${HOST}Content-Length: 0\r\n\r\n`,
    events: [start({ method: 'POST', contentLength: 0 }), END],
  },
  {
    name: 'identical repeated Content-Length values are one value (RFC 9110 §8.6)',
    input: `PUT / HTTP/1.1\r\n${HOST}Content-Length: 3, 3\r\nContent-Length: 003\r\n\r\nabc`,
    events: [start({ method: 'PUT', framing: 'length', contentLength: 3 }), body('abc'), END],
  },
  {
    name: 'a chunked body with extensions (token and quoted values, BWS) and no trailers',
    input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n` +
      '5\r\nhello\r\n6;ext=1;q="a \\"b\\"" ; flag\r\n world\r\nA\r\n0123456789\r\n00\r\n\r\n',
    events: [start({ method: 'POST', framing: 'chunked', chunked: true }), body('hello world0123456789'), END],
  },
  {
    name: 'a chunked body with trailers; hex sizes in either case with leading zeros',
    input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: Chunked\r\n\r\n` +
      '00a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0;last\r\nExpires: never\r\nX-Sum:  42 \r\n\r\n',
    events: [start({ method: 'POST', framing: 'chunked', chunked: true }), body('0123456789abcdefghijk'),
      { type: 'trailers', headers: [['Expires', 'never'], ['X-Sum', '42']] }, END],
  },
  {
    name: 'Transfer-Encoding with empty list elements, over two lines',
    input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: ,\r\nTransfer-Encoding: , chunked\r\n\r\n0\r\n\r\n`,
    events: [start({ method: 'POST', framing: 'chunked', chunked: true }), END],
  },
  {
    name: 'pipelined requests, with and without bodies',
    input: `GET /1 HTTP/1.1\r\n${HOST}\r\nPOST /2 HTTP/1.1\r\n${HOST}Content-Length: 2\r\n\r\nhi` +
      `POST /3 HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nHEAD /4 HTTP/1.1\r\n${HOST}\r\n`,
    events: [start({ target: '/1' }), END, start({ method: 'POST', target: '/2', framing: 'length', contentLength: 2 }), body('hi'), END,
      start({ method: 'POST', target: '/3', framing: 'chunked', chunked: true }), body('x'), END, start({ method: 'HEAD', target: '/4' }), END],
  },
  {
    name: 'empty lines before a request line are skipped (RFC 9112 §2.2), also after a body',
    input: `\r\n\r\nPOST / HTTP/1.1\r\n${HOST}Content-Length: 1\r\n\r\nx\r\nGET / HTTP/1.1\r\n${HOST}\r\n`,
    events: [start({ method: 'POST', framing: 'length', contentLength: 1 }), body('x'), END, start({}), END],
  },
  {
    name: 'Expect: 100-continue on HTTP/1.1 only (RFC 9110 §10.1.1)',
    input: `PUT / HTTP/1.1\r\n${HOST}Expect: 100-Continue\r\nContent-Length: 1\r\n\r\nxPUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\ny`,
    events: [start({ method: 'PUT', expectContinue: true, framing: 'length', contentLength: 1 }), body('x'), END,
      start({ method: 'PUT', version: '1.0', keepAlive: false, expectContinue: false, framing: 'length', contentLength: 1 }), body('y'), END],
  },
  {
    name: 'Upgrade without the upgrade connection option, or on HTTP/1.0, is no upgrade (RFC 9110 §7.8)',
    input: `GET / HTTP/1.1\r\n${HOST}Upgrade: websocket\r\n\r\nGET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n`,
    events: [start({ upgrade: undefined }), END, start({ version: '1.0', keepAlive: false, upgrade: undefined }), END],
  },
  {
    name: 'a GET with a body is still framed by its Content-Length',
    input: `GET / HTTP/1.1\r\n${HOST}Content-Length: 4\r\n\r\nbody`,
    events: [start({ framing: 'length', contentLength: 4 }), body('body'), END],
  },
]

describe('RequestParser — valid requests', () => {
  for (const c of cases) {
    it(`parses ${c.name}, identically for every cut`, () => {
      const events = parse(c.input)
      expect(events).toMatchObject(c.events)
      expect(events).toHaveLength(c.events.length)
    })
  }

  it('delivers body parts as views into the pushed bytes (no copy)', () => {
    const input = bytes(`POST / HTTP/1.1\r\n${HOST}Content-Length: 5\r\n\r\nhello`)
    const events = new RequestParser().feed(input)
    const part = events.find((e) => e.type === 'body')
    expect(part?.type === 'body' && part.data.buffer).toBe(input.buffer)
  })

  it('decodes each new chunk afresh when the caller reuses one buffer for successive reads', () => {
    const parser = new RequestParser()
    const buffer = bytes('GET /a HTTP/1.1\r\nHost: a.example\r\n\r\n')
    const first = normalize(parser.feed(buffer))
    bytes('GET /b HTTP/1.1\r\nHost: b.example\r\n\r\n').copy(buffer)
    const second = normalize(parser.feed(buffer))
    expect(first).toMatchObject([start({ target: '/a', headers: [['Host', 'a.example']] }), END])
    expect(second).toMatchObject([start({ target: '/b', headers: [['Host', 'b.example']] }), END])
  })

  it('offers case-insensitive lookups over the header section', () => {
    const [first] = new RequestParser().feed(bytes(`GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n`))
    if (first?.type !== 'start') throw new Error('expected a start')
    expect(first.headers.get('X-a')).toBe('1')
    expect(first.headers.getAll('X-A')).toEqual(['1', '2'])
    expect(first.headers.has('host')).toBe(true)
    expect(first.headers.has('content-length')).toBe(false)
    expect([...first.headers]).toEqual([['Host', 'a'], ['X-A', '1'], ['x-a', '2']])
    expect(first.headers.lowerName(1)).toBe('x-a')
  })

  it('accepts a line as long as each limit allows, exactly', () => {
    const limits = { maxMethodLength: 4, maxRequestTargetLength: 5, maxFieldLineSize: 10, maxHeaderSectionSize: 24, maxHeaderCount: 2 }
    const events = parse('POST /abcd HTTP/1.1\r\nHost: abcd\r\nX-Y: 0123\r\n\r\n', { limits })
    expect(events).toMatchObject([start({ method: 'POST', target: '/abcd' }), END])
  })
})

describe('RequestParser — driving protocol', () => {
  it('returns one event per next() and delivers a body as its bytes arrive (backpressure)', () => {
    const parser = new RequestParser()
    parser.push(bytes(`POST / HTTP/1.1\r\n${HOST}Content-Length: 10\r\n\r\nabc`))
    expect(parser.next()).toMatchObject({ type: 'start', contentLength: 10 })
    expect(parser.state).toBe('body')
    const first = parser.next()
    expect(first?.type === 'body' && Buffer.from(first.data).toString()).toBe('abc')
    expect(parser.next()).toBeUndefined()
    parser.push(bytes('defghij'))
    const second = parser.next()
    expect(second?.type === 'body' && Buffer.from(second.data).toString()).toBe('defghij')
    expect(parser.next()).toEqual({ type: 'end' })
    expect(parser.state).toBe('idle')
    expect(parser.next()).toBeUndefined()
  })

  it('keeps bytes pushed ahead of consumption in order', () => {
    const parser = new RequestParser()
    parser.push(bytes(`POST / HTTP/1.1\r\n${HOST}Content-Length: 6\r\n\r\nab`))
    parser.push(bytes('cd'))
    parser.push(bytes('ef'))
    expect(normalize(drive(parser, [], false))).toMatchObject([start({ method: 'POST', framing: 'length', contentLength: 6 }), body('abcdef'), END])
  })

  it('pauses after an upgrade request; detach() hands back the bytes that follow', () => {
    const parser = new RequestParser()
    const events = parser.feed(bytes(`GET /chat HTTP/1.1\r\n${HOST}Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello`))
    expect(normalize(events)).toMatchObject([start({ target: '/chat', upgrade: 'websocket' }), END])
    expect(parser.state).toBe('upgrade-pending')
    expect(parser.feed(bytes('more'))).toEqual([])
    expect(Buffer.concat(parser.detach()).toString('latin1')).toBe('\x81\x05hellomore')
    expect(parser.state).toBe('detached')
    expect(parser.next()).toBeUndefined()
  })

  it('pauses after CONNECT; resume() goes on parsing HTTP when the switch is declined', () => {
    const parser = new RequestParser()
    const input = `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET / HTTP/1.1\r\n${HOST}\r\n`
    expect(normalize(parser.feed(bytes(input)))).toMatchObject([start({ method: 'CONNECT', target: 'example.com:443' }), END])
    parser.resume()
    expect(normalize(drive(parser, [], false))).toMatchObject([start({}), END])
  })

  it('rejects resume() and detach() when no switch is pending, and push() after pushEnd()', () => {
    const parser = new RequestParser()
    expect(() => parser.resume()).toThrow(IllegalParserStateError)
    expect(() => parser.detach()).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_ILLEGAL_STATE', operation: 'detach', state: 'idle' }))
    parser.pushEnd()
    expect(() => parser.push(bytes('x'))).toThrow(WeirError)
  })

  it('finishes quietly when the input ends between requests', () => {
    const parser = new RequestParser()
    expect(normalize(parser.feed(bytes(`GET / HTTP/1.1\r\n${HOST}\r\n`)))).toHaveLength(2)
    expect(parser.feedEnd()).toEqual([])
    expect(parser.state).toBe('finished')
  })

  it('validates limit overrides, naming the setting', () => {
    expect(() => new RequestParser({ maxHeaderCount: -1 })).toThrow(expect.objectContaining({ argument: 'maxHeaderCount', value: -1 }))
    expect(() => new RequestParser({ maxBodySize: 1.5 })).toThrow(InvalidArgumentError)
    expect(() => new RequestParser({ maxBodySize: Number.POSITIVE_INFINITY })).not.toThrow()
    expect(DEFAULT_REQUEST_LIMITS.maxRequestTargetLength).toBeGreaterThanOrEqual(8000) // RFC 9112 §3
  })
})

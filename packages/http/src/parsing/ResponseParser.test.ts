/**
 * Specification of the response parser: body rules that depend on the request (HEAD, CONNECT) and the
 * status (1xx, 204, 304), close-delimited and chunked bodies, protocol switches, and rejections (all 502,
 * `WEIR_HTTP_BAD_RESPONSE`, with the reason of the defect) — each for every cut of the bytes.
 */
import { Buffer } from 'node:buffer'
import { describe, expect, it } from 'vitest'
import type { ParseFailureReason } from '../errors.js'
import type { ParserLimits } from './limits.js'
import { ResponseParser } from './ResponseParser.js'
import { drive, everyCut, normalize } from './testing.js'
import type { NormalizedEvent } from './testing.js'

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')

interface Options {
  readonly methods?: readonly string[]
  readonly limits?: Partial<ParserLimits>
  readonly end?: boolean
}

function parser(options: Options): ResponseParser {
  const p = new ResponseParser(options.limits)
  for (const m of options.methods ?? ['GET']) p.expectResponseTo(m)
  return p
}

/** Parses `input` whole, then checks that every cut of it yields the same events. */
function parse(input: string, options: Options = {}): NormalizedEvent[] {
  const data = bytes(input)
  const end = options.end ?? false
  const whole = normalize(drive(parser(options), [data], end))
  for (const [label, chunks] of everyCut(data)) expect(normalize(drive(parser(options), chunks, end)), label).toEqual(whole)
  return whole
}

const start = (fields: Record<string, unknown>): Record<string, unknown> => ({
  type: 'start', status: 200, reason: 'OK', requestMethod: 'GET', version: '1.1', framing: 'none', contentLength: undefined, chunked: false,
  keepAlive: true, upgrade: undefined, ...fields,
})
const body = (text: string): NormalizedEvent => ({ type: 'body', text })
const END: NormalizedEvent = { type: 'end' }

interface Case extends Options {
  readonly input: string
  readonly events: readonly Record<string, unknown>[]
}

const cases: Record<string, Case> = {
  'a body by Content-Length': {
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
    events: [start({ framing: 'length', contentLength: 5 }), body('hello'), END],
  },
  'a response to HEAD: no body whatever Content-Length says, then the next response': {
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    methods: ['HEAD', 'HEAD', 'GET'],
    events: [start({ requestMethod: 'HEAD', contentLength: 1000 }), END, start({ requestMethod: 'HEAD', chunked: true }), END,
      start({ framing: 'length', contentLength: 2 }), body('ok'), END],
  },
  '204 and 304: no body': {
    input: 'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\nETag: "x"\r\n\r\n',
    methods: ['DELETE', 'GET'],
    events: [start({ status: 204, reason: 'No Content', requestMethod: 'DELETE' }), END,
      start({ status: 304, reason: 'Not Modified', contentLength: 42, headers: [['Content-Length', '42'], ['ETag', '"x"']] }), END],
  },
  'interim 1xx responses before the final response to the same request': {
    input: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n',
    methods: ['POST'],
    events: [start({ status: 100, reason: 'Continue', requestMethod: 'POST' }), END, start({ status: 103, reason: 'Early Hints', requestMethod: 'POST' }), END,
      start({ status: 201, reason: 'Created', requestMethod: 'POST', contentLength: 0 }), END],
  },
  'a close-delimited body, ended by the end of input (and no keep-alive)': {
    input: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\nuntil close',
    end: true,
    events: [start({ framing: 'close', keepAlive: false }), body('all of this\r\nuntil close'), END],
  },
  'a close-delimited body stays open until the input ends': {
    input: 'HTTP/1.1 200 OK\r\n\r\npartial',
    events: [start({ framing: 'close', keepAlive: false }), body('partial')],
  },
  'a chunked body with trailers': {
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Digest\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nX-Digest: abc\r\n\r\n',
    events: [start({ framing: 'chunked', chunked: true }), body('wikipedia'), { type: 'trailers', headers: [['X-Digest', 'abc']] }, END],
  },
  'HTTP/1.0 closes unless keep-alive': {
    input: 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nb',
    methods: ['GET', 'GET'],
    events: [start({ version: '1.0', keepAlive: false, framing: 'length', contentLength: 1 }), body('a'), END,
      start({ version: '1.0', keepAlive: true, framing: 'length', contentLength: 1 }), body('b'), END],
  },
  'Connection: close on HTTP/1.1': {
    input: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    events: [start({ keepAlive: false, contentLength: 0 }), END],
  },
  'a status line without reason phrase, with or without its space': {
    input: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 \r\nContent-Length: 0\r\n\r\nHTTP/1.1 500 Internal\tServer Error\r\nContent-Length: 0\r\n\r\n',
    methods: ['GET', 'GET', 'GET'],
    events: [start({ reason: '', contentLength: 0 }), END, start({ status: 404, reason: '', contentLength: 0 }), END,
      start({ status: 500, reason: 'Internal\tServer Error', contentLength: 0 }), END],
  },
  'a CONNECT refused with a body is framed as usual': {
    input: 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny',
    methods: ['CONNECT'],
    events: [start({ status: 407, reason: 'Proxy Authentication Required', requestMethod: 'CONNECT', framing: 'length', contentLength: 4 }), body('deny'), END],
  },
}

describe('ResponseParser — responses', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`parses ${name}, identically for every cut`, () => {
      const events = parse(c.input, c)
      expect(events).toMatchObject(c.events)
      expect(events).toHaveLength(c.events.length)
    })
  }

  it('switches protocols after 101: the bytes that follow are handed back by detach()', () => {
    const p = parser({})
    const events = p.feed(bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi'))
    expect(normalize(events)).toMatchObject([start({ status: 101, reason: 'Switching Protocols', upgrade: 'websocket' }), END])
    expect(p.state).toBe('upgraded')
    expect(() => p.resume()).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_ILLEGAL_STATE' }))
    expect(Buffer.concat(p.detach()).toString('latin1')).toBe('\x81\x02hi')
  })

  it('opens a tunnel after a 2xx to CONNECT, ignoring its Content-Length and Transfer-Encoding (RFC 9112 §6.3)', () => {
    const p = parser({ methods: ['CONNECT'] })
    const events = p.feed(bytes('HTTP/1.1 200 Connection Established\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n\x16\x03\x01'))
    expect(normalize(events)).toMatchObject([start({ reason: 'Connection Established', requestMethod: 'CONNECT' }), END])
    expect(Buffer.concat(p.detach())).toEqual(Buffer.from([0x16, 0x03, 0x01]))
  })

  it('counts the requests still waiting for their final response', () => {
    const p = parser({ methods: ['GET', 'GET'] })
    p.feed(bytes('HTTP/1.1 100 Continue\r\n\r\n'))
    expect(p.outstanding).toBe(2)
    p.feed(bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'))
    expect(p.outstanding).toBe(1)
  })
})

interface Rejection extends Options {
  readonly input: string
  readonly reason: ParseFailureReason
  readonly limit?: number
  readonly before?: number
}

const rejections: Record<string, Rejection> = {
  'a response while no request is outstanding': { input: 'HTTP/1.1 408 Request Timeout\r\n\r\n', methods: [], reason: 'unsolicited-response' },
  'a second response to one request': { input: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n', reason: 'unsolicited-response', before: 2 },
  'Content-Length with Transfer-Encoding': { input: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', reason: 'content-length-with-transfer-encoding' },
  'conflicting Content-Length': { input: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', reason: 'conflicting-content-length' },
  'an unknown transfer coding': { input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n', reason: 'unknown-transfer-coding' },
  'a status code below 100': { input: 'HTTP/1.1 099 Odd\r\n\r\n', reason: 'invalid-status-code' },
  'a status code above 599': { input: 'HTTP/1.1 600 Odd\r\n\r\n', reason: 'invalid-status-code' },
  'a two-digit status code': { input: 'HTTP/1.1 20 OK\r\n\r\n', reason: 'invalid-status-line' },
  'a version without minor digit': { input: 'HTTP/2 200 OK\r\n\r\n', reason: 'invalid-version' },
  'HTTP/2.0': { input: 'HTTP/2.0 200 OK\r\n\r\n', reason: 'version-not-supported' },
  'an empty line before the status line': { input: '\r\nHTTP/1.1 200 OK\r\n\r\n', reason: 'invalid-status-line' },
  'a control character in the reason phrase': { input: 'HTTP/1.1 200 O\x00K\r\n\r\n', reason: 'invalid-status-line' },
  'a reason phrase over its limit': { input: 'HTTP/1.1 200 Very long reason\r\n\r\n', reason: 'reason-phrase-too-long', limits: { maxReasonPhraseLength: 8 }, limit: 8 },
  'obs-fold': { input: 'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n', reason: 'obs-fold' },
  'a bare LF': { input: 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', reason: 'bare-lf' },
  'a body cut short': { input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', end: true, reason: 'incomplete-message', before: 1 },
  'a close-delimited body over the body limit, after exactly the limit': {
    input: 'HTTP/1.1 200 OK\r\n\r\n0123456789', limits: { maxBodySize: 4 }, reason: 'body-too-large', limit: 4, before: 1,
  },
}

describe('ResponseParser — rejections (502 WEIR_HTTP_BAD_RESPONSE)', () => {
  for (const [name, r] of Object.entries(rejections)) {
    it(`rejects ${name} (${r.reason}), for every cut`, () => {
      const events = parse(r.input, r)
      expect(events.at(-1)).toEqual({ type: 'error', code: 'WEIR_HTTP_BAD_RESPONSE', status: 502, reason: r.reason, limit: r.limit, actual: undefined })
      expect(events.filter((e) => e.type !== 'body')).toHaveLength((r.before ?? 0) + 1)
    })
  }

  it('delivers exactly the allowed bytes of a close-delimited body before failing', () => {
    const events = parse('HTTP/1.1 200 OK\r\n\r\n0123456789', { limits: { maxBodySize: 4 } })
    expect(events[1]).toEqual(body('0123'))
  })
})

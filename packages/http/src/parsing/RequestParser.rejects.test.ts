/**
 * Specification of what the request parser rejects — request smuggling vectors, malformed syntax and
 * exceeded limits — each with its status and reason, for every cut of the bytes. A rejection is one
 * `error` event, last; the events before it (a start, body parts) are what a server may already have used.
 */
import { Buffer } from 'node:buffer'
import { describe, expect, it } from 'vitest'
import { WeirError } from '@weir/core'
import { HTTP_ERROR_CODES, HttpError, HttpParseError } from '../errors.js'
import type { ParseFailureReason, ParseFailureStatus } from '../errors.js'
import type { ParserLimits } from './limits.js'
import { RequestParser } from './RequestParser.js'
import { drive, everyCut, normalize } from './testing.js'

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')
const HOST = 'Host: example.com\r\n'
const GET = `GET / HTTP/1.1\r\n${HOST}`
const POST = `POST / HTTP/1.1\r\n${HOST}`
const CHUNKED = `${POST}Transfer-Encoding: chunked\r\n\r\n`

interface Rejection {
  readonly input: string
  readonly reason: ParseFailureReason
  readonly status: ParseFailureStatus
  /** How many events other than body parts come before the error (default 0). */
  readonly after?: number
  readonly limits?: Partial<ParserLimits>
  readonly limit?: number
  readonly actual?: number
  readonly end?: boolean
}

const rejections: Record<string, Rejection> = {
  // Smuggling: ambiguous framing (RFC 9112 §6, RFC 9110 §8.6)
  'Content-Length then Transfer-Encoding': { input: `${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`, reason: 'content-length-with-transfer-encoding', status: 400 },
  'Transfer-Encoding then Content-Length': { input: `${POST}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n`, reason: 'content-length-with-transfer-encoding', status: 400 },
  'conflicting Content-Length lines': { input: `${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, reason: 'conflicting-content-length', status: 400 },
  'a conflicting Content-Length list': { input: `${POST}Content-Length: 5, 6\r\n\r\n`, reason: 'conflicting-content-length', status: 400 },
  'an empty Content-Length': { input: `${POST}Content-Length:\r\n\r\n`, reason: 'invalid-content-length', status: 400 },
  'a signed Content-Length': { input: `${POST}Content-Length: +5\r\n\r\n`, reason: 'invalid-content-length', status: 400 },
  'a negative Content-Length': { input: `${POST}Content-Length: -1\r\n\r\n`, reason: 'invalid-content-length', status: 400 },
  'a hex Content-Length': { input: `${POST}Content-Length: 0x10\r\n\r\n`, reason: 'invalid-content-length', status: 400 },
  'a Content-Length with inner whitespace': { input: `${POST}Content-Length: 1 2\r\n\r\n`, reason: 'invalid-content-length', status: 400 },
  'a Content-Length list with an empty element': { input: `${POST}Content-Length: 5,\r\n\r\n`, reason: 'invalid-content-length', status: 400 },
  'an overflowing Content-Length': { input: `${POST}Content-Length: 99999999999999999999\r\n\r\n`, reason: 'content-length-overflow', status: 400 },
  'chunked not last': { input: `${POST}Transfer-Encoding: chunked, gzip\r\n\r\n`, reason: 'chunked-not-last', status: 400 },
  'a coding without chunked': { input: `${POST}Transfer-Encoding: gzip\r\n\r\n`, reason: 'chunked-not-last', status: 400 },
  'identity': { input: `${POST}Transfer-Encoding: identity\r\n\r\n`, reason: 'chunked-not-last', status: 400 },
  'chunked twice': { input: `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, reason: 'chunked-repeated', status: 400 },
  'an unknown transfer coding before chunked': { input: `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n`, reason: 'unknown-transfer-coding', status: 501 },
  'chunked with parameters': { input: `${POST}Transfer-Encoding: chunked;q=1\r\n\r\n`, reason: 'invalid-transfer-encoding', status: 400 },
  'an empty Transfer-Encoding': { input: `${POST}Transfer-Encoding:\r\n\r\n`, reason: 'invalid-transfer-encoding', status: 400 },
  'a Transfer-Encoding coding that is no token': { input: `${POST}Transfer-Encoding: "chunked"\r\n\r\n`, reason: 'invalid-transfer-encoding', status: 400 },
  'Transfer-Encoding in HTTP/1.0': { input: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', reason: 'transfer-encoding-in-http-1.0', status: 400 },
  'CONNECT with content': { input: 'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nContent-Length: 2\r\n\r\nhi', reason: 'connect-with-content', status: 400 },
  // Field syntax (RFC 9112 §5)
  'obs-fold': { input: `${GET}X-A: a\r\n b\r\n\r\n`, reason: 'obs-fold', status: 400 },
  'obs-fold with a tab': { input: `${GET}X-A: a\r\n\tb\r\n\r\n`, reason: 'obs-fold', status: 400 },
  'whitespace after the request line': { input: `GET / HTTP/1.1\r\n ${HOST}\r\n`, reason: 'whitespace-after-start-line', status: 400 },
  'a space before the colon': { input: `GET / HTTP/1.1\r\nHost : example.com\r\n\r\n`, reason: 'whitespace-before-colon', status: 400 },
  'a tab before the colon': { input: `${GET}Content-Length\t: 0\r\n\r\n`, reason: 'whitespace-before-colon', status: 400 },
  'a field line without colon': { input: `${GET}X-A\r\n\r\n`, reason: 'invalid-header-name', status: 400 },
  'an empty field name': { input: `${GET}: a\r\n\r\n`, reason: 'invalid-header-name', status: 400 },
  'a separator in a field name': { input: `${GET}X(A): a\r\n\r\n`, reason: 'invalid-header-name', status: 400 },
  'a control character in a field name': { input: `${GET}X\x01A: a\r\n\r\n`, reason: 'invalid-header-name', status: 400 },
  'non-ASCII in a field name': { input: `${GET}X\xe9: a\r\n\r\n`, reason: 'invalid-header-name', status: 400 },
  'NUL in a field value': { input: `${GET}X-A: a\x00b\r\n\r\n`, reason: 'invalid-header-value', status: 400 },
  'DEL in a field value': { input: `${GET}X-A: a\x7fb\r\n\r\n`, reason: 'invalid-header-value', status: 400 },
  'an escape in a field value': { input: `${GET}X-A: \x1b[0m\r\n\r\n`, reason: 'invalid-header-value', status: 400 },
  // Line framing (RFC 9112 §2.2)
  'a bare LF ending the request line': { input: `GET / HTTP/1.1\n${HOST}\r\n`, reason: 'bare-lf', status: 400 },
  'a bare LF ending a field line': { input: `GET / HTTP/1.1\r\nHost: example.com\n\r\n`, reason: 'bare-lf', status: 400 },
  'a bare LF ending the header section': { input: `${GET}\n`, reason: 'bare-lf', status: 400 },
  'a bare LF as an empty line before the request': { input: `\nGET / HTTP/1.1\r\n${HOST}\r\n`, reason: 'bare-lf', status: 400 },
  'a bare LF ending a chunk-size line': { input: `${CHUNKED}1\nx\r\n0\r\n\r\n`, reason: 'bare-lf', status: 400, after: 1 },
  'a bare LF ending the trailer section': { input: `${CHUNKED}0\r\n\n`, reason: 'bare-lf', status: 400, after: 1 },
  'a bare CR in a field value': { input: `${GET}X-A: a\rb\r\n\r\n`, reason: 'bare-cr', status: 400 },
  'a bare CR before CRLF': { input: `${GET}X-A: a\r\r\n\r\n`, reason: 'bare-cr', status: 400 },
  'a bare CR in the request-target': { input: `GET /\r HTTP/1.1\r\n${HOST}\r\n`, reason: 'bare-cr', status: 400 },
  'a bare CR in a chunk-size line': { input: `${CHUNKED}1\r;a\r\nx\r\n0\r\n\r\n`, reason: 'bare-cr', status: 400, after: 1 },
  // Request line (RFC 9112 §3)
  'a control character in the method': { input: `G\x00T / HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-method', status: 400 },
  'a separator in the method': { input: `GE:T / HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-method', status: 400 },
  'a leading space': { input: ` GET / HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-method', status: 400 },
  'two spaces after the method': { input: `GET  / HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-request-target', status: 400 },
  'a tab as separator': { input: `GET\t/ HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-method', status: 400 },
  'a missing version': { input: `GET /\r\n${HOST}\r\n`, reason: 'invalid-request-line', status: 400 },
  'a method alone': { input: `GET\r\n${HOST}\r\n`, reason: 'invalid-request-line', status: 400 },
  'a trailing space': { input: `GET / HTTP/1.1 \r\n${HOST}\r\n`, reason: 'invalid-version', status: 400 },
  'a lower-case version': { input: `GET / http/1.1\r\n${HOST}\r\n`, reason: 'invalid-version', status: 400 },
  'a two-digit version': { input: `GET / HTTP/11\r\n${HOST}\r\n`, reason: 'invalid-version', status: 400 },
  'HTTP/2.0': { input: `GET / HTTP/2.0\r\n${HOST}\r\n`, reason: 'version-not-supported', status: 505 },
  'HTTP/0.9': { input: `GET / HTTP/0.9\r\n${HOST}\r\n`, reason: 'version-not-supported', status: 505 },
  'a fragment in the target': { input: `GET /a#b HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-request-target', status: 400 },
  'non-ASCII in the target': { input: `GET /caf\xe9 HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-request-target', status: 400 },
  'an asterisk for GET': { input: `GET * HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-request-target', status: 400 },
  'a target without scheme or slash': { input: `GET example.com/ HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-request-target', status: 400 },
  'CONNECT to a path': { input: `CONNECT /x HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-request-target', status: 400 },
  'CONNECT without port': { input: `CONNECT example.com HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-request-target', status: 400 },
  'CONNECT with userinfo': { input: `CONNECT u@example.com:443 HTTP/1.1\r\n${HOST}\r\n`, reason: 'invalid-request-target', status: 400 },
  // Host (RFC 9112 §3.2)
  'HTTP/1.1 without Host': { input: 'GET / HTTP/1.1\r\nX-A: a\r\n\r\n', reason: 'missing-host', status: 400 },
  'two Host fields': { input: `${GET}Host: other.example\r\n\r\n`, reason: 'multiple-host', status: 400 },
  'two Host fields on HTTP/1.0': { input: 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n', reason: 'multiple-host', status: 400 },
  'a Host with a path': { input: 'GET / HTTP/1.1\r\nHost: a.example/evil\r\n\r\n', reason: 'invalid-host', status: 400 },
  'a Host with userinfo': { input: 'GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n', reason: 'invalid-host', status: 400 },
  'a Host list': { input: 'GET / HTTP/1.1\r\nHost: a.example b.example\r\n\r\n', reason: 'invalid-host', status: 400 },
  // Chunked coding (RFC 9112 §7.1)
  'a chunk size that is no hex': { input: `${CHUNKED}zz\r\n`, reason: 'invalid-chunk-size', status: 400, after: 1 },
  'an empty chunk size': { input: `${CHUNKED}\r\n`, reason: 'invalid-chunk-size', status: 400, after: 1 },
  'a negative chunk size': { input: `${CHUNKED}-1\r\n`, reason: 'invalid-chunk-size', status: 400, after: 1 },
  'a chunk size with a 0x prefix': { input: `${CHUNKED}0x5\r\nhello\r\n0\r\n\r\n`, reason: 'invalid-chunk-size', status: 400, after: 1 },
  'whitespace before a chunk size': { input: `${CHUNKED} 5\r\nhello\r\n0\r\n\r\n`, reason: 'invalid-chunk-size', status: 400, after: 1 },
  'whitespace after a chunk size': { input: `${CHUNKED}5 \r\nhello\r\n0\r\n\r\n`, reason: 'invalid-chunk-size', status: 400, after: 1 },
  'a chunk size of 17 hex digits': { input: `${CHUNKED}00000000000000001\r\n`, reason: 'chunk-size-overflow', status: 400, after: 1 },
  'a chunk size of 2^53': { input: `${CHUNKED}20000000000000\r\n`, reason: 'chunk-size-overflow', status: 400, after: 1 },
  'a chunk size of 2^64 - 1': { input: `${CHUNKED}ffffffffffffffff\r\n`, reason: 'chunk-size-overflow', status: 400, after: 1 },
  'an extension without name': { input: `${CHUNKED}5;\r\nhello\r\n0\r\n\r\n`, reason: 'invalid-chunk-extension', status: 400, after: 1 },
  'an extension without value': { input: `${CHUNKED}5;a=\r\nhello\r\n0\r\n\r\n`, reason: 'invalid-chunk-extension', status: 400, after: 1 },
  'an unterminated quoted extension': { input: `${CHUNKED}5;a="x\r\nhello\r\n0\r\n\r\n`, reason: 'invalid-chunk-extension', status: 400, after: 1 },
  'two extension names in a row': { input: `${CHUNKED}5;a b\r\nhello\r\n0\r\n\r\n`, reason: 'invalid-chunk-extension', status: 400, after: 1 },
  'a control character in an extension': { input: `${CHUNKED}5;a=\x01\r\nhello\r\n0\r\n\r\n`, reason: 'invalid-chunk-extension', status: 400, after: 1 },
  'chunk data longer than its size': { input: `${CHUNKED}5\r\nhelloX\r\n0\r\n\r\n`, reason: 'invalid-chunk-terminator', status: 400, after: 1 },
  'chunk data ended by a bare LF': { input: `${CHUNKED}5\r\nhello\n0\r\n\r\n`, reason: 'invalid-chunk-terminator', status: 400, after: 1 },
  'chunk data ended by a bare CR': { input: `${CHUNKED}5\r\nhello\r0\r\n\r\n`, reason: 'invalid-chunk-terminator', status: 400, after: 1 },
  'obs-fold in a trailer': { input: `${CHUNKED}0\r\nX-A: a\r\n b\r\n\r\n`, reason: 'obs-fold', status: 400, after: 1 },
  // Limits (every one configurable; small here)
  'a target over its limit (414)': { input: `GET /0123456789abcdef HTTP/1.1\r\n${HOST}\r\n`, reason: 'uri-too-long', status: 414, limits: { maxRequestTargetLength: 16 }, limit: 16 },
  'a target over the default limit (414)': { input: `GET /${'a'.repeat(8192)} HTTP/1.1\r\n${HOST}\r\n`, reason: 'uri-too-long', status: 414, limit: 8192 },
  'a method over its limit (501)': { input: `PROPPATCHX / HTTP/1.1\r\n${HOST}\r\n`, reason: 'method-too-long', status: 501, limits: { maxMethodLength: 9 }, limit: 9 },
  'more header fields than allowed (431)': { input: `${GET}A: 1\r\nB: 2\r\nC: 3\r\n\r\n`, reason: 'too-many-headers', status: 431, limits: { maxHeaderCount: 3 }, limit: 3, actual: 4 },
  'a field line over its limit (431)': { input: `${GET}X-Long: 0123456789\r\n\r\n`, reason: 'header-too-large', status: 431, limits: { maxFieldLineSize: 17 }, limit: 17 },
  'a header section over its limit (431)': { input: `${GET}X-A: 0123456789\r\nX-B: 0123456789\r\n\r\n`, reason: 'header-section-too-large', status: 431, limits: { maxHeaderSectionSize: 40 }, limit: 40 },
  'too many empty lines before the request': { input: `\r\n\r\n\r\n${GET}\r\n`, reason: 'too-many-empty-lines', status: 400, limits: { maxEmptyLinesBeforeRequest: 2 }, limit: 2, actual: 3 },
  'a Content-Length over the body limit, before any byte of it (413)': { input: `${POST}Content-Length: 11\r\n\r\n`, reason: 'body-too-large', status: 413, limits: { maxBodySize: 10 }, limit: 10, actual: 11 },
  'chunks adding up over the body limit, before the chunk that crosses it (413)': {
    input: `${CHUNKED}5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`, reason: 'body-too-large', status: 413, limits: { maxBodySize: 10 }, limit: 10, actual: 11, after: 1,
  },
  'chunk extensions over their limit': { input: `${CHUNKED}1;abc=def\r\nx\r\n1;gh\r\ny\r\n0\r\n\r\n`, reason: 'chunk-extensions-too-long', status: 400, limits: { maxChunkExtensionsSize: 10 }, limit: 10, after: 1 },
  'more trailer fields than allowed (431)': { input: `${CHUNKED}0\r\nA: 1\r\nB: 2\r\n\r\n`, reason: 'too-many-trailers', status: 431, limits: { maxTrailerCount: 1 }, limit: 1, actual: 2, after: 1 },
  'a trailer section over its limit (431)': { input: `${CHUNKED}0\r\nA: 0123456789\r\nB: 0123456789\r\n\r\n`, reason: 'trailers-too-large', status: 431, limits: { maxTrailerSectionSize: 20 }, limit: 20, after: 1 },
  // Truncation
  'a head cut short by the end of input': { input: `${GET}X-A: a`, reason: 'incomplete-message', status: 400, end: true },
  'a body cut short by the end of input': { input: `${POST}Content-Length: 5\r\n\r\nhel`, reason: 'incomplete-message', status: 400, end: true, after: 1 },
  'a chunked body cut short by the end of input': { input: `${CHUNKED}5\r\nhello\r\n`, reason: 'incomplete-message', status: 400, end: true, after: 1 },
  // After valid requests
  'a bad request after a good one (pipelining)': { input: `${GET}\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`, reason: 'multiple-host', status: 400, after: 2 },
}

describe('RequestParser — rejections', () => {
  for (const [name, r] of Object.entries(rejections)) {
    it(`rejects ${name} with ${r.status} ${r.reason}, for every cut`, () => {
      const data = bytes(r.input)
      const end = r.end ?? false
      const whole = normalize(drive(new RequestParser(r.limits), [data], end))
      expect(whole.at(-1)).toEqual({
        type: 'error', code: HTTP_ERROR_CODES[r.status], status: r.status, reason: r.reason, limit: r.limit, actual: r.actual,
      })
      expect(whole.filter((e) => e.type === 'error')).toHaveLength(1)
      expect(whole.filter((e) => e.type !== 'body')).toHaveLength((r.after ?? 0) + 1)
      const cuts = data.length > 1024 ? everyCut(data).filter(([label]) => !label.startsWith('split')) : everyCut(data)
      for (const [label, chunks] of cuts) expect(normalize(drive(new RequestParser(r.limits), chunks, end)), label).toEqual(whole)
    })
  }

  it('rejects a line over its limit as soon as the limit is crossed, without waiting for its end', () => {
    const parser = new RequestParser({ maxFieldLineSize: 32 })
    parser.push(bytes(`${GET}X-Endless: `))
    expect(parser.next()).toBeUndefined()
    parser.push(bytes('a'.repeat(64)))
    expect(parser.next()).toMatchObject({ type: 'error', error: { reason: 'header-too-large' } })
  })

  it('is dead after an error: it emits nothing more, whatever arrives', () => {
    const parser = new RequestParser()
    const events = parser.feed(bytes(`GET / HTTP/9.9\r\n${HOST}\r\n`))
    expect(events.map((e) => e.type)).toEqual(['error'])
    expect(parser.state).toBe('failed')
    expect(parser.feed(bytes(`${GET}\r\n`))).toEqual([])
    expect(parser.feedEnd()).toEqual([])
  })

  it('raises HttpParseError, an HttpError and a WeirError carrying code, status, reason and side', () => {
    const [event] = new RequestParser().feed(bytes(`${POST}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`))
    if (event?.type !== 'error') throw new Error('expected an error')
    expect(event.error).toBeInstanceOf(HttpParseError)
    expect(event.error).toBeInstanceOf(HttpError)
    expect(event.error).toBeInstanceOf(WeirError)
    expect(event.error).toMatchObject({ code: 'WEIR_HTTP_BAD_REQUEST', status: 400, reason: 'content-length-with-transfer-encoding', side: 'request' })
  })
})

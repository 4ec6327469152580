import { describe, expect, it } from 'vitest'
import { MAX_HEAD_BYTES, parseResponse, type RawResponse, type ResponseParse } from './rawResponse.js'

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')

function complete(parsed: ResponseParse): { response: RawResponse; consumed: number } {
  if (parsed.kind !== 'complete') throw new Error(`expected a complete response, got ${JSON.stringify(parsed)}`)
  return parsed
}

/** Parse `wire` cut at every byte: each strict prefix is incomplete, the whole is one response. */
function parseAtEverySplit(wire: string, options: { requestMethod?: string } = {}): RawResponse {
  const buf = bytes(wire)
  for (let i = 0; i < buf.length; i++) expect(parseResponse(buf.subarray(0, i), options), `prefix of ${i} bytes`).toEqual({ kind: 'incomplete' })
  const { response, consumed } = complete(parseResponse(buf, options))
  expect(consumed).toBe(buf.length)
  expect(response.raw).toEqual(buf)
  return response
}

describe('parseResponse', () => {
  it('reads a Content-Length response cut at every byte', () => {
    const res = parseAtEverySplit('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello')
    expect(res).toMatchObject({ version: 'HTTP/1.1', status: 200, reason: 'OK', framing: 'content-length' })
    expect(res.body.toString()).toBe('hello')
    expect(res.headers).toEqual({ 'content-length': ['5'], 'x-a': ['1'] })
  })

  it('reads a chunked response with extensions and trailers cut at every byte', () => {
    const res = parseAtEverySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Checksum: 42\r\n\r\n')
    expect(res.framing).toBe('chunked')
    expect(res.body.toString()).toBe('hello, world!!!')
    expect(res.trailers).toEqual({ 'x-checksum': ['42'] })
  })

  it('leaves the bytes of a following response unconsumed', () => {
    const first = 'HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n'
    const { response, consumed } = complete(parseResponse(bytes(first + 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')))
    expect(consumed).toBe(first.length)
    expect(response.status).toBe(204)
    expect(response.body.length).toBe(0)
  })

  it('keeps repeated headers in order, lower-cases names and keeps the original case in rawHeaders', () => {
    const { response } = complete(parseResponse(bytes('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie:b=2 \r\nContent-Length: 0\r\n\r\n')))
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(response.rawHeaders).toEqual([
      ['Set-Cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['Content-Length', '0'],
    ])
  })

  it('delimits a body without length by the close of the connection', () => {
    const wire = bytes('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end')
    expect(parseResponse(wire)).toEqual({ kind: 'incomplete' })
    const { response } = complete(parseResponse(wire, { atEof: true }))
    expect(response.framing).toBe('until-close')
    expect(response.body.toString()).toBe('until the end')
  })

  it('treats a transfer coding that does not end in chunked as delimited by the close', () => {
    const { response } = complete(parseResponse(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz'), { atEof: true }))
    expect(response.framing).toBe('until-close')
  })

  it.each([
    ['a 1xx response', 'HTTP/1.1 100 Continue\r\n\r\n', {}],
    ['a 204 response', 'HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n', {}],
    ['a 304 response', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n', {}],
    ['a response to HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', { requestMethod: 'head' }],
  ])('gives %s no body', (_name, wire, options) => {
    const res = parseAtEverySplit(wire, options)
    expect(res.framing).toBe('none')
    expect(res.body.length).toBe(0)
  })

  it('accepts a status line without a reason phrase and identical repeated Content-Length values', () => {
    const { response } = complete(parseResponse(bytes('HTTP/1.0 503\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok')))
    expect(response).toMatchObject({ version: 'HTTP/1.0', status: 503, reason: '' })
    expect(response.body.toString()).toBe('ok')
  })

  it.each([
    ['a bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n'],
    ['a malformed status line', 'HTTP/1.1 2000 OK\r\n\r\n'],
    ['obsolete line folding', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n'],
    ['whitespace before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n'],
    ['a field line without colon', 'HTTP/1.1 200 OK\r\nnonsense\r\n\r\n'],
    ['Content-Length next to Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['conflicting Content-Length values', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
    ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['a malformed chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['chunk data not followed by CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n'],
  ])('rejects %s as invalid', (_name, wire) => {
    expect(parseResponse(bytes(wire)).kind).toBe('invalid')
  })

  it('rejects a head larger than its limit instead of waiting for more', () => {
    const huge = bytes(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}`)
    expect(parseResponse(huge).kind).toBe('invalid')
  })
})

import { describe, expect, it } from 'vitest'
import { Source } from '@weir/core'
import { Headers } from '../model/Headers.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpRequest } from '../model/HttpMessage.js'
import { originForm, renderRequestHead, requestFramingOf } from './renderRequest.js'

const ctx = { authority: 'api.test:8080', close: false }
const render = (req: HttpRequest, c: { authority: string; close: boolean; userAgent?: string } = ctx): string => renderRequestHead(req, c, requestFramingOf(req))

describe('renderRequestHead', () => {
  it('writes the origin-form target and adds Host from the authority', () => {
    expect(render(HttpRequest.get('http://api.test:8080/a/b?q=1'))).toBe('GET /a/b?q=1 HTTP/1.1\r\nHost: api.test:8080\r\n\r\n')
    expect(render(HttpRequest.get('/x', Headers.from([['Host', 'other']])))).toBe('GET /x HTTP/1.1\r\nHost: other\r\n\r\n')
  })

  it('frames strict bodies with Content-Length (0 for an empty POST) and unknown-length streams as chunked', () => {
    expect(render(HttpRequest.post('/p', HttpEntity.text('héllo')))).toBe('POST /p HTTP/1.1\r\nHost: api.test:8080\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\r\n')
    expect(render(HttpRequest.post('/p', HttpEntity.empty))).toBe('POST /p HTTP/1.1\r\nHost: api.test:8080\r\nContent-Length: 0\r\n\r\n')
    expect(render(HttpRequest.put('/p', HttpEntity.streamed(Source.empty())))).toBe('PUT /p HTTP/1.1\r\nHost: api.test:8080\r\nTransfer-Encoding: chunked\r\n\r\n')
    expect(render(HttpRequest.put('/p', HttpEntity.streamed(Source.empty(), { contentLength: 42 })))).toContain('Content-Length: 42\r\n')
  })

  it('drops the caller\'s hop-by-hop fields and Content-Length; says Connection: close when the connection closes', () => {
    const req = HttpRequest.post('/p', HttpEntity.text('a'), Headers.from([['Connection', 'keep-alive, X-Hop'], ['X-Hop', '1'], ['Transfer-Encoding', 'gzip'], ['Content-Length', '99'], ['Upgrade', 'h2c'], ['X-End', 'e']]))
    expect(render(req, { ...ctx, close: true, userAgent: 'weir-test' })).toBe(
      'POST /p HTTP/1.1\r\nX-End: e\r\nHost: api.test:8080\r\nUser-Agent: weir-test\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\nConnection: close\r\n\r\n',
    )
  })

  it('refuses what would break framing: a bad method, a target with spaces or controls, a header with CR/LF', () => {
    expect(() => render(new HttpRequest('G T', '/'))).toThrow(/invalid method/)
    expect(() => render(HttpRequest.get('/a b'))).toThrow(/invalid request target/)
    expect(() => render(HttpRequest.get('/a\r\nX: y'))).toThrow(/invalid request target/)
    expect(() => render(HttpRequest.get('/', Headers.from([['x', 'a\nb']])))).toThrow(/line break/)
  })
})

describe('originForm', () => {
  it.each([
    ['/a?b', '/a?b'],
    ['http://h', '/'],
    ['http://h:1/p', '/p'],
    ['https://h?x=1', '/?x=1'],
    ['*', '*'],
  ])('%s → %s', (target, expected) => {
    expect(originForm(target)).toBe(expected)
  })
})

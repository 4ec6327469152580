import { describe, expect, it } from 'vitest'
import { gunzipSync, gzipSync } from 'node:zlib'
import * as t from 'io-ts'
import { Source } from '@weir/core'
import { testRoute } from '@weir/testkit'
import { Headers } from '../model/Headers.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { complete, completeText } from './basicDirectives.js'
import { compressResponses, decompressRequests } from './codingDirectives.js'
import { entity } from './entity.js'
import { get, post } from './methodDirectives.js'
import { path } from './pathDirectives.js'

const big = 'weir '.repeat(2000)
const Item = t.type({ name: t.string })

describe('compressResponses', () => {
  const route = compressResponses({}, () => path('text', () => get(() => completeText(200, big))))

  it('gzips what the route completes with when the client accepts gzip', async () => {
    const r = await testRoute(route, HttpRequest.get('/text', Headers.from([['accept-encoding', 'gzip']])))
    expect(r.status).toBe(200)
    expect(r.headers.get('content-encoding')).toBe('gzip')
    expect(r.headers.get('vary')).toBe('Accept-Encoding')
    expect(gunzipSync(await r.bytes()).toString()).toBe(big)
  })

  it('leaves responses alone for a client that accepts no coding, and does not touch rejections', async () => {
    const plain = await testRoute(route, HttpRequest.get('/text'))
    expect(plain.headers.get('content-encoding')).toBeUndefined()
    expect(await plain.text()).toBe(big)
    const missing = await testRoute(route, HttpRequest.get('/nope', Headers.from([['accept-encoding', 'gzip']])))
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-encoding')).toBeUndefined()
  })

  it('does not compress an event stream unless asked', async () => {
    const sse = compressResponses({}, () => HttpResponse.stream(Source.single(new TextEncoder().encode(`data: ${big}\n\n`)), { contentType: 'text/event-stream' }))
    const r = await testRoute(sse, HttpRequest.get('/', Headers.from([['accept-encoding', 'gzip, br']])))
    expect(r.headers.get('content-encoding')).toBeUndefined()
  })

  it('fails when the route is built with bad options', () => {
    expect(() => compressResponses({ threshold: -1 } as never, () => completeText(200, 'x'))).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_INVALID_SETTING' }))
  })
})

describe('decompressRequests', () => {
  const route = decompressRequests({ maxDecodedBytes: '64k' }, () => path('items', () => post(() => entity(Item, (item) => complete(201, item)))))
  const gz = (body: Uint8Array | string, coding = 'gzip'): HttpRequest =>
    HttpRequest.post('/items', HttpEntity.strict(typeof body === 'string' ? gzipSync(body) : body, 'application/json'), Headers.from([['content-encoding', coding]]))

  it('decodes a gzip body for the entity directive', async () => {
    const r = await testRoute(route, gz(JSON.stringify({ name: 'x' })))
    expect(r.status).toBe(201)
    expect(await r.json()).toEqual({ name: 'x' })
  })

  it('answers 415 for an unknown coding, without running the route', async () => {
    const r = await testRoute(route, gz(JSON.stringify({ name: 'x' }), 'zstd'))
    expect(r.status).toBe(415)
  })

  it('answers 413 for a body that inflates past maxDecodedBytes (a zip bomb)', async () => {
    const r = await testRoute(route, HttpRequest.post('/items', HttpEntity.strict(gzipSync(Buffer.alloc(10 << 20, 0x20)), 'application/json'), Headers.from([['content-encoding', 'gzip']])))
    expect(r.status).toBe(413)
  })

  it('answers 400 for a corrupt gzip body', async () => {
    const r = await testRoute(route, gz(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])))
    expect(r.status).toBe(400)
  })
})

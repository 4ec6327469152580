/**
 * testRoute: a route run in memory shows what it did — completed, rejected (the rejections before
 * any handler), or threw — and the response a server would send, readable as bytes, text or JSON.
 */
import { describe, expect, it } from 'vitest'
import { Materializer, Source } from '@weir/core'
import { HttpEntity, HttpRequest, HttpResponse, Rejections, asBytes, complete, entityAs, concat, get, path, post, withRequestTimeout, type Route } from '@weir/http'
import { testRoute } from './routeTest.js'

const route: Route = concat(
  path('ok', () => get(() => complete(200, { ok: true }))),
  path('slow', () => withRequestTimeout('3s', () => get(() => complete(200)))),
  path('stream', () => get(() => HttpResponse.stream(Source.from(['a', 'b', 'c']).map((s) => new TextEncoder().encode(s)), { contentType: 'text/plain' }))),
  path('boom', () => {
    throw new RangeError('boom')
  }),
)

describe('testRoute', () => {
  it('shows a completed route and its entity as bytes, text and JSON', async () => {
    const r = await testRoute(route, HttpRequest.get('/ok'))
    expect(r.handled).toBe(true)
    expect(r.rejections).toBeUndefined()
    expect(r.error).toBeUndefined()
    expect(r.status).toBe(200)
    expect(r.contentType).toBe('application/json')
    expect(await r.json()).toEqual({ ok: true })
    expect(await r.text()).toBe('{"ok":true}')
    expect(Array.from(await r.bytes())).toEqual(Array.from(new TextEncoder().encode('{"ok":true}')))
  })

  it('reads a streamed response entity', async () => {
    const r = await testRoute(route, HttpRequest.get('/stream'))
    expect(r.response.entity.kind).toBe('streamed')
    expect(await r.text()).toBe('abc')
  })

  it('shows the rejections before the handler turned them into the response', async () => {
    const r = await testRoute(route, HttpRequest.post('/ok', HttpEntity.empty))
    expect(r.handled).toBe(false)
    expect(r.rejections).toEqual([Rejections.method('GET')])
    expect(r.status).toBe(405)
    const none = await testRoute(route, HttpRequest.get('/nope'))
    expect(none.rejections).toEqual([])
    expect(none.status).toBe(404)
  })

  it('uses the handlers it is given, like a server', async () => {
    const r = await testRoute(route, HttpRequest.get('/nope'), { rejectionHandler: () => HttpResponse.text('custom', 410) })
    expect(r.rejections).toEqual([])
    expect(r.status).toBe(410)
    expect(await r.text()).toBe('custom')
  })

  it('shows an exception and the exception handler’s response', async () => {
    const quiet = Materializer.create({ logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } })
    const r = await testRoute(route, HttpRequest.get('/boom'), { materializer: quiet })
    expect(r.handled).toBe(false)
    expect(r.error).toBeInstanceOf(RangeError)
    expect(r.status).toBe(500)
    quiet.shutdown()
  })

  it('records a per-route request timeout without touching the request given', async () => {
    let touched = false
    const request = new HttpRequest('GET', '/slow', undefined, undefined, '1.1', () => (touched = true))
    const r = await testRoute(route, request)
    expect(r.requestTimeoutMs).toBe(3000)
    expect(touched).toBe(false)
    expect((await testRoute(route, HttpRequest.get('/ok'))).requestTimeoutMs).toBeUndefined()
  })

  it('applies routing settings', async () => {
    const upload = post(() => entityAs(asBytes(), (bytes) => complete(200, { n: bytes.length })))
    const body = { long: 'x'.repeat(100) }
    const r = await testRoute(upload, HttpRequest.post('/', HttpEntity.json(body)), { settings: { entityLimit: 10 } })
    expect(r.rejections).toEqual([Rejections.entityTooLarge(10, JSON.stringify(body).length)])
    expect(r.status).toBe(413)
  })
})

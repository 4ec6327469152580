/**
 * Completing routes and general directives: JSON through a codec, text, NDJSON streamed out, content
 * negotiation (406), redirects, extraction, validation, response/request mapping, and the per-route
 * request timeout as the route test kit records it.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Sink, Source } from '@weir/core'
import { testRoute } from '@weir/testkit'
import { Headers } from '../model/Headers.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpRequest } from '../model/HttpMessage.js'
import {
  complete,
  completeNdjson,
  completeText,
  extract,
  extractRequest,
  mapRequest,
  mapResponse,
  redirect,
  respondWithHeaders,
  validate,
  withRequestTimeout,
} from './basicDirectives.js'
import { get } from './methodDirectives.js'
import { path } from './pathDirectives.js'
import { intNumber } from './pathMatchers.js'
import { Rejections } from './rejections.js'
import { concat } from './Route.js'

const DateFromIso = new t.Type<Date, string, unknown>(
  'DateFromIso',
  (u): u is Date => u instanceof Date,
  (u, c) => (typeof u === 'string' && !Number.isNaN(Date.parse(u)) ? t.success(new Date(u)) : t.failure(u, c)),
  (d) => d.toISOString(),
)
const Event = t.type({ id: t.number, at: DateFromIso })

const accept = (value: string): Headers => Headers.from([['Accept', value]])

describe('complete', () => {
  it('writes JSON with the status and headers given', async () => {
    const r = await testRoute(complete(201, { id: 1 }, { headers: { Location: '/items/1' } }), HttpRequest.get('/'))
    expect(r.status).toBe(201)
    expect(r.contentType).toBe('application/json')
    expect(r.headers.get('location')).toBe('/items/1')
    expect(await r.text()).toBe('{"id":1}')
  })

  it('encodes through a codec', async () => {
    const r = await testRoute(complete(200, { id: 7, at: new Date(Date.UTC(2026, 0, 2)) }, { codec: Event }), HttpRequest.get('/'))
    expect(await r.text()).toBe('{"id":7,"at":"2026-01-02T00:00:00.000Z"}')
  })

  it('without a value, sends an empty body', async () => {
    const r = await testRoute(complete(204), HttpRequest.get('/', accept('text/html')))
    expect(r.status).toBe(204)
    expect((await r.bytes()).length).toBe(0)
  })

  it('negotiates: 406 when Accept refuses JSON, the most specific range deciding', async () => {
    const route = complete(200, { ok: true })
    for (const ok of ['application/json', 'application/*', '*/*', 'text/html, application/json;q=0.5', 'application/json;q=0.1, */*;q=0']) {
      expect((await testRoute(route, HttpRequest.get('/', accept(ok)))).status).toBe(200)
    }
    for (const refused of ['text/html', 'application/json;q=0, */*', 'text/*']) {
      const r = await testRoute(route, HttpRequest.get('/', accept(refused)))
      expect(r.rejections).toEqual([Rejections.notAcceptable(['application/json'])])
      expect(r.status).toBe(406)
    }
  })

  it('completeText writes text/plain and negotiates it', async () => {
    const r = await testRoute(completeText(200, 'héllo'), HttpRequest.get('/', accept('text/*')))
    expect(r.contentType).toBe('text/plain; charset=utf-8')
    expect(await r.text()).toBe('héllo')
    expect((await testRoute(completeText(200, 'x'), HttpRequest.get('/', accept('application/json')))).status).toBe(406)
  })
})

describe('completeNdjson', () => {
  it('streams one JSON line per element, through a codec', async () => {
    const events = Source.from([1, 2]).map((id) => ({ id, at: new Date(Date.UTC(2026, 0, id)) }))
    const r = await testRoute(completeNdjson(200, events, { codec: Event }), HttpRequest.get('/'))
    expect(r.response.entity.kind).toBe('streamed')
    expect(r.contentType).toBe('application/x-ndjson')
    expect(await r.text()).toBe('{"id":1,"at":"2026-01-01T00:00:00.000Z"}\n{"id":2,"at":"2026-01-02T00:00:00.000Z"}\n')
  })

  it('streams an endless source as it is read, and cancels it when the reader stops', async () => {
    let ended: Promise<unknown> | undefined
    const endless = Source.repeat(41).watchTermination((m, done) => {
      ended = done
      return m
    })
    const r = await testRoute(completeNdjson(200, endless), HttpRequest.get('/'))
    const lines = await r.source().map((b) => new TextDecoder().decode(b)).take(2).runWith(Sink.seq())
    expect(lines).toEqual(['41\n', '41\n'])
    await expect(ended).resolves.toBeUndefined() // cancelled, not failed
  })
})

describe('other directives', () => {
  it('redirect', async () => {
    const r = await testRoute(redirect('/new', 307), HttpRequest.get('/old'))
    expect(r.status).toBe(307)
    expect(r.headers.get('location')).toBe('/new')
  })

  it('extract and extractRequest hand values of the context to the inner route', async () => {
    const route = extractRequest((req) => extract((ctx) => ctx.unmatchedPath.length, (n) => complete(200, { method: req.method, n })))
    expect(await (await testRoute(route, HttpRequest.get('/abc'))).json()).toEqual({ method: 'GET', n: 4 })
  })

  it('validate rejects with its message', async () => {
    const route = path('page', intNumber, (n) => validate(n <= 100, 'page must be at most 100', () => complete(200, { n })))
    expect((await testRoute(route, HttpRequest.get('/page/7'))).status).toBe(200)
    const r = await testRoute(route, HttpRequest.get('/page/101'))
    expect(r.rejections).toEqual([Rejections.validation('page must be at most 100')])
  })

  it('mapResponse and respondWithHeaders change responses, not rejections', async () => {
    const route = respondWithHeaders({ 'Cache-Control': 'no-store' }, () =>
      mapResponse((res) => res.withStatus(202), () => concat(path('a', () => complete(200, { a: 1 }, { headers: { 'cache-control': 'max-age=60' } })), get(() => path('b', () => complete(200))))),
    )
    const a = await testRoute(route, HttpRequest.get('/a'))
    expect(a.status).toBe(202)
    expect(a.headers.getAll('cache-control')).toEqual(['no-store'])
    expect((await testRoute(route, HttpRequest.post('/c', HttpEntity.empty))).rejections).toEqual([Rejections.method('GET')])
  })

  it('mapRequest changes the request the inner route sees', async () => {
    const route = mapRequest((req) => req.withHeaders(req.headers.set('X-Seen', 'yes')), () => extractRequest((req) => complete(200, { seen: req.headers.get('x-seen') })))
    expect(await (await testRoute(route, HttpRequest.get('/'))).json()).toEqual({ seen: 'yes' })
  })

  it('withRequestTimeout sets the request timeout of requests that reach it', async () => {
    const route = concat(path('slow', () => withRequestTimeout('2m', () => complete(200))), path('fast', () => complete(200)))
    expect((await testRoute(route, HttpRequest.get('/slow'))).requestTimeoutMs).toBe(120_000)
    expect((await testRoute(route, HttpRequest.get('/fast'))).requestTimeoutMs).toBeUndefined()
    expect(() => withRequestTimeout('soon', () => complete(200))).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT' }))
  })
})

/**
 * Rejections and their responses: method rejections (405 with Allow, cancelled by a method that
 * matched), the priority among several, the exact problem-details bodies of the default handler, a
 * replaced rejection handler, `handleRejections` for part of a route, and the exception handler.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { Materializer } from '@weir/core'
import { testRoute } from '@weir/testkit'
import { HttpError } from '../errors.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { complete, completeText, validate } from './basicDirectives.js'
import { problemResponse, type RejectionHandler } from './handlers.js'
import { del, get, head, method, post, put } from './methodDirectives.js'
import { path } from './pathDirectives.js'
import { Rejections } from './rejections.js'
import { concat, reject, type Route } from './Route.js'
import { handleExceptions, handleRejections, Route as Routes } from './sealing.js'
import { intNumber } from './pathMatchers.js'
import { As, param, parameters } from './valueDirectives.js'

const ok = (): Route => complete(200, { ok: true })
// exceptions are logged through the materializer's logger: captured here instead of the console
const logged: unknown[][] = []
const quiet = Materializer.create({ logger: { debug: () => {}, info: () => {}, warn: () => {}, error: (...args: unknown[]) => void logged.push(args) } })
afterAll(() => quiet.shutdown())
const req = (m: string, target: string): HttpRequest => new HttpRequest(m, target)

describe('method directives', () => {
  const items = path('items', () => concat(get(ok), post(() => complete(201, { created: true })), del(() => complete(204))))

  it('pass the request on for their method', async () => {
    expect((await testRoute(items, req('GET', '/items'))).status).toBe(200)
    expect((await testRoute(items, req('POST', '/items'))).status).toBe(201)
    expect((await testRoute(items, req('DELETE', '/items'))).status).toBe(204)
    expect((await testRoute(method('patch', ok), req('PATCH', '/'))).status).toBe(200)
  })

  it('reject other methods; all rejections together answer 405 with Allow', async () => {
    const r = await testRoute(items, req('PUT', '/items'))
    expect(r.rejections).toEqual([Rejections.method('GET'), Rejections.method('POST'), Rejections.method('DELETE')])
    expect(r.status).toBe(405)
    expect(r.headers.get('allow')).toBe('GET, POST, DELETE')
    expect(r.contentType).toBe('application/problem+json')
    expect(await r.json()).toEqual({
      type: 'about:blank',
      title: 'Method Not Allowed',
      status: 405,
      detail: 'HTTP method not allowed, supported methods: GET, POST, DELETE.',
      allowed: ['GET', 'POST', 'DELETE'],
    })
  })

  it('get takes HEAD too; an explicit head route is separate', async () => {
    expect((await testRoute(get(ok), req('HEAD', '/'))).status).toBe(200)
    expect((await testRoute(head(ok), req('GET', '/'))).rejections).toEqual([Rejections.method('HEAD')])
  })

  it('a method that matched cancels method rejections: a deeper mismatch is a 404, not a 405', async () => {
    const route = concat(post(ok), get(() => path('x', ok)), put(ok))
    const r = await testRoute(route, req('GET', '/y'))
    expect(r.rejections).toEqual([])
    expect(r.status).toBe(404)
    expect(await r.json()).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'The requested resource could not be found.' })
  })

  it('a method that matched keeps the rejections of what is inside it', async () => {
    const route = concat(post(ok), get(() => parameters(param('n', As.int), (n) => complete(200, { n }))))
    const r = await testRoute(route, req('GET', '/?n=x'))
    expect(r.rejections).toEqual([Rejections.malformedQueryParam('n', 'x', 'a whole number')])
    expect(r.status).toBe(400)
  })
})

describe('the default rejection handler', () => {
  const cases: [string, Route, number, Record<string, unknown>][] = [
    ['missing query parameter', reject(Rejections.missingQueryParam('page')), 400, { detail: "Request is missing required query parameter 'page'.", parameter: 'page' }],
    ['malformed query parameter', reject(Rejections.malformedQueryParam('page', 'x', 'a whole number')), 400, { detail: "The query parameter 'page' was malformed: expected a whole number.", parameter: 'page', expected: 'a whole number', received: 'x' }],
    ['missing header', reject(Rejections.missingHeader('X-Key')), 400, { detail: "Request is missing required header 'X-Key'.", header: 'X-Key' }],
    ['malformed header', reject(Rejections.malformedHeader('X-N', 'z', 'a number')), 400, { detail: "The value of header 'X-N' was malformed: expected a number.", header: 'X-N', expected: 'a number', received: 'z' }],
    ['unsupported media type', reject(Rejections.unsupportedMediaType('text/plain', ['application/json'])), 415, { detail: "The request's Content-Type is not supported. Expected: application/json.", contentType: 'text/plain', supported: ['application/json'] }],
    ['not acceptable', reject(Rejections.notAcceptable(['application/json'])), 406, { detail: 'Resource representation is only available with these types: application/json.', supported: ['application/json'] }],
    ['entity too large', reject(Rejections.entityTooLarge(1024, 2000)), 413, { detail: 'The request content was larger than the limit of 1024 bytes.', limit: 1024 }],
    ['empty entity', reject(Rejections.malformedEntity('empty')), 400, { detail: 'Request entity expected but not supplied.' }],
    ['upgrade required', reject(Rejections.upgradeRequired('websocket')), 426, { detail: 'This resource is only served over websocket: send an Upgrade request.', protocol: 'websocket' }],
    ['validation', reject(Rejections.validation('from must be before to')), 400, { detail: 'from must be before to' }],
    ['custom', reject(Rejections.custom('unauthorized', 401, 'A token is required.')), 401, { detail: 'A token is required.', rejection: 'unauthorized' }],
  ]
  for (const [name, route, status, fields] of cases) {
    it(`answers ${name} with ${status} and problem details`, async () => {
      const r = await testRoute(route, HttpRequest.get('/'))
      expect(r.handled).toBe(false)
      expect(r.status).toBe(status)
      expect(r.contentType).toBe('application/problem+json')
      const title = { 400: 'Bad Request', 401: 'Unauthorized', 406: 'Not Acceptable', 413: 'Content Too Large', 415: 'Unsupported Media Type', 426: 'Upgrade Required' }[status]
      expect(await r.json()).toEqual({ type: 'about:blank', title, status, ...fields })
      if (status === 426) expect(r.headers.get('upgrade')).toBe('websocket')
    })
  }

  it('prefers method rejections, then the priority order, whatever order they came in', async () => {
    const route = concat(reject(Rejections.validation('v')), reject(Rejections.missingQueryParam('q')), reject(Rejections.malformedHeader('h', 'x', 'int')))
    expect((await testRoute(route, HttpRequest.get('/'))).status).toBe(400)
    expect(await (await testRoute(route, HttpRequest.get('/'))).json()).toMatchObject({ header: 'h' })
    const withMethod = concat(reject(Rejections.entityTooLarge(1, 2)), get(ok))
    const r = await testRoute(withMethod, req('POST', '/'))
    expect(r.status).toBe(405)
  })

  it('removes duplicate rejections', async () => {
    const route = concat(get(ok), get(ok))
    const r = await testRoute(route, req('POST', '/'))
    expect(r.rejections).toEqual([Rejections.method('GET')])
    expect(r.headers.get('allow')).toBe('GET')
  })
})

describe('a replaced rejection handler', () => {
  const route = concat(path('a', () => get(ok)), path('b', intNumber, (n) => validate(n > 0, 'must be positive', ok)))
  const plain404: RejectionHandler = (rejections) => (rejections.length === 0 ? HttpResponse.text('nothing here', 404) : undefined)

  it('answers what it knows and leaves the rest to the default', async () => {
    const notFound = await testRoute(route, HttpRequest.get('/zzz'), { rejectionHandler: plain404 })
    expect(notFound.status).toBe(404)
    expect(await notFound.text()).toBe('nothing here')
    const invalid = await testRoute(route, HttpRequest.get('/b/0'), { rejectionHandler: plain404 })
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({ detail: 'must be positive' })
  })

  it('handleRejections answers inside a route; what it leaves goes on to the alternatives', async () => {
    const local = concat(
      handleRejections((rs) => (rs.some((r) => r.kind === 'validation') ? HttpResponse.text('invalid', 422) : undefined), () => route),
      path('zzz', ok),
    )
    expect((await testRoute(local, HttpRequest.get('/b/0'))).status).toBe(422)
    expect((await testRoute(local, HttpRequest.get('/zzz'))).status).toBe(200)
    expect((await testRoute(local, req('POST', '/a'))).status).toBe(405)
  })
})

describe('exceptions', () => {
  const boom: Route = path('boom', () => {
    throw new Error('secret detail')
  })
  const asyncBoom: Route = path('later', () => Promise.reject(new Error('secret detail')))

  it('become a 500 that says nothing about the cause, and are logged', async () => {
    for (const target of ['/boom', '/later']) {
      logged.length = 0
      const r = await testRoute(concat(boom, asyncBoom), HttpRequest.get(target), { materializer: quiet })
      expect(r.status).toBe(500)
      expect(logged).toEqual([[`route failed for GET ${target}`, r.error]])
      expect(r.error).toBeInstanceOf(Error)
      const body = await r.text()
      expect(body).not.toContain('secret')
      expect(JSON.parse(body)).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'There was an internal server error.' })
    }
  })

  it('an HttpError with a 4xx status answers that status with its code', async () => {
    const route: Route = () => Promise.reject(new HttpError('WEIR_HTTP_TEST', 'teapot-ish', 418))
    const r = await testRoute(route, HttpRequest.get('/'))
    expect(r.status).toBe(418)
    expect(await r.json()).toMatchObject({ status: 418, code: 'WEIR_HTTP_TEST' })
  })

  it('a replaced exception handler answers first; handleExceptions answers inside a route and rethrows what it leaves', async () => {
    const r = await testRoute(boom, HttpRequest.get('/boom'), { exceptionHandler: (e) => problemResponse(503, String((e as Error).message)) })
    expect(r.status).toBe(503)
    const local = handleExceptions((e) => ((e as Error).message === 'secret detail' ? HttpResponse.text('handled', 502) : undefined), () => boom)
    expect((await testRoute(local, HttpRequest.get('/boom'))).status).toBe(502)
    const passing = handleExceptions(() => undefined, () => boom)
    expect((await testRoute(passing, HttpRequest.get('/boom'), { materializer: quiet })).status).toBe(500)
  })

  it('an inner function returning neither a route nor a response is an exception (WEIR_HTTP_INVALID_ROUTE)', async () => {
    const route = get(() => ({ id: 1 }) as unknown as Route)
    const r = await testRoute(route, HttpRequest.get('/'), { materializer: quiet })
    expect(r.status).toBe(500)
    expect(r.error).toMatchObject({ code: 'WEIR_HTTP_INVALID_ROUTE', received: 'object' })
  })

  it('a failing rejection handler is answered by the exception handler', async () => {
    const r = await testRoute(reject(), HttpRequest.get('/'), {
      materializer: quiet,
      rejectionHandler: () => {
        throw new Error('broken handler')
      },
    })
    expect(r.status).toBe(500)
  })

  it('a route can answer with an HttpResponse of its own, sent as is', async () => {
    const r = await testRoute(get(() => completeText(200, 'hi')), HttpRequest.get('/'))
    expect(await r.text()).toBe('hi')
    const direct = await testRoute(post(() => HttpResponse.text('direct', 202)), HttpRequest.post('/', HttpEntity.empty))
    expect(direct.status).toBe(202)
    expect(await direct.text()).toBe('direct')
  })
})

describe('Route.run', () => {
  it('gives the rejections as data, unsealed', async () => {
    const r = await Routes.run(get(ok), req('POST', '/'))
    expect(r).toEqual({ kind: 'rejected', rejections: [Rejections.method('GET')], cancelled: [] })
  })
})

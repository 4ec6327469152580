/**
 * Query parameters and headers: typed extraction, optional/default/repeated values, and the
 * rejections for missing and malformed ones.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { testRoute } from '@weir/testkit'
import { Headers } from '../model/Headers.js'
import { HttpRequest } from '../model/HttpMessage.js'
import { complete } from './basicDirectives.js'
import { Rejections } from './rejections.js'
import { concat } from './Route.js'
import { As, header, headerValues, param, parameters } from './valueDirectives.js'

const search = parameters(param('q'), param('page', As.int).withDefault(1), param('tag').repeated(), param('exact', As.boolean).optional(), (q, page, tags, exact) =>
  complete(200, { q, page, tags, exact: exact ?? null }),
)

async function run(target: string, headers: Headers = Headers.empty) {
  const r = await testRoute(search, HttpRequest.get(target, headers))
  return { status: r.status, rejections: r.rejections, body: r.handled ? await r.json() : undefined }
}

describe('parameters', () => {
  it('extracts typed values, with defaults, repetitions and optional ones', async () => {
    expect((await run('/?q=cats')).body).toEqual({ q: 'cats', page: 1, tags: [], exact: null })
    expect((await run('/?q=c%20a&page=3&tag=a&tag=b&exact=YES')).body).toEqual({ q: 'c a', page: 3, tags: ['a', 'b'], exact: true })
    expect((await run('/?q=&exact=0')).body).toEqual({ q: '', page: 1, tags: [], exact: false })
  })

  it('rejects a missing required parameter', async () => {
    expect(await run('/?page=2')).toEqual({ status: 400, rejections: [Rejections.missingQueryParam('q')], body: undefined })
  })

  it('rejects a malformed value with what was expected', async () => {
    expect((await run('/?q=x&page=two')).rejections).toEqual([Rejections.malformedQueryParam('page', 'two', 'a whole number')])
    expect((await run('/?q=x&page=1.5')).rejections).toEqual([Rejections.malformedQueryParam('page', '1.5', 'a whole number')])
    expect((await run('/?q=x&exact=maybe')).rejections).toEqual([Rejections.malformedQueryParam('exact', 'maybe', 'a boolean (true or false)')])
  })

  it('reads numbers, literals and io-ts codecs', async () => {
    const route = parameters(param('x', As.number), param('dir', As.oneOf('asc', 'desc')), param('kind', As.codec(t.keyof({ a: null, b: null }))), (x, dir, kind) => complete(200, { x, dir, kind }))
    const good = await testRoute(route, HttpRequest.get('/?x=-2.5&dir=desc&kind=b'))
    expect(await good.json()).toEqual({ x: -2.5, dir: 'desc', kind: 'b' })
    expect((await testRoute(route, HttpRequest.get('/?x=1&dir=up&kind=a'))).rejections).toEqual([Rejections.malformedQueryParam('dir', 'up', 'one of asc, desc')])
    expect((await testRoute(route, HttpRequest.get('/?x=1&dir=asc&kind=c'))).rejections).toEqual([Rejections.malformedQueryParam('kind', 'c', '"a" | "b"')])
    expect((await testRoute(route, HttpRequest.get('/?x=&dir=asc&kind=a'))).rejections).toEqual([Rejections.malformedQueryParam('x', '', 'a number')])
  })

  it('leaves the choice to alternatives: a rejected alternative does not stop the next', async () => {
    const route = concat(
      parameters(param('id', As.int), (id) => complete(200, { by: 'id', id })),
      parameters(param('name'), (name) => complete(200, { by: 'name', name })),
    )
    expect(await (await testRoute(route, HttpRequest.get('/?name=x'))).json()).toEqual({ by: 'name', name: 'x' })
    const neither = await testRoute(route, HttpRequest.get('/'))
    expect(neither.rejections).toEqual([Rejections.missingQueryParam('id'), Rejections.missingQueryParam('name')])
  })
})

describe('headerValues', () => {
  const route = headerValues(header('X-Request-Id'), header('x-retries', As.int).withDefault(0), header('accept-language').optional(), (id, retries, lang) => complete(200, { id, retries, lang: lang ?? null }))

  it('extracts headers case-insensitively, typed', async () => {
    const r = await testRoute(route, HttpRequest.get('/', Headers.from([['x-request-id', 'abc'], ['X-Retries', '2']])))
    expect(await r.json()).toEqual({ id: 'abc', retries: 2, lang: null })
  })

  it('rejects missing and malformed headers (400)', async () => {
    const missing = await testRoute(route, HttpRequest.get('/'))
    expect(missing.rejections).toEqual([Rejections.missingHeader('X-Request-Id')])
    expect(missing.status).toBe(400)
    const bad = await testRoute(route, HttpRequest.get('/', Headers.from([['X-Request-Id', 'a'], ['X-Retries', 'many']])))
    expect(bad.rejections).toEqual([Rejections.malformedHeader('x-retries', 'many', 'a whole number')])
    expect(bad.status).toBe(400)
  })

  it('refuses query specs where header specs belong when the route is built', () => {
    expect(() => headerValues(param('x') as never, () => complete(200))).toThrow(TypeError)
  })
})

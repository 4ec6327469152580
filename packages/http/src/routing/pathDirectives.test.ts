/**
 * Path directives and matchers: what matches, what each extracts (typed), what is left for inner
 * directives, and that a non-match is a rejection without reason (404 at the top).
 */
import { describe, expect, it } from 'vitest'
import { testRoute } from '@weir/testkit'
import { HttpRequest } from '../model/HttpMessage.js'
import { complete } from './basicDirectives.js'
import { decimalNumber, intNumber, oneOf, remaining, segment, segmentMatching, segments, uuid } from './pathMatchers.js'
import { path, pathEnd, pathEndOrSingleSlash, pathPrefix, pathSingleSlash, redirectToNoTrailingSlashIfPresent, redirectToTrailingSlashIfMissing } from './pathDirectives.js'
import { extractUnmatchedPath } from './basicDirectives.js'
import { concat, type Route } from './Route.js'

const echo = (...values: unknown[]): Route => complete(200, { values })

async function values(route: Route, target: string): Promise<unknown> {
  const r = await testRoute(route, HttpRequest.get(target))
  if (!r.handled) return { status: r.status, rejections: r.rejections }
  return ((await r.json()) as { values: unknown }).values
}

describe('path', () => {
  it('matches literal segments exactly: no prefix, no trailing slash', async () => {
    const route = path('items', () => echo())
    expect(await values(route, '/items')).toEqual([])
    expect(await values(route, '/items/')).toEqual({ status: 404, rejections: [] })
    expect(await values(route, '/items/1')).toEqual({ status: 404, rejections: [] })
    expect(await values(route, '/item')).toEqual({ status: 404, rejections: [] })
    expect(await values(route, '/itemsx')).toEqual({ status: 404, rejections: [] })
  })

  it('takes literals spanning segments, compared after percent-decoding, ignoring the query', async () => {
    const route = path('api/v1', 'caf\u00e9', () => echo())
    expect(await values(route, '/api/v1/caf%C3%A9?x=1')).toEqual([])
    expect(await values(route, '/api/v1')).toEqual({ status: 404, rejections: [] })
  })

  it('extracts typed values in order', async () => {
    expect(await values(path('items', intNumber, 'parts', segment, (id, part) => echo(id, part)), '/items/42/parts/a%20b')).toEqual([42, 'a b'])
    expect(await values(path('n', decimalNumber, (n) => echo(n)), '/n/-1.5e2')).toEqual([-150])
    expect(await values(path('u', uuid, (u) => echo(u)), '/u/123E4567-E89B-12D3-A456-426614174000')).toEqual(['123e4567-e89b-12d3-a456-426614174000'])
    expect(await values(path('v', segmentMatching(/v(\d+)/), (v) => echo(v)), '/v/v12')).toEqual(['12'])
    expect(await values(path('sort', oneOf({ asc: 1, desc: -1 }), (d) => echo(d)), '/sort/desc')).toEqual([-1])
  })

  it('does not match a segment its matcher refuses', async () => {
    for (const target of ['/items/x', '/items/-1', '/items/1.5', '/items/', '/items/99999999999999999', '/items/%zz']) {
      expect(await values(path('items', intNumber, (id) => echo(id)), target)).toEqual({ status: 404, rejections: [] })
    }
    expect(await values(path('u', uuid, (u) => echo(u)), '/u/123')).toEqual({ status: 404, rejections: [] })
    expect(await values(path('v', segmentMatching(/v\d+/), (v) => echo(v)), '/v/xv12')).toEqual({ status: 404, rejections: [] })
    expect(await values(path('sort', oneOf({ asc: 1 }), (d) => echo(d)), '/sort/toString')).toEqual({ status: 404, rejections: [] })
  })

  it('extracts the remaining path as sent, or its decoded segments', async () => {
    expect(await values(path('files', remaining, (r) => echo(r)), '/files/a/b%2Fc')).toEqual(['a/b%2Fc'])
    expect(await values(path('files', remaining, (r) => echo(r)), '/files/')).toEqual([''])
    expect(await values(path('files', remaining, (r) => echo(r)), '/files')).toEqual({ status: 404, rejections: [] })
    expect(await values(path('files', segments, (s) => echo(s)), '/files/a/b%2Fc')).toEqual([['a', 'b/c']])
  })

  it('rejects an empty literal when the route is built', () => {
    expect(() => path('', () => echo())).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT' }))
    expect(() => path('a//b', () => echo())).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT' }))
  })
})

describe('pathPrefix and the end of the path', () => {
  const route = pathPrefix('items', () =>
    concat(
      pathEnd(() => echo('end')),
      pathSingleSlash(() => echo('slash')),
      pathPrefix(intNumber, (id) => concat(pathEnd(() => echo(id)), extractUnmatchedPath((rest) => echo(id, rest)))),
    ),
  )

  it('leaves the rest for inner directives', async () => {
    expect(await values(route, '/items')).toEqual(['end'])
    expect(await values(route, '/items/')).toEqual(['slash'])
    expect(await values(route, '/items/7')).toEqual([7])
    expect(await values(route, '/items/7/reviews/3')).toEqual([7, '/reviews/3'])
    expect(await values(route, '/other')).toEqual({ status: 404, rejections: [] })
  })

  it('pathEndOrSingleSlash takes both, and the root is a single slash', async () => {
    const r = pathPrefix('a', () => pathEndOrSingleSlash(() => echo()))
    expect(await values(r, '/a')).toEqual([])
    expect(await values(r, '/a/')).toEqual([])
    expect(await values(r, '/a//')).toEqual({ status: 404, rejections: [] })
    expect(await values(pathSingleSlash(() => echo('root')), '/')).toEqual(['root'])
  })

  it('matches the path of an absolute-form target', async () => {
    expect(await values(path('items', intNumber, (id) => echo(id)), 'http://example.com/items/5?q=1')).toEqual([5])
  })
})

describe('trailing slash redirects', () => {
  it('adds a missing trailing slash, keeping the query', async () => {
    const route = redirectToTrailingSlashIfMissing(308, () => pathPrefix('docs', () => pathSingleSlash(() => echo())))
    const r = await testRoute(route, HttpRequest.get('/docs?v=2'))
    expect(r.status).toBe(308)
    expect(r.headers.get('location')).toBe('/docs/?v=2')
    expect(await values(route, '/docs/')).toEqual([])
  })

  it('removes a trailing slash, never producing a protocol-relative location', async () => {
    const route = redirectToNoTrailingSlashIfPresent(301, () => path('docs', () => echo()))
    const r = await testRoute(route, HttpRequest.get('/docs/'))
    expect(r.status).toBe(301)
    expect(r.headers.get('location')).toBe('/docs')
    const evil = await testRoute(route, HttpRequest.get('//evil.example/'))
    expect(evil.headers.get('location')).toBe('/evil.example')
    expect(await values(route, '/docs')).toEqual([])
  })
})

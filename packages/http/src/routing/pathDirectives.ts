/**
 * Path directives: match the unmatched part of the request path and hand the extracted values to
 * the inner function, typed (`path('items', intNumber, (id) => …)` gives `id: number`).
 *
 * Each argument matches after a `/`: `pathPrefix('api', 'v1')` consumes `/api/v1` and leaves the
 * rest for inner directives; `path(...)` matches the whole rest (no trailing slash).
 * Not matching is a rejection with no reason (404 unless an alternative does better).
 */
import { Headers } from '../model/Headers.js'
import { HttpResponse } from '../model/HttpMessage.js'
import { completed, NOT_MATCHED, runInner, type Inner, type Route } from './Route.js'
import { literalMatchers, type PathArg, type PathMatcher, type PathValues } from './pathMatchers.js'

type AnyMatcher = PathMatcher<readonly unknown[]>

function compile(args: readonly unknown[], directive: string): { matchers: AnyMatcher[]; inner: Inner<any> } {
  const inner = args[args.length - 1]
  if (typeof inner !== 'function') throw new TypeError(`${directive}: the last argument must be the inner function`)
  const matchers: AnyMatcher[] = []
  for (const a of args.slice(0, -1)) {
    if (typeof a === 'string') matchers.push(...literalMatchers(a))
    else matchers.push(a as AnyMatcher)
  }
  return { matchers, inner: inner as Inner<any> }
}

/** Match `matchers` (each after a `/`) at the start of `path`: the values and the rest, or undefined. */
function matchPrefix(matchers: readonly AnyMatcher[], path: string): { values: unknown[]; rest: string } | undefined {
  const values: unknown[] = []
  let rest = path
  for (const m of matchers) {
    if (rest.charCodeAt(0) !== 0x2f /* / */) return undefined
    const r = m.match(rest.slice(1))
    if (r === undefined) return undefined
    values.push(...r.values)
    rest = r.rest
  }
  return { values, rest }
}

/**
 * Match the start of the unmatched path; the inner route sees what is left.
 * @example `pathPrefix('api', 'v1', () => concat(usersRoute, itemsRoute))`
 */
export function pathPrefix<const M extends readonly PathArg[]>(...args: [...M, Inner<PathValues<M>>]): Route {
  const { matchers, inner } = compile(args, 'pathPrefix')
  return (ctx) => {
    const m = matchPrefix(matchers, ctx.unmatchedPath)
    return m === undefined ? Promise.resolve(NOT_MATCHED) : runInner(inner, m.values, ctx.withUnmatchedPath(m.rest))
  }
}

/**
 * Match the whole unmatched path (a trailing slash does not match; see `pathEndOrSingleSlash`).
 * @example `path('items', intNumber, (id) => get(() => complete(200, { id })))`
 */
export function path<const M extends readonly PathArg[]>(...args: [...M, Inner<PathValues<M>>]): Route {
  const { matchers, inner } = compile(args, 'path')
  return (ctx) => {
    const m = matchPrefix(matchers, ctx.unmatchedPath)
    return m === undefined || m.rest !== '' ? Promise.resolve(NOT_MATCHED) : runInner(inner, m.values, ctx.withUnmatchedPath(''))
  }
}

function pathTest(test: (unmatched: string) => boolean, inner: Inner<[]>): Route {
  return (ctx) => (test(ctx.unmatchedPath) ? runInner(inner, [], ctx.withUnmatchedPath('')) : Promise.resolve(NOT_MATCHED))
}

/** Match when the whole path was consumed. */
export function pathEnd(inner: Inner<[]>): Route {
  return pathTest((p) => p === '', inner)
}

/** Match when only a `/` is left (the root `/`, or `/items/` after `pathPrefix('items')`). */
export function pathSingleSlash(inner: Inner<[]>): Route {
  return pathTest((p) => p === '/', inner)
}

/** Match when nothing or only a `/` is left. */
export function pathEndOrSingleSlash(inner: Inner<[]>): Route {
  return pathTest((p) => p === '' || p === '/', inner)
}

export type RedirectStatus = 301 | 302 | 303 | 307 | 308

function redirectTo(target: string, status: RedirectStatus): HttpResponse {
  return HttpResponse.empty(status, Headers.from([['Location', target]]))
}

/** `path` with the target's query; leading slashes collapsed, so `//evil.example/` never becomes a protocol-relative Location. */
function withQuery(path: string, target: string): string {
  const local = path.replace(/^\/+/, '/')
  const q = target.indexOf('?')
  return q < 0 ? local : local + target.slice(q)
}

/** When the request path does not end with `/`, redirect to the same path with one (query kept); otherwise go on. */
export function redirectToTrailingSlashIfMissing(status: RedirectStatus, inner: Inner<[]>): Route {
  return (ctx) => {
    const p = ctx.request.path
    if (p.endsWith('/')) return runInner(inner, [], ctx)
    return Promise.resolve(completed(redirectTo(withQuery(`${p}/`, ctx.request.target), status)))
  }
}

/** When the request path ends with `/` (other than the root), redirect to it without; otherwise go on. */
export function redirectToNoTrailingSlashIfPresent(status: RedirectStatus, inner: Inner<[]>): Route {
  return (ctx) => {
    const p = ctx.request.path
    if (p === '/' || !p.endsWith('/')) return runInner(inner, [], ctx)
    return Promise.resolve(completed(redirectTo(withQuery(p.replace(/\/+$/, '') || '/', ctx.request.target), status)))
  }
}

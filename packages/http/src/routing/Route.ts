/**
 * Routes: a request goes in, either a response or a list of rejections comes out.
 *
 * A `Route` is a function of a {@link RequestContext} (the request, the part of its path not yet
 * matched, the materializer and the routing settings). Directives build routes from an *inner*
 * function that receives what the directive extracted and returns a {@link RouteLike}: another
 * route, an `HttpResponse`, or a promise of either. The inner function runs per request, so a
 * response that opens a session (an SSE stream, say) is created for each request that reaches it.
 *
 * ```ts
 * const route = concat(
 *   path('items', segmentNumber, (id) => get(() => complete(200, { id }))),   // id: number
 *   path('prices', () => get(() => sse(prices))),                             // an HttpResponse
 * )
 * await Http.newServerAt('127.0.0.1', 8080).bindRoute(route)
 * ```
 *
 * Rejections are collected by `concat` and turned into a response only at the top (`Route.seal`,
 * `Route.handler`, `bindRoute`) by a replaceable rejection handler; an exception thrown anywhere in
 * a route becomes a response through a replaceable exception handler (500 by default).
 */
import { defaultMaterializer, WeirError, type Materializer } from '@weir/core'
import type { HttpEntity, StrictEntity } from '../model/HttpEntity.js'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'
import type { Rejection, RejectionKind } from './rejections.js'
import { isRouteSettings, routeSettings, type RouteSettings, type RouteSettingsInput } from './RouteSettings.js'

/** What one request shares among all the contexts derived from it (the entity read once, etc.). */
interface RequestState {
  strict: { readonly entity: HttpEntity; readonly read: Promise<StrictEntity> } | undefined
}

let defaultSettings: RouteSettings | undefined

/** A request as a route sees it: the request, the path still to match, and what routes need to run. */
export class RequestContext {
  /** @internal use {@link RequestContext.of}. */
  constructor(
    readonly request: HttpRequest,
    /** The part of the request path that path directives have not consumed yet (starts with `/` or is empty). */
    readonly unmatchedPath: string,
    readonly materializer: Materializer,
    readonly settings: RouteSettings,
    /** @internal */
    readonly _state: RequestState,
  ) {}

  /** A context for a request at the root of a route. */
  static of(request: HttpRequest, options: { materializer?: Materializer | undefined; settings?: RouteSettingsInput | RouteSettings | undefined } = {}): RequestContext {
    const settings = isRouteSettings(options.settings) ? options.settings : options.settings === undefined ? (defaultSettings ??= routeSettings()) : routeSettings(options.settings)
    return new RequestContext(request, request.path, options.materializer ?? defaultMaterializer(), settings, { strict: undefined })
  }

  withUnmatchedPath(unmatchedPath: string): RequestContext {
    return new RequestContext(this.request, unmatchedPath, this.materializer, this.settings, this._state)
  }
  withRequest(request: HttpRequest): RequestContext {
    return new RequestContext(request, this.unmatchedPath, this.materializer, this.settings, this._state)
  }
}

/** The outcome of running a route. */
export type RouteResult =
  | { readonly kind: 'complete'; readonly response: HttpResponse }
  | {
      readonly kind: 'rejected'
      readonly rejections: readonly Rejection[]
      /**
       * Kinds of rejection made moot by a directive that passed (a method directive that matched
       * cancels every `method` rejection: the method is allowed, something deeper did not match).
       */
      readonly cancelled: readonly RejectionKind[]
    }

/** A route: a request context in, a response or rejections out. */
export type Route = (ctx: RequestContext) => Promise<RouteResult>

/** What an inner function may return: a route, a response, or a promise of either. */
export type RouteLike = Route | HttpResponse | PromiseLike<Route | HttpResponse>

/** The inner function of a directive that extracts the values `T`. */
export type Inner<T extends readonly unknown[]> = (...values: T) => RouteLike

/**
 * A directive that extracts `T` and hands it to an inner function — the shape to follow when
 * writing one's own (`const user: Directive<[User]> = (inner) => async (ctx) => …`).
 */
export type Directive<T extends readonly unknown[]> = (inner: Inner<T>) => Route

/** An inner function returned something that is neither a route nor a response. */
export class InvalidRouteError extends WeirError {
  constructor(readonly received: string) {
    super('WEIR_HTTP_INVALID_ROUTE', `An inner route function returned ${received}, not a Route or an HttpResponse`)
  }
}

export const completed = (response: HttpResponse): RouteResult => ({ kind: 'complete', response })
const NO_CANCELLED: readonly RejectionKind[] = []
export const rejected = (rejections: readonly Rejection[], cancelled: readonly RejectionKind[] = NO_CANCELLED): RouteResult => ({ kind: 'rejected', rejections, cancelled })
/** Nothing matched (no rejection to report): 404 at the top unless an alternative does better. */
export const NOT_MATCHED: RouteResult = rejected([])

/** Run what an inner function returned against `ctx`. */
export async function runRouteLike(like: RouteLike, ctx: RequestContext): Promise<RouteResult> {
  const v = await like
  if (v instanceof HttpResponse) return completed(v)
  if (typeof v === 'function') return v(ctx)
  throw new InvalidRouteError(v === null ? 'null' : typeof v)
}

/** Call `inner` with `values` and run what it returns (an exception becomes a rejected promise). */
export async function runInner<T extends readonly unknown[]>(inner: Inner<T>, values: T, ctx: RequestContext): Promise<RouteResult> {
  return runRouteLike(inner(...values), ctx)
}

/** Add cancelled kinds to a rejected result (a completed one is returned as is). */
export function cancelling(result: RouteResult, kind: RejectionKind): RouteResult {
  if (result.kind === 'complete' || result.cancelled.includes(kind)) return result
  return rejected(result.rejections, [...result.cancelled, kind])
}

/**
 * Alternatives: try each route in turn; the first that completes answers. When all reject, their
 * rejections are collected (in order) for the rejection handler.
 */
export function concat(...routes: readonly Route[]): Route {
  return async (ctx) => {
    let rejections: Rejection[] | undefined
    let cancelled: RejectionKind[] | undefined
    for (const route of routes) {
      const r = await route(ctx)
      if (r.kind === 'complete') return r
      if (r.rejections.length > 0) (rejections ??= []).push(...r.rejections)
      for (const k of r.cancelled) if (!(cancelled ??= []).includes(k)) cancelled.push(k)
    }
    return rejected(rejections ?? [], cancelled)
  }
}

/** A route that rejects with the given rejections (none: "not here", 404 at the top). */
export function reject(...rejections: readonly Rejection[]): Route {
  const result = rejected(rejections)
  return () => Promise.resolve(result)
}

/** The rejections that still count: without cancelled kinds, without duplicates, in order. */
export function effectiveRejections(result: Extract<RouteResult, { kind: 'rejected' }>): readonly Rejection[] {
  const seen = new Set<string>()
  const out: Rejection[] = []
  for (const r of result.rejections) {
    if (result.cancelled.includes(r.kind)) continue
    const key = JSON.stringify(r)
    if (seen.has(key)) continue
    seen.add(key)
    out.push(r)
  }
  return out
}

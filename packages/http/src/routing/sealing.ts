/**
 * The top of a route: `Route.seal` turns every rejection and exception into a response,
 * `Route.handler` makes a server handler of a route (what `ServerBuilder.bindRoute` uses), and the
 * `handleRejections` / `handleExceptions` directives do the same for a part of a route.
 */
import type { Materializer } from '@weir/core'
import type { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { defaultExceptionHandler, defaultRejectionHandler, type ExceptionHandler, type RejectionHandler } from './handlers.js'
import { completed, effectiveRejections, RequestContext, runRouteLike, type Route as RouteFn, type RouteLike, type RouteResult } from './Route.js'
import { isRouteSettings, routeSettings, type RouteSettings, type RouteSettingsInput } from './RouteSettings.js'

/** A route: a request context in, a response or rejections out. */
export type Route = RouteFn

/** How a sealed route answers what it did not handle. */
export interface SealOptions {
  /** Rejections → response; what it leaves (`undefined`) goes to the default handler. */
  readonly rejectionHandler?: RejectionHandler
  /** Exceptions → response; what it leaves (`undefined`) goes to the default handler (500). */
  readonly exceptionHandler?: ExceptionHandler
}

/** Options of {@link Route.handler} and `ServerBuilder.bindRoute`. */
export interface RouteHandlerOptions extends SealOptions {
  /** Materializer for reading entities (default: the server's, or the default materializer). */
  readonly materializer?: Materializer
  /** Routing settings (entity limits). */
  readonly settings?: RouteSettingsInput | RouteSettings
}

function exceptionResponse(error: unknown, ctx: RequestContext, handler: ExceptionHandler | undefined): HttpResponse {
  if (handler !== undefined) {
    try {
      const r = handler(error, ctx)
      if (r !== undefined) return r
    } catch (e) {
      return defaultExceptionHandler(e, ctx)
    }
  }
  return defaultExceptionHandler(error, ctx)
}

function seal(route: RouteFn, options: SealOptions = {}): RouteFn {
  return async (ctx) => {
    let result: RouteResult
    try {
      result = await route(ctx)
    } catch (e) {
      return completed(exceptionResponse(e, ctx, options.exceptionHandler))
    }
    if (result.kind === 'complete') return result
    const rejections = effectiveRejections(result)
    try {
      return completed(options.rejectionHandler?.(rejections, ctx) ?? defaultRejectionHandler(rejections))
    } catch (e) {
      return completed(exceptionResponse(e, ctx, options.exceptionHandler))
    }
  }
}

export const Route = {
  /** A route that always completes: rejections and exceptions become responses (replaceable handlers). */
  seal,
  /**
   * A server handler running `route` sealed: `Http.newServerAt(h, p).bind(Route.handler(route))`
   * (`bindRoute(route)` does the same with the server's materializer).
   */
  handler(route: RouteFn, options: RouteHandlerOptions = {}): (req: HttpRequest) => Promise<HttpResponse> {
    const sealed = seal(route, options)
    const settings = isRouteSettings(options.settings) ? options.settings : routeSettings(options.settings) // a bad setting fails here, once
    return async (req) => {
      const r = await sealed(RequestContext.of(req, { materializer: options.materializer, settings }))
      // a sealed route always completes
      return (r as Extract<RouteResult, { kind: 'complete' }>).response
    }
  },
  /** Run a route (not sealed) against a request: the response, or the rejections as they are. */
  run(route: RouteFn, request: HttpRequest, options: Omit<RouteHandlerOptions, keyof SealOptions> = {}): Promise<RouteResult> {
    return route(RequestContext.of(request, options))
  },
}

/**
 * Answer the rejections of `inner` with `handler` here (not only at the top); rejections it leaves
 * (`undefined`) travel on to the alternatives and the outer handler.
 */
export function handleRejections(handler: RejectionHandler, inner: () => RouteLike): RouteFn {
  return async (ctx) => {
    const r = await runRouteLike(inner(), ctx)
    if (r.kind === 'complete') return r
    const response = handler(effectiveRejections(r), ctx)
    return response === undefined ? r : completed(response)
  }
}

/** Answer exceptions thrown by `inner` with `handler` here; those it leaves (`undefined`) propagate. */
export function handleExceptions(handler: ExceptionHandler, inner: () => RouteLike): RouteFn {
  return async (ctx) => {
    try {
      return await runRouteLike(inner(), ctx)
    } catch (e) {
      const response = handler(e, ctx)
      if (response === undefined) throw e
      return completed(response)
    }
  }
}

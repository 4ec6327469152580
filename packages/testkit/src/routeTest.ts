/**
 * Route tests without sockets: run a route against an in-memory request and look at what came out —
 * the rejections (before a rejection handler turned them into a response), an exception, and the
 * response the server would send, with its entity readable as bytes, text or JSON.
 *
 * ```ts
 * const r = await testRoute(route, HttpRequest.get('/items/42'))
 * expect(r.status).toBe(200)
 * expect(await r.json()).toEqual({ id: 42 })
 * const missing = await testRoute(route, HttpRequest.post('/items/42', HttpEntity.empty))
 * expect(missing.rejections).toEqual([{ kind: 'method', supported: 'GET' }])   // then missing.status is 405
 * ```
 *
 * A per-route request timeout (`withRequestTimeout`) set while the route ran is in `requestTimeoutMs`.
 */
import { defaultMaterializer, type Materializer, type Source } from '@weir/core'
import { effectiveRejections, HttpEntity, HttpRequest, RequestContext, Route, type Headers, type HttpResponse, type Rejection, type RouteHandlerOptions, type RouteResult } from '@weir/http'

/** Options of {@link testRoute}: the same as a server's (`materializer`, `settings`, handlers). */
export type RouteTestOptions = RouteHandlerOptions

/** What a route did with one request. */
export interface RouteTestResult {
  /** The route itself completed (no rejection or exception needed a handler). */
  readonly handled: boolean
  /** The rejections that reached the top (cancelled kinds removed), when the route rejected. */
  readonly rejections: readonly Rejection[] | undefined
  /** The exception the route threw, when it threw (the response is then the exception handler's). */
  readonly error: unknown
  /** The response the server would send: the route's own, or the handlers' answer. */
  readonly response: HttpResponse
  readonly status: number
  readonly headers: Headers
  /** The response entity's content type. */
  readonly contentType: string | undefined
  /** A request timeout the route set for this request (ms), if it did. */
  readonly requestTimeoutMs: number | undefined
  /** The response entity's bytes (read once, then kept; at most `maxBytes`, default 16 MiB). */
  bytes(maxBytes?: number): Promise<Uint8Array>
  /** The response entity as UTF-8 text. */
  text(): Promise<string>
  /** The response entity parsed as JSON. */
  json(): Promise<unknown>
  /** The response entity as a source of chunks (for streamed responses; consumable once). */
  source(): Source<Uint8Array, unknown>
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024

/** Run `route` against `request` in memory. */
export async function testRoute(route: Route, request: HttpRequest, options: RouteTestOptions = {}): Promise<RouteTestResult> {
  const materializer: Materializer = options.materializer ?? defaultMaterializer()
  let requestTimeoutMs: number | undefined
  const req = new HttpRequest(request.method, request.target, request.headers, request.entity, request.version, (_r, ms) => {
    requestTimeoutMs = ms
  })
  const ctx = RequestContext.of(req, { materializer, settings: options.settings })
  let result: RouteResult | undefined
  let error: unknown
  let threw = false
  try {
    result = await route(ctx)
  } catch (e) {
    threw = true
    error = e
  }
  // the answer the server would give: the same sealing, replayed on what the route did
  const replay: Route = () => (threw ? Promise.reject(error) : Promise.resolve(result!))
  const sealed = await Route.seal(replay, options)(ctx)
  const response = (sealed as Extract<RouteResult, { kind: 'complete' }>).response
  const rejections = result?.kind === 'rejected' ? effectiveRejections(result) : undefined
  let read: Promise<Uint8Array> | undefined
  const bytes = (maxBytes = DEFAULT_MAX_BYTES): Promise<Uint8Array> => (read ??= HttpEntity.toStrict(response.entity, maxBytes, materializer).then((s) => s.data))
  const text = async (): Promise<string> => new TextDecoder().decode(await bytes())
  return {
    handled: result?.kind === 'complete',
    rejections,
    error,
    response,
    status: response.status,
    headers: response.headers,
    contentType: response.entity.contentType,
    get requestTimeoutMs() {
      return requestTimeoutMs
    },
    bytes,
    text,
    json: async () => JSON.parse(await text()) as unknown,
    source: () => HttpEntity.dataBytes(response.entity),
  }
}

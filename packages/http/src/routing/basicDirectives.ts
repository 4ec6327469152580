/**
 * Completing and general directives: `complete` (JSON, optionally through an io-ts codec),
 * `completeText`, `completeNdjson` (a streamed response), `redirect`, extraction of the request or
 * any value of the context, `validate`, response/request mapping and the per-route request timeout.
 *
 * The `complete*` routes negotiate: when the client's `Accept` refuses their media type they reject
 * with `not-acceptable` (406 by default). An inner function may also return an `HttpResponse`
 * itself, which is sent as is.
 */
import type * as t from 'io-ts'
import type { Source} from '@weir/core';
import { toMillis, type Duration } from '@weir/core'
import { Headers } from '../model/Headers.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'
import { setRequestTimeout } from '../server/requestControl.js'
import { accepts } from './negotiation.js'
import { completed, rejected, runInner, type Inner, type RequestContext, type Route } from './Route.js'
import { Rejections } from './rejections.js'

export const JSON_TYPE = 'application/json'
export const NDJSON_TYPE = 'application/x-ndjson'
const TEXT_TYPE = 'text/plain; charset=utf-8'

/** Extra response headers: a `Headers` value or a record. */
export type HeadersInput = Headers | Readonly<Record<string, string | readonly string[]>>

function toHeaders(h: HeadersInput | undefined): Headers {
  return h === undefined ? Headers.empty : h instanceof Headers ? h : Headers.fromRecord(h)
}

/** Options of {@link complete}. */
export interface CompleteOptions<A> {
  readonly headers?: HeadersInput
  /** Encode the value with this codec before it is written as JSON (the value must be the codec's type). */
  readonly codec?: t.Encoder<A, unknown>
}

function negotiated(contentType: string, respond: () => HttpResponse): Route {
  return (ctx) => Promise.resolve(accepts(ctx.request, contentType) ? completed(respond()) : rejected([Rejections.notAcceptable([contentType])]))
}

/**
 * Complete with `status` and `value` as JSON (`application/json`); without a value, an empty body.
 * With `codec`, the value is encoded by it first, and its type must be the codec's.
 * @example `path('items', intNumber, (id) => get(() => complete(200, { id })))`
 */
export function complete<A = unknown>(status: number, value?: NoInfer<A>, options: CompleteOptions<A> = {}): Route {
  const headers = toHeaders(options.headers)
  if (value === undefined) {
    const response = HttpResponse.empty(status, headers)
    return () => Promise.resolve(completed(response))
  }
  return negotiated(JSON_TYPE, () => new HttpResponse(status, headers, HttpEntity.json(options.codec === undefined ? value : options.codec.encode(value), JSON_TYPE)))
}

/** Complete with `status` and a `text/plain; charset=utf-8` body. */
export function completeText(status: number, text: string, options: { readonly headers?: HeadersInput } = {}): Route {
  return negotiated(TEXT_TYPE, () => new HttpResponse(status, toHeaders(options.headers), HttpEntity.text(text, TEXT_TYPE)))
}

/**
 * Complete with a streamed NDJSON body (`application/x-ndjson`): one JSON value per line, written as
 * the source emits (encoded by `codec` when given). Backpressured by the client like every streamed
 * response; a client that leaves cancels the source.
 */
export function completeNdjson<A>(status: number, values: Source<A, unknown>, options: { readonly headers?: HeadersInput; readonly codec?: t.Encoder<A, unknown> } = {}): Route {
  const encoder = new TextEncoder()
  const codec = options.codec
  return negotiated(NDJSON_TYPE, () =>
    HttpResponse.stream(
      values.map((v) => encoder.encode(`${JSON.stringify(codec === undefined ? v : codec.encode(v))}\n`)),
      { status, contentType: NDJSON_TYPE, headers: toHeaders(options.headers) },
    ),
  )
}

/** Redirect to `location` (301, 302, 303, 307 or 308). */
export function redirect(location: string, status: 301 | 302 | 303 | 307 | 308): Route {
  const response = HttpResponse.empty(status, Headers.from([['Location', location]]))
  return () => Promise.resolve(completed(response))
}

/** Extract a value computed from the request context. */
export function extract<A>(f: (ctx: RequestContext) => A, inner: Inner<[A]>): Route {
  return (ctx) => runInner(inner, [f(ctx)], ctx)
}

/** Extract the request. */
export function extractRequest(inner: Inner<[HttpRequest]>): Route {
  return (ctx) => runInner(inner, [ctx.request], ctx)
}

/** Extract the part of the path not matched yet (as sent). */
export function extractUnmatchedPath(inner: Inner<[string]>): Route {
  return (ctx) => runInner(inner, [ctx.unmatchedPath], ctx)
}

/** Go on when `check` holds, else reject with a `validation` rejection carrying `message` (400). */
export function validate(check: boolean, message: string, inner: Inner<[]>): Route {
  return (ctx) => (check ? runInner(inner, [], ctx) : Promise.resolve(rejected([Rejections.validation(message)])))
}

/** Transform the response of `inner` (rejections pass unchanged). */
export function mapResponse(f: (response: HttpResponse) => HttpResponse, inner: Inner<[]>): Route {
  return async (ctx) => {
    const r = await runInner(inner, [], ctx)
    return r.kind === 'complete' ? completed(f(r.response)) : r
  }
}

/** Add headers to the response of `inner` (replacing fields of the same name). */
export function respondWithHeaders(headers: HeadersInput, inner: Inner<[]>): Route {
  const extra = toHeaders(headers)
  return mapResponse((res) => {
    let h = res.headers
    for (const [name] of extra) h = h.delete(name)
    return res.withHeaders(Headers.from([...h, ...extra]))
  }, inner)
}

/** Transform the request `inner` sees (e.g. to decode its entity). */
export function mapRequest(f: (request: HttpRequest) => HttpRequest, inner: Inner<[]>): Route {
  return (ctx) => runInner(inner, [], ctx.withRequest(f(ctx.request)))
}

/**
 * Give requests that reach `inner` their own request timeout (DESIGN §1 D), counted from when the
 * request started; on expiry the server answers 503 and closes as for its own setting. Outside a
 * server (route tests) it has no effect but is recorded by the test kit.
 * @example `path('report', () => withRequestTimeout('2m', () => get(() => slowReport())))`
 */
export function withRequestTimeout(timeout: Duration, inner: Inner<[]>): Route {
  const ms = toMillis(timeout, 'requestTimeout') // a bad duration fails when the route is built
  return (ctx) => {
    setRequestTimeout(ctx.request, ms)
    return runInner(inner, [], ctx)
  }
}

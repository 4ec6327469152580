/**
 * Turning rejections and exceptions into responses. Both handlers are replaceable: a handler
 * returns a response for what it knows and `undefined` for the rest, which then goes to the
 * defaults below.
 *
 * The default responses are RFC 9457 problem details (`application/problem+json`):
 * `{ "type": "about:blank", "title": "Method Not Allowed", "status": 405, "detail": "…", …fields }`,
 * with the structured fields of the rejection (the `errors` of a malformed entity, the `limit` of
 * one too large, the `supported` media types …) so clients can act on them.
 *
 * Which rejection wins when several are left: method rejections first (all of them make one 405
 * with `Allow`), then the order of {@link REJECTION_PRIORITY}; no rejection at all is a 404.
 */
import { HttpError } from '../errors.js'
import { Headers } from '../model/Headers.js'
import { EntityTooLargeError, HttpEntity } from '../model/HttpEntity.js'
import { HttpResponse, STATUS_TEXT } from '../model/HttpMessage.js'
import type { RequestContext } from './Route.js'
import type { MalformedEntityReason, Rejection, RejectionKind } from './rejections.js'

/** Turns the rejections left at the top of a route into a response, or `undefined` to leave them to the default. */
export type RejectionHandler = (rejections: readonly Rejection[], ctx: RequestContext) => HttpResponse | undefined

/** Turns an exception thrown by a route into a response, or `undefined` to leave it to the default. */
export type ExceptionHandler = (error: unknown, ctx: RequestContext) => HttpResponse | undefined

export const PROBLEM_JSON = 'application/problem+json'

/** An RFC 9457 problem-details response: `type`, `title` (the status text), `status`, `detail`, and `fields`. */
export function problemResponse(status: number, detail: string, fields: Readonly<Record<string, unknown>> = {}, headers: Headers = Headers.empty): HttpResponse {
  const body = { type: 'about:blank', title: STATUS_TEXT[status] ?? `Status ${status}`, status, detail, ...fields }
  return new HttpResponse(status, headers, HttpEntity.json(body, PROBLEM_JSON))
}

/** After method rejections, the order in which the default handler looks for a rejection to answer. */
export const REJECTION_PRIORITY: readonly Exclude<RejectionKind, 'method'>[] = [
  'custom',
  'entity-too-large',
  'malformed-header',
  'malformed-query-param',
  'malformed-entity',
  'missing-header',
  'missing-query-param',
  'unsupported-media-type',
  'not-acceptable',
  'upgrade-required',
  'validation',
]

const ENTITY_DETAIL: Readonly<Record<MalformedEntityReason, string>> = {
  empty: 'Request entity expected but not supplied.',
  'invalid-json': 'The request content is not valid JSON.',
  'invalid-value': 'The request content does not have the expected shape.',
}

/** The response the default handler gives one rejection. */
export function rejectionResponse(r: Rejection): HttpResponse {
  switch (r.kind) {
    case 'method':
      return problemResponse(405, `HTTP method not allowed, supported methods: ${r.supported}.`, { allowed: [r.supported] }, Headers.from([['Allow', r.supported]]))
    case 'missing-query-param':
      return problemResponse(400, `Request is missing required query parameter '${r.name}'.`, { parameter: r.name })
    case 'malformed-query-param':
      return problemResponse(400, `The query parameter '${r.name}' was malformed: expected ${r.expected}.`, { parameter: r.name, expected: r.expected, received: r.value })
    case 'missing-header':
      return problemResponse(400, `Request is missing required header '${r.name}'.`, { header: r.name })
    case 'malformed-header':
      return problemResponse(400, `The value of header '${r.name}' was malformed: expected ${r.expected}.`, { header: r.name, expected: r.expected, received: r.value })
    case 'unsupported-media-type':
      return problemResponse(415, `The request's Content-Type is not supported. Expected: ${r.supported.join(' or ')}.`, { contentType: r.contentType ?? null, supported: r.supported })
    case 'not-acceptable':
      return problemResponse(406, `Resource representation is only available with these types: ${r.supported.join(', ')}.`, { supported: r.supported })
    case 'malformed-entity':
      return problemResponse(400, ENTITY_DETAIL[r.reason], r.reason === 'invalid-value' ? { errors: r.errors } : {})
    case 'entity-too-large':
      return problemResponse(413, `The request content was larger than the limit of ${r.limit} bytes.`, { limit: r.limit })
    case 'upgrade-required':
      return problemResponse(426, `This resource is only served over ${r.protocol}: send an Upgrade request.`, { protocol: r.protocol }, Headers.from([['Upgrade', r.protocol]]))
    case 'validation':
      return problemResponse(400, r.message)
    case 'custom':
      return problemResponse(r.status, r.message, { rejection: r.name })
  }
}

/** The default rejection handler: 404 for none, one 405 with `Allow` for method rejections, else by priority. */
export const defaultRejectionHandler = (rejections: readonly Rejection[]): HttpResponse => {
  if (rejections.length === 0) return problemResponse(404, 'The requested resource could not be found.')
  const methods: string[] = []
  for (const r of rejections) if (r.kind === 'method' && !methods.includes(r.supported)) methods.push(r.supported)
  if (methods.length > 0) {
    const allow = methods.join(', ')
    return problemResponse(405, `HTTP method not allowed, supported methods: ${allow}.`, { allowed: methods }, Headers.from([['Allow', allow]]))
  }
  for (const kind of REJECTION_PRIORITY) {
    const r = rejections.find((x) => x.kind === kind)
    if (r !== undefined) return rejectionResponse(r)
  }
  return rejectionResponse(rejections[0]!)
}

/**
 * The default exception handler: an `EntityTooLargeError` is a 413, an `HttpError` with a 4xx status
 * answers that status with its message; anything else is logged (materializer logger) and is a 500
 * that says nothing about the cause.
 */
export const defaultExceptionHandler = (error: unknown, ctx: RequestContext): HttpResponse => {
  if (error instanceof EntityTooLargeError) return problemResponse(413, `The request content was larger than the limit of ${error.limit} bytes.`, { limit: error.limit })
  if (error instanceof HttpError && error.status >= 400 && error.status < 500) return problemResponse(error.status, error.message, { code: error.code })
  ctx.materializer.logger.error(`route failed for ${ctx.request.method} ${ctx.request.target}`, error)
  return problemResponse(500, 'There was an internal server error.')
}

/**
 * The routing DSL: composable directives over requests (see `Route.ts` for the model).
 */
export { RequestContext, concat, reject, effectiveRejections, InvalidRouteError, type RouteResult, type RouteLike, type Inner, type Directive } from './Route.js'
export { Route, handleRejections, handleExceptions, type SealOptions, type RouteHandlerOptions } from './sealing.js'
export { Rejections, type Rejection, type RejectionKind, type EntityFieldError, type MalformedEntityReason } from './rejections.js'
export { defaultRejectionHandler, defaultExceptionHandler, rejectionResponse, problemResponse, REJECTION_PRIORITY, PROBLEM_JSON, type RejectionHandler, type ExceptionHandler } from './handlers.js'
export { routeSettings, routeSettingsSpec, type RouteSettings, type RouteSettingsInput } from './RouteSettings.js'
export { segment, intNumber, decimalNumber, uuid, segmentMatching, oneOf, remaining, segments, segmentMatcher, type PathMatcher, type PathMatch, type PathArg, type PathValues } from './pathMatchers.js'
export { path, pathPrefix, pathEnd, pathSingleSlash, pathEndOrSingleSlash, redirectToTrailingSlashIfMissing, redirectToNoTrailingSlashIfPresent, type RedirectStatus } from './pathDirectives.js'
export { method, get, post, put, patch, del, head, options } from './methodDirectives.js'
export { As, ValueSpec, param, header, parameters, headerValues, type ValueReader, type SpecValues } from './valueDirectives.js'
export {
  complete,
  completeText,
  completeNdjson,
  redirect,
  extract,
  extractRequest,
  extractUnmatchedPath,
  validate,
  mapResponse,
  mapRequest,
  respondWithHeaders,
  withRequestTimeout,
  JSON_TYPE,
  NDJSON_TYPE,
  type CompleteOptions,
  type HeadersInput,
} from './basicDirectives.js'
export { entity, entityAs, asJson, asText, asBytes, asStream, asNdjson, EntityDecodingError, type EntityReader, type EntityRead, type StrictReaderOptions } from './entity.js'
export { accepts, mediaType } from './negotiation.js'
export { compressResponses, decompressRequests } from './codingDirectives.js'
export { handleWebSocket } from './webSocketDirective.js'

/**
 * Rejections: why a route did not handle a request, as data. A route that does not match says so
 * with a list of rejections instead of a response; alternatives (`concat`) collect them, and at the
 * top a {@link RejectionHandler} turns what is left into the right response — an empty list means
 * nothing matched the path (404), method rejections become one 405 with `Allow`, and so on.
 *
 * The union is closed: every rejection has a `kind`, and `custom` carries an application's own
 * (for example an authorization failure) with the status it should get.
 */

/** One field of a request entity that did not decode: where, what was expected, what was there. */
export interface EntityFieldError {
  /** A JSONPath-like location: `$`, `$.items[2].price`. */
  readonly path: string
  /** The name of the expected type (`number`, `{ name: string }`, a brand such as `PositiveInt`). */
  readonly expected: string
  /** The received value, as JSON text (`"x"`, `42`) or `undefined` when it was missing. */
  readonly received: string
  /** A codec's own message, when it gave one. */
  readonly message?: string
}

/** Why an entity could not be read as the value a route wanted. */
export type MalformedEntityReason = 'empty' | 'invalid-json' | 'invalid-value'

export type Rejection =
  /** The method is not the one the route takes; all of them together answer 405 with `Allow`. */
  | { readonly kind: 'method'; readonly supported: string }
  /** A required query parameter is absent. */
  | { readonly kind: 'missing-query-param'; readonly name: string }
  /** A query parameter could not be read as its type. */
  | { readonly kind: 'malformed-query-param'; readonly name: string; readonly value: string; readonly expected: string }
  /** A required header is absent. */
  | { readonly kind: 'missing-header'; readonly name: string }
  /** A header could not be read as its type. */
  | { readonly kind: 'malformed-header'; readonly name: string; readonly value: string; readonly expected: string }
  /** The request entity's `Content-Type` is not one the route reads (415). */
  | { readonly kind: 'unsupported-media-type'; readonly contentType: string | undefined; readonly supported: readonly string[] }
  /** The client's `Accept` allows none of the types the route produces (406). */
  | { readonly kind: 'not-acceptable'; readonly supported: readonly string[] }
  /** The request entity is empty, not JSON, or not the expected value (400); `errors` says where. */
  | { readonly kind: 'malformed-entity'; readonly reason: MalformedEntityReason; readonly errors: readonly EntityFieldError[] }
  /** The request entity is larger than the route's limit (413). */
  | { readonly kind: 'entity-too-large'; readonly limit: number; readonly actual: number | undefined }
  /** The route serves only requests that switch to `protocol` (e.g. a WebSocket endpoint): 426 with `Upgrade`. */
  | { readonly kind: 'upgrade-required'; readonly protocol: string }
  /** A `validate` check failed (400). */
  | { readonly kind: 'validation'; readonly message: string }
  /** An application's own rejection, with the status it maps to. */
  | { readonly kind: 'custom'; readonly name: string; readonly status: number; readonly message: string }

export type RejectionKind = Rejection['kind']

/** Constructors for rejections (plain objects; equality is structural). */
export const Rejections = {
  method: (supported: string): Rejection => ({ kind: 'method', supported }),
  missingQueryParam: (name: string): Rejection => ({ kind: 'missing-query-param', name }),
  malformedQueryParam: (name: string, value: string, expected: string): Rejection => ({ kind: 'malformed-query-param', name, value, expected }),
  missingHeader: (name: string): Rejection => ({ kind: 'missing-header', name }),
  malformedHeader: (name: string, value: string, expected: string): Rejection => ({ kind: 'malformed-header', name, value, expected }),
  unsupportedMediaType: (contentType: string | undefined, supported: readonly string[]): Rejection => ({ kind: 'unsupported-media-type', contentType, supported }),
  notAcceptable: (supported: readonly string[]): Rejection => ({ kind: 'not-acceptable', supported }),
  malformedEntity: (reason: MalformedEntityReason, errors: readonly EntityFieldError[] = []): Rejection => ({ kind: 'malformed-entity', reason, errors }),
  entityTooLarge: (limit: number, actual: number | undefined): Rejection => ({ kind: 'entity-too-large', limit, actual }),
  upgradeRequired: (protocol: string): Rejection => ({ kind: 'upgrade-required', protocol }),
  validation: (message: string): Rejection => ({ kind: 'validation', message }),
  custom: (name: string, status: number, message: string): Rejection => ({ kind: 'custom', name, status, message }),
}

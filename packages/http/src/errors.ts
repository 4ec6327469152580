/**
 * Errors of `@weir/http`.
 *
 * Every HTTP error is an {@link HttpError}: a `WeirError` with a stable code `WEIR_HTTP_<NAME>` and the
 * HTTP status it maps to (the status a server answers with when the error ends a request).
 *
 * Parse failures are {@link HttpParseError}s. The reason → status mapping of every rejection the message
 * parser can make lives in ONE table, {@link PARSE_FAILURES}: a reason is a short machine-readable kind
 * (`'content-length-with-transfer-encoding'`), the table gives its status, and the status gives the code.
 * A malformed *response* (client side) always maps to `502 Bad Gateway` / `WEIR_HTTP_BAD_RESPONSE`: that is
 * what a proxy answers when its upstream misbehaves; the reason still says what was wrong.
 *
 * Tests assert `code`, `status`, `reason` and the structured fields, never message wording.
 */
import { WeirError } from '@weir/core'

/** The base of every HTTP error: a stable code and the status it maps to. */
export class HttpError extends WeirError {
  constructor(code: string, message: string, readonly status: number, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** The stable code of each status a parse failure can map to. */
export const HTTP_ERROR_CODES = {
  400: 'WEIR_HTTP_BAD_REQUEST',
  413: 'WEIR_HTTP_ENTITY_TOO_LARGE',
  414: 'WEIR_HTTP_URI_TOO_LONG',
  431: 'WEIR_HTTP_HEADER_TOO_LARGE',
  501: 'WEIR_HTTP_NOT_IMPLEMENTED',
  502: 'WEIR_HTTP_BAD_RESPONSE',
  505: 'WEIR_HTTP_VERSION_NOT_SUPPORTED',
} as const

/** A status a parse failure can map to. */
export type ParseFailureStatus = keyof typeof HTTP_ERROR_CODES

/**
 * Every rejection of the HTTP/1.1 parser: reason → status (request side) and a human description.
 * This table is the single place where a rejection is mapped to its status.
 */
export const PARSE_FAILURES = {
  // Line framing (RFC 9112 §2.2)
  'bare-lf': [400, 'line terminated by a bare LF (CRLF required)'],
  'bare-cr': [400, 'bare CR inside a line'],
  'incomplete-message': [400, 'connection ended in the middle of a message'],
  // Start line (RFC 9112 §3, §4)
  'too-many-empty-lines': [400, 'too many empty lines before the request line'],
  'invalid-request-line': [400, 'malformed request line'],
  'invalid-method': [400, 'invalid character in the method'],
  'method-too-long': [501, 'method longer than any implemented'],
  'invalid-request-target': [400, 'invalid request-target'],
  'uri-too-long': [414, 'request-target too long'],
  'invalid-version': [400, 'malformed HTTP version'],
  'version-not-supported': [505, 'HTTP version not supported'],
  'invalid-status-line': [400, 'malformed status line'],
  'invalid-status-code': [400, 'status code outside 100..599'],
  'reason-phrase-too-long': [400, 'reason phrase too long'],
  'unsolicited-response': [400, 'response received while no request was outstanding'],
  // Field lines (RFC 9112 §5, RFC 9110 §5)
  'whitespace-after-start-line': [400, 'whitespace between the start line and the first field line'],
  'obs-fold': [400, 'obsolete line folding'],
  'whitespace-before-colon': [400, 'whitespace between a field name and the colon'],
  'invalid-header-name': [400, 'invalid field name'],
  'invalid-header-value': [400, 'invalid character in a field value'],
  'header-too-large': [431, 'field line too large'],
  'header-section-too-large': [431, 'header section too large'],
  'too-many-headers': [431, 'too many header fields'],
  'trailers-too-large': [431, 'trailer section too large'],
  'too-many-trailers': [431, 'too many trailer fields'],
  // Host (RFC 9112 §3.2)
  'missing-host': [400, 'HTTP/1.1 request without Host'],
  'multiple-host': [400, 'more than one Host field'],
  'invalid-host': [400, 'invalid Host field value'],
  // Framing (RFC 9112 §6, RFC 9110 §8.6)
  'invalid-content-length': [400, 'malformed Content-Length'],
  'content-length-overflow': [400, 'Content-Length beyond 2^53 - 1'],
  'conflicting-content-length': [400, 'conflicting Content-Length values'],
  'content-length-with-transfer-encoding': [400, 'both Content-Length and Transfer-Encoding'],
  'transfer-encoding-in-http-1.0': [400, 'Transfer-Encoding in an HTTP/1.0 message'],
  'invalid-transfer-encoding': [400, 'malformed Transfer-Encoding'],
  'chunked-not-last': [400, 'chunked is not the final transfer coding'],
  'chunked-repeated': [400, 'chunked applied more than once'],
  'unknown-transfer-coding': [501, 'unsupported transfer coding'],
  'connect-with-content': [400, 'CONNECT request with content'],
  'body-too-large': [413, 'message body too large'],
  // Chunked coding (RFC 9112 §7.1)
  'invalid-chunk-size': [400, 'malformed chunk size'],
  'chunk-size-overflow': [400, 'chunk size overflows'],
  'invalid-chunk-extension': [400, 'malformed chunk extension'],
  'chunk-extensions-too-long': [400, 'chunk extensions too long'],
  'invalid-chunk-terminator': [400, 'chunk data not followed by CRLF'],
} as const satisfies Record<string, readonly [ParseFailureStatus, string]>

/** The machine-readable kind of a parse failure. */
export type ParseFailureReason = keyof typeof PARSE_FAILURES

/** Which side produced the bytes: a request (server side) or a response (client side). */
export type MessageSide = 'request' | 'response'

/** Optional structured detail of a parse failure. */
export interface ParseFailureDetail {
  /** The limit that was exceeded (bytes or a count). */
  readonly limit?: number
  /** The value that exceeded it, when it is known exactly. */
  readonly actual?: number
}

/**
 * The parser rejected a message. `reason` says what was wrong, `status` what a server answers
 * (always 502 for a malformed response), `limit`/`actual` quantify a limit that was exceeded.
 * After a parse failure the connection must be closed: the parser is dead.
 */
export class HttpParseError extends HttpError {
  readonly limit: number | undefined
  readonly actual: number | undefined

  constructor(readonly reason: ParseFailureReason, readonly side: MessageSide, detail?: ParseFailureDetail) {
    const [requestStatus, description] = PARSE_FAILURES[reason]
    const status: ParseFailureStatus = side === 'request' ? requestStatus : 502
    const limit = detail?.limit
    const actual = detail?.actual
    const quantity = limit === undefined ? '' : actual === undefined ? ` (limit ${limit})` : ` (${actual} > limit ${limit})`
    super(HTTP_ERROR_CODES[status], `Invalid HTTP/1.x ${side}: ${description}${quantity}`, status)
    this.limit = limit
    this.actual = actual
  }
}

/** A parser method was called in a state where it is not allowed (e.g. `resume()` with no upgrade pending). */
export class IllegalParserStateError extends WeirError {
  constructor(readonly operation: string, readonly state: string) {
    super('WEIR_HTTP_ILLEGAL_STATE', `Cannot ${operation} in state ${state}`)
  }
}

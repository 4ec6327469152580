/**
 * Errors of content coding (RFC 9110 §8.4): a body that does not decode, an encoder that failed, a
 * request whose `Content-Encoding` the server cannot decode. Each is an `HttpError` with a stable
 * code and the status a server answers with; a decoded body past its limit fails with the model's
 * `EntityTooLargeError` (413) instead, like any other body that is too large.
 */
import { HttpError } from '../errors.js'

/** A content coding of HTTP (RFC 9110 §8.4.1) that weir encodes and decodes. */
export type ContentCoding = 'gzip' | 'deflate' | 'br'

/** A body did not decode: corrupt, truncated, or not in the coding it claimed (400 Bad Request). */
export class DecodingError extends HttpError {
  /** The zlib error code (`Z_DATA_ERROR`, `Z_BUF_ERROR`, `ERR_BROTLI_…`), when zlib gave one. */
  readonly zlibCode: string | undefined
  constructor(readonly coding: ContentCoding, cause: unknown) {
    const zlibCode = zlibCodeOf(cause)
    super('WEIR_HTTP_DECODING_FAILED', `The ${coding}-coded body could not be decoded${zlibCode === undefined ? '' : ` (${zlibCode})`}`, 400, { cause })
    this.zlibCode = zlibCode
  }
}

/** The encoder failed (a bad option, an internal zlib error): the response cannot be completed (500). */
export class EncodingError extends HttpError {
  readonly zlibCode: string | undefined
  constructor(readonly coding: ContentCoding, cause: unknown) {
    const zlibCode = zlibCodeOf(cause)
    super('WEIR_HTTP_ENCODING_FAILED', `The ${coding} encoder failed${zlibCode === undefined ? '' : ` (${zlibCode})`}`, 500, { cause })
    this.zlibCode = zlibCode
  }
}

/** Why a request's `Content-Encoding` was refused. */
export type UnsupportedEncodingReason = 'unknown-coding' | 'too-many-codings'

/**
 * A request's `Content-Encoding` names a coding the server does not decode, or stacks more codings
 * than it accepts (415 Unsupported Media Type, RFC 9110 §15.5.16).
 */
export class UnsupportedEncodingError extends HttpError {
  constructor(
    readonly reason: UnsupportedEncodingReason,
    /** The codings as the request listed them (lower-cased, in order of application). */
    readonly codings: readonly string[],
    /** For 'too-many-codings': how many the server decodes at most. */
    readonly limit: number | undefined = undefined,
  ) {
    const what = reason === 'unknown-coding' ? `unsupported content coding in "${codings.join(', ')}"` : `${codings.length} stacked content codings (at most ${limit})`
    super('WEIR_HTTP_UNSUPPORTED_ENCODING', `Cannot decode the request: ${what}`, 415)
  }
}

function zlibCodeOf(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : undefined
}

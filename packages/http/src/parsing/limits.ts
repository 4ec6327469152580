/**
 * Limits of the HTTP/1.1 parser. Every limit is a named default with the RFC section that motivates it,
 * and every one is a field of {@link ParserLimits}, overridable per parser.
 *
 * Sizes are in bytes (octets) and exclude the CRLF that ends a line; counts are field lines.
 * `Infinity` disables a limit (sensible only for body sizes: a line limit is what bounds the parser's memory).
 */
import { InvalidArgumentError } from '@weir/core'

/** RFC 9112 §3: "a server that receives a method longer than any that it implements SHOULD respond with 501". */
export const MAX_METHOD_LENGTH = 32
/**
 * RFC 9112 §3: recipients SHOULD support request lines of at least 8000 octets; §3.2: a target longer than
 * the server wishes to parse is answered with 414.
 */
export const MAX_REQUEST_TARGET_LENGTH = 8192
/** RFC 9112 §4: the reason phrase is informational; a client bounds what it reads (status line of a response). */
export const MAX_REASON_PHRASE_LENGTH = 512
/** RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) before the request line — a few, not an unbounded stream. */
export const MAX_EMPTY_LINES_BEFORE_REQUEST = 8
/** RFC 9110 §5.4 / RFC 6585 §5: a server answers 431 to a header section with more fields than it wishes to process. */
export const MAX_HEADER_COUNT = 100
/** RFC 9110 §5.4: a field line larger than the recipient wishes to process is answered with 431. */
export const MAX_FIELD_LINE_SIZE = 8192
/** RFC 9110 §5.4 / RFC 6585 §5: a total header section larger than the recipient wishes to process is answered with 431. */
export const MAX_HEADER_SECTION_SIZE = 32768
/** RFC 9110 §15.5.14 (413 Content Too Large): the largest request content a server accepts by default. */
export const MAX_REQUEST_BODY_SIZE = 8 * 1024 * 1024
/** A client reads response content of any size by default (it streams); set a limit per client if needed. */
export const MAX_RESPONSE_BODY_SIZE = Number.POSITIVE_INFINITY
/**
 * RFC 9112 §7.1.1: a server ought to limit the total length of chunk extensions received in a request
 * and answer with a 4xx when it is exceeded. The limit applies to the sum over one message.
 */
export const MAX_CHUNK_EXTENSIONS_SIZE = 16384
/** RFC 9112 §7.1.2 / RFC 9110 §6.5: the trailer section is bounded like the header section. */
export const MAX_TRAILER_COUNT = 32
/** RFC 9112 §7.1.2 / RFC 9110 §6.5: the trailer section is bounded like the header section. */
export const MAX_TRAILER_SECTION_SIZE = 16384
/**
 * RFC 9112 §7.1: chunk-size = 1*HEXDIG, and a recipient MUST anticipate overflow. 16 hex digits hold any
 * 64-bit size; more digits (even leading zeros) are rejected, and values beyond 2^53 - 1 overflow.
 */
export const MAX_CHUNK_SIZE_DIGITS = 16

/** The limits a parser enforces. */
export interface ParserLimits {
  /** Longest method in a request line (501 when exceeded). */
  readonly maxMethodLength: number
  /** Longest request-target (414 when exceeded). */
  readonly maxRequestTargetLength: number
  /** Longest reason phrase in a status line. */
  readonly maxReasonPhraseLength: number
  /** Empty lines tolerated before a request line. */
  readonly maxEmptyLinesBeforeRequest: number
  /** Most header field lines in one message (431 when exceeded). */
  readonly maxHeaderCount: number
  /** Largest header or trailer field line, name and value (431 when exceeded). */
  readonly maxFieldLineSize: number
  /** Largest header section, field lines and their CRLFs (431 when exceeded). */
  readonly maxHeaderSectionSize: number
  /** Largest body, checked against Content-Length before reading and while reading (413 when exceeded). */
  readonly maxBodySize: number
  /** Largest total of chunk extensions in one message (400 when exceeded). */
  readonly maxChunkExtensionsSize: number
  /** Most trailer field lines (431 when exceeded). */
  readonly maxTrailerCount: number
  /** Largest trailer section, field lines and their CRLFs (431 when exceeded). */
  readonly maxTrailerSectionSize: number
}

/** The defaults of a request parser (server side). */
export const DEFAULT_REQUEST_LIMITS: ParserLimits = Object.freeze({
  maxMethodLength: MAX_METHOD_LENGTH,
  maxRequestTargetLength: MAX_REQUEST_TARGET_LENGTH,
  maxReasonPhraseLength: MAX_REASON_PHRASE_LENGTH,
  maxEmptyLinesBeforeRequest: MAX_EMPTY_LINES_BEFORE_REQUEST,
  maxHeaderCount: MAX_HEADER_COUNT,
  maxFieldLineSize: MAX_FIELD_LINE_SIZE,
  maxHeaderSectionSize: MAX_HEADER_SECTION_SIZE,
  maxBodySize: MAX_REQUEST_BODY_SIZE,
  maxChunkExtensionsSize: MAX_CHUNK_EXTENSIONS_SIZE,
  maxTrailerCount: MAX_TRAILER_COUNT,
  maxTrailerSectionSize: MAX_TRAILER_SECTION_SIZE,
})

/** The defaults of a response parser (client side): as for requests, but with no body size limit. */
export const DEFAULT_RESPONSE_LIMITS: ParserLimits = Object.freeze({ ...DEFAULT_REQUEST_LIMITS, maxBodySize: MAX_RESPONSE_BODY_SIZE })

const MINIMUM: { readonly [K in keyof ParserLimits]: number } = {
  maxMethodLength: 1,
  maxRequestTargetLength: 1,
  maxReasonPhraseLength: 0,
  maxEmptyLinesBeforeRequest: 0,
  maxHeaderCount: 0,
  maxFieldLineSize: 1,
  maxHeaderSectionSize: 0,
  maxBodySize: 0,
  maxChunkExtensionsSize: 0,
  maxTrailerCount: 0,
  maxTrailerSectionSize: 0,
}

/**
 * The limits `overrides` gives over `defaults`, validated: each must be an integer ≥ its minimum or `Infinity`.
 * @throws InvalidArgumentError naming the setting and the value.
 */
export function resolveLimits(defaults: ParserLimits, overrides?: Partial<ParserLimits>): ParserLimits {
  if (overrides === undefined) return defaults
  // a parser per connection: frozen overrides (a server's settings) are validated once
  const frozen = Object.isFrozen(overrides)
  if (frozen) {
    const hit = resolved.get(overrides)
    if (hit !== undefined && hit.defaults === defaults) return hit.limits
  }
  const limits = { ...defaults }
  for (const key of Object.keys(MINIMUM) as (keyof ParserLimits)[]) {
    const value: unknown = overrides[key]
    if (value === undefined) continue
    const min = MINIMUM[key]
    if (typeof value !== 'number' || !(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= min))) {
      throw new InvalidArgumentError(key, value, `an integer ≥ ${min} (bytes or a count) or Infinity`)
    }
    ;(limits as Record<keyof ParserLimits, number>)[key] = value
  }
  const out = Object.freeze(limits)
  if (frozen) resolved.set(overrides, { defaults, limits: out })
  return out
}

const resolved = new WeakMap<object, { readonly defaults: ParserLimits; readonly limits: ParserLimits }>()

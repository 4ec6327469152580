/**
 * Line scanners of the HTTP/1.1 grammar: request line, status line, field line, chunk-size line.
 *
 * Contract shared by every scanner: `scanX(buf, start, end, complete, …, out)` examines the line content
 * `buf[start, end)` (the terminating CRLF excluded) from left to right and returns the reason of the FIRST
 * offending byte, or `undefined` when the bytes are valid. With `complete = false` the bytes are only a
 * prefix of the line: running out of bytes is then not an error, so the same line yields the same reason
 * whether it arrived whole or in pieces (the parser scans a prefix only once it has outgrown the longest
 * valid line, which guarantees an error). Limits are checked at the byte that crosses them, in the same
 * left-to-right order. On success, positions are written to `out` (no allocation).
 */
import type { ParseFailureReason } from '../errors.js'
import {
  BACKSLASH, COLON, CR, DQUOTE, EQUALS, HEX_VALUE, QDTEXT, REASON_CHAR, SEMICOLON, SP, TARGET_CHAR, TCHAR, isWhitespace,
} from './chars.js'
import { MAX_CHUNK_SIZE_DIGITS } from './limits.js'

/** Positions found by a scanner (reused by one parser for every line). */
export class LineScan {
  /** Request line: end of the method. Status line: unused. */
  methodEnd = 0
  /** Request line: end of the request-target (it starts after `methodEnd`). */
  targetEnd = 0
  /** Start of the 8-byte `HTTP/x.y` version. */
  versionStart = 0
  /** Status line: start of the reason phrase. */
  reasonStart = 0
  /** Field line: end of the name (the colon). */
  nameEnd = 0
  /** Field line: start and end of the value, surrounding whitespace excluded. */
  valueStart = 0
  valueEnd = 0
  /** Chunk-size line: the size, and where the extensions start. */
  chunkSize = 0
  extensionsStart = 0
}

/** The length of `HTTP/x.y`. */
export const VERSION_LENGTH = 8
const VERSION_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f] // HTTP/

const invalidOr = (b: number, reason: ParseFailureReason): ParseFailureReason => (b === CR ? 'bare-cr' : reason)

/** Scans `HTTP/DIGIT.DIGIT` at `i`; returns the index after it, or -1 (invalid) / -2 (prefix ran out). */
function scanVersion(buf: Uint8Array, i: number, end: number): number {
  for (let k = 0; k < VERSION_LENGTH; k++, i++) {
    if (i === end) return -2
    const b = buf[i] as number
    const ok = k < 5 ? b === VERSION_PREFIX[k] : k === 6 ? b === 0x2e : b >= 0x30 && b <= 0x39
    if (!ok) return -1
  }
  return i
}

/** request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single spaces only. */
export function scanRequestLine(
  buf: Uint8Array, start: number, end: number, complete: boolean, maxMethod: number, maxTarget: number, out: LineScan,
): ParseFailureReason | undefined {
  let i = start
  while (i < end && TCHAR[buf[i] as number] === 1) {
    if (i - start === maxMethod) return 'method-too-long'
    i++
  }
  if (i === end) return complete ? 'invalid-request-line' : undefined
  if (buf[i] !== SP || i === start) return invalidOr(buf[i] as number, 'invalid-method')
  out.methodEnd = i
  const targetStart = ++i
  while (i < end && TARGET_CHAR[buf[i] as number] === 1) {
    if (i - targetStart === maxTarget) return 'uri-too-long'
    i++
  }
  if (i === end) return complete ? 'invalid-request-line' : undefined
  if (buf[i] !== SP || i === targetStart) return invalidOr(buf[i] as number, 'invalid-request-target')
  out.targetEnd = i
  out.versionStart = ++i
  const after = scanVersion(buf, i, end)
  if (after === -2) return complete ? 'invalid-version' : undefined
  if (after === -1) return 'invalid-version'
  return after === end ? undefined : 'invalid-version'
}

/** status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4); `SP reason` may be absent. */
export function scanStatusLine(
  buf: Uint8Array, start: number, end: number, complete: boolean, maxReason: number, out: LineScan,
): ParseFailureReason | undefined {
  out.versionStart = start
  let i = scanVersion(buf, start, end)
  if (i === -2) return complete ? 'invalid-version' : undefined
  if (i === -1) return 'invalid-version'
  for (let k = 0; k < 4; k++, i++) {
    if (i === end) return complete ? 'invalid-status-line' : undefined
    const b = buf[i] as number
    if (k === 0 ? b !== SP : b < 0x30 || b > 0x39) return invalidOr(b, 'invalid-status-line')
  }
  if (i === end) {
    out.reasonStart = end
    return undefined
  }
  if (buf[i] !== SP) return invalidOr(buf[i] as number, 'invalid-status-line')
  const reasonStart = ++i
  out.reasonStart = reasonStart
  for (; i < end; i++) {
    if (i - reasonStart === maxReason) return 'reason-phrase-too-long'
    const b = buf[i] as number
    if (REASON_CHAR[b] !== 1) return invalidOr(b, 'invalid-status-line')
  }
  return undefined
}

/**
 * field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). A line starting with whitespace is
 * obs-fold (§5.2); whitespace before the colon is rejected (§5.1); values allow field-vchar, SP, HTAB, obs-text.
 */
export function scanFieldLine(buf: Uint8Array, start: number, end: number, complete: boolean, out: LineScan): ParseFailureReason | undefined {
  if (start < end && isWhitespace(buf[start] as number)) return 'obs-fold'
  let i = start
  while (i < end && TCHAR[buf[i] as number] === 1) i++
  if (i === end) return complete ? 'invalid-header-name' : undefined
  const b = buf[i] as number
  if (b !== COLON) return isWhitespace(b) ? 'whitespace-before-colon' : invalidOr(b, 'invalid-header-name')
  if (i === start) return 'invalid-header-name'
  out.nameEnd = i
  i++
  while (i < end && isWhitespace(buf[i] as number)) i++
  const valueStart = i
  for (; i < end; i++) {
    const c = buf[i] as number
    if (c < 0x20 ? c !== 0x09 : c === 0x7f) return invalidOr(c, 'invalid-header-value') // FIELD_CONTENT, as two comparisons (hot)
  }
  while (i > valueStart && isWhitespace(buf[i - 1] as number)) i--
  out.valueStart = valueStart
  out.valueEnd = i
  return undefined
}

/**
 * chunk-size [ chunk-ext ] (RFC 9112 §7.1, §7.1.1): at most {@link MAX_CHUNK_SIZE_DIGITS} hex digits and a value
 * ≤ 2^53 - 1, then extensions of at most `extensionBudget` bytes, validated and discarded.
 */
export function scanChunkLine(
  buf: Uint8Array, start: number, end: number, complete: boolean, extensionBudget: number, out: LineScan,
): ParseFailureReason | undefined {
  let i = start
  let size = 0
  for (; i < end; i++) {
    const v = HEX_VALUE[buf[i] as number] as number
    if (v === 255) break
    if (i - start === MAX_CHUNK_SIZE_DIGITS) return 'chunk-size-overflow'
    size = size * 16 + v
    if (size > Number.MAX_SAFE_INTEGER) return 'chunk-size-overflow'
  }
  if (i === start) {
    if (i === end) return complete ? 'invalid-chunk-size' : undefined
    return invalidOr(buf[i] as number, 'invalid-chunk-size')
  }
  out.chunkSize = size
  out.extensionsStart = i
  const limit = i + extensionBudget
  const reason = scanChunkExtensions(buf, i, Math.min(end, limit), complete && end <= limit)
  if (reason !== undefined) return reason
  return end > limit ? 'chunk-extensions-too-long' : undefined
}

// States of the chunk-ext grammar: *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
const START = 0 // right after the size (may end here)
const WS_AFTER_SIZE = 1 // BWS after the size: a ";" must follow
const AFTER_SEMI = 2 // BWS then a name
const NAME = 3 // in a name (may end here)
const WS_AFTER_NAME = 4 // BWS after a name: "=" or ";" must follow
const AFTER_EQUALS = 5 // BWS then a value
const TOKEN_VALUE = 6 // in a token value (may end here)
const QUOTED = 7 // in a quoted-string
const QUOTED_ESCAPE = 8 // after a backslash
const WS_BEFORE_SEMI = 9 // BWS after a value: a ";" must follow
const AFTER_QUOTED = 10 // after the closing quote (may end here)

/** Validates chunk extensions in `buf[start, end)`; see {@link scanChunkLine}. */
function scanChunkExtensions(buf: Uint8Array, start: number, end: number, complete: boolean): ParseFailureReason | undefined {
  let state = START
  for (let i = start; i < end; i++) {
    const b = buf[i] as number
    const ws = isWhitespace(b)
    switch (state) {
      case START:
      case WS_AFTER_SIZE:
        if (ws) state = WS_AFTER_SIZE
        else if (b === SEMICOLON) state = AFTER_SEMI
        else return invalidOr(b, 'invalid-chunk-size')
        break
      case AFTER_SEMI:
        if (TCHAR[b] === 1) state = NAME
        else if (!ws) return invalidOr(b, 'invalid-chunk-extension')
        break
      case NAME:
      case WS_AFTER_NAME:
        if (state === NAME && TCHAR[b] === 1) break
        if (ws) state = WS_AFTER_NAME
        else if (b === EQUALS) state = AFTER_EQUALS
        else if (b === SEMICOLON) state = AFTER_SEMI
        else return invalidOr(b, 'invalid-chunk-extension')
        break
      case AFTER_EQUALS:
        if (TCHAR[b] === 1) state = TOKEN_VALUE
        else if (b === DQUOTE) state = QUOTED
        else if (!ws) return invalidOr(b, 'invalid-chunk-extension')
        break
      case TOKEN_VALUE:
      case AFTER_QUOTED:
      case WS_BEFORE_SEMI:
        if (state === TOKEN_VALUE && TCHAR[b] === 1) break
        if (ws) state = WS_BEFORE_SEMI
        else if (b === SEMICOLON) state = AFTER_SEMI
        else return invalidOr(b, 'invalid-chunk-extension')
        break
      case QUOTED:
        if (b === DQUOTE) state = AFTER_QUOTED
        else if (b === BACKSLASH) state = QUOTED_ESCAPE
        else if (QDTEXT[b] !== 1) return invalidOr(b, 'invalid-chunk-extension')
        break
      case QUOTED_ESCAPE:
        if (REASON_CHAR[b] !== 1) return invalidOr(b, 'invalid-chunk-extension') // quoted-pair: HTAB / SP / VCHAR / obs-text
        state = QUOTED
        break
    }
  }
  if (!complete) return undefined
  if (state === START || state === NAME || state === TOKEN_VALUE || state === AFTER_QUOTED) return undefined
  return state === WS_AFTER_SIZE ? 'invalid-chunk-size' : 'invalid-chunk-extension'
}

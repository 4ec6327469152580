/**
 * The header fields that decide how a message is framed and whether its connection persists:
 * Content-Length, Transfer-Encoding, Connection, Host, Expect, Upgrade.
 *
 * {@link FramingFields} accumulates them line by line while the header section is parsed (one instance per
 * parser, reset per message) and rejects, at the line that shows it, what no later line can repair
 * (malformed or conflicting Content-Length, a second Host…). Rules that need the whole section
 * (Content-Length with Transfer-Encoding, chunked not last…) are checked by {@link FramingFields.framingFailure}.
 */
import type { ParseFailureReason } from '../errors.js'
import { HOST_CHAR, TCHAR, isWhitespace } from './chars.js'
import type { HttpVersion } from './events.js'

const COMMA = 0x2c

/** Per-message accumulator of the framing-relevant fields. All fields are reset by {@link reset}. */
export class FramingFields {
  /** The Content-Length, or -1 when none was sent. */
  contentLength = -1
  /** How many Transfer-Encoding field lines were sent. */
  transferEncodingLines = 0
  /** How many transfer codings they listed, how many were `chunked`, whether the last was, and whether another appeared. */
  codings = 0
  chunkedCount = 0
  chunkedLast = false
  unknownCoding = false
  /** Connection options (RFC 9110 §7.6.1). */
  connectionClose = false
  connectionKeepAlive = false
  connectionUpgrade = false
  /** How many Host field lines were sent. */
  hostCount = 0
  /** An Expect list contained `100-continue`. */
  expectContinue = false
  /** The Upgrade field value(s), joined. */
  upgrade: string | undefined = undefined

  reset(): void {
    this.contentLength = -1
    this.transferEncodingLines = 0
    this.codings = 0
    this.chunkedCount = 0
    this.chunkedLast = false
    this.unknownCoding = false
    this.connectionClose = false
    this.connectionKeepAlive = false
    this.connectionUpgrade = false
    this.hostCount = 0
    this.expectContinue = false
    this.upgrade = undefined
  }

  /**
   * Takes note of one header field (`lower` is its lower-case name, the value is `buf[start, end)` and
   * `value` decoded); returns the reason to reject the message, if this line already shows one.
   */
  onField(lower: string, value: string, buf: Uint8Array, start: number, end: number): ParseFailureReason | undefined {
    switch (lower) {
      case 'content-length':
        return this.#contentLength(buf, start, end)
      case 'transfer-encoding':
        return this.#transferEncoding(value)
      case 'connection':
        this.#connection(value)
        return undefined
      case 'host':
        if (++this.hostCount > 1) return 'multiple-host'
        for (let i = start; i < end; i++) if (HOST_CHAR[buf[i] as number] !== 1) return 'invalid-host'
        return undefined
      case 'expect':
        if (!this.expectContinue) this.expectContinue = listIncludes(value, '100-continue')
        return undefined
      case 'upgrade':
        this.upgrade = this.upgrade === undefined ? value : `${this.upgrade}, ${value}`
        return undefined
      default:
        return undefined
    }
  }

  /**
   * Content-Length = 1*DIGIT (RFC 9110 §8.6); a list of identical values ("42, 42", or repeated lines)
   * is accepted as one value, anything else is rejected.
   */
  #contentLength(buf: Uint8Array, start: number, end: number): ParseFailureReason | undefined {
    let i = start
    for (;;) {
      const digitsStart = i
      let n = 0
      for (; i < end; i++) {
        const d = (buf[i] as number) - 0x30
        if (d < 0 || d > 9) break
        n = n * 10 + d
      }
      if (i === digitsStart) return 'invalid-content-length'
      if (n > Number.MAX_SAFE_INTEGER) return 'content-length-overflow'
      if (this.contentLength === -1) this.contentLength = n
      else if (this.contentLength !== n) return 'conflicting-content-length'
      while (i < end && isWhitespace(buf[i] as number)) i++
      if (i === end) return undefined
      if (buf[i] !== COMMA) return 'invalid-content-length'
      i++
      while (i < end && isWhitespace(buf[i] as number)) i++
    }
  }

  /**
   * Transfer-Encoding = #transfer-coding (RFC 9112 §6.1): records the codings in order. Empty list
   * elements are ignored (RFC 9110 §5.6.1); `chunked` takes no parameters.
   */
  #transferEncoding(value: string): ParseFailureReason | undefined {
    this.transferEncodingLines++
    for (const element of value.split(',')) {
      const semicolon = element.indexOf(';')
      const name = (semicolon < 0 ? element : element.slice(0, semicolon)).trim().toLowerCase()
      if (name === '') {
        if (semicolon < 0 && element.trim() === '') continue
        return 'invalid-transfer-encoding'
      }
      if (!isToken(name)) return 'invalid-transfer-encoding'
      this.codings++
      if (name === 'chunked') {
        if (semicolon >= 0) return 'invalid-transfer-encoding'
        this.chunkedCount++
        this.chunkedLast = true
      } else {
        this.unknownCoding = true
        this.chunkedLast = false
      }
    }
    return undefined
  }

  /** Connection = #connection-option (RFC 9110 §7.6.1), case-insensitive. */
  #connection(value: string): void {
    const lower = value.toLowerCase()
    if (lower === 'keep-alive') this.connectionKeepAlive = true
    else if (lower === 'close') this.connectionClose = true
    else {
      for (const element of lower.split(',')) {
        const option = element.trim()
        if (option === 'close') this.connectionClose = true
        else if (option === 'keep-alive') this.connectionKeepAlive = true
        else if (option === 'upgrade') this.connectionUpgrade = true
      }
    }
  }

  /**
   * The rules of RFC 9112 §6.1–§6.3 that need the whole header section, in order: Content-Length with
   * Transfer-Encoding (§6.2, a smuggling vector: rejected rather than letting chunked win), Transfer-Encoding
   * in HTTP/1.0 (§6.1: faulty framing), an empty coding list, chunked not final (§6.3: length unknowable),
   * chunked twice (§6.1), and a coding other than chunked (§6.1: 501, the parser decodes only chunked).
   */
  framingFailure(version: HttpVersion): ParseFailureReason | undefined {
    if (this.transferEncodingLines === 0) return undefined
    if (this.contentLength !== -1) return 'content-length-with-transfer-encoding'
    if (version === '1.0') return 'transfer-encoding-in-http-1.0'
    if (this.codings === 0) return 'invalid-transfer-encoding'
    if (!this.chunkedLast) return 'chunked-not-last'
    if (this.chunkedCount > 1) return 'chunked-repeated'
    if (this.unknownCoding) return 'unknown-transfer-coding'
    return undefined
  }

  /** Whether the connection persists after the message: HTTP/1.1 unless `close`; HTTP/1.0 only with `keep-alive` (RFC 9112 §9.3). */
  keepAlive(version: HttpVersion): boolean {
    if (this.connectionClose) return false
    return version === '1.1' || this.connectionKeepAlive
  }

  /** The protocols asked for, when the message is an HTTP/1.1 upgrade request (RFC 9110 §7.8: Upgrade + `Connection: upgrade`). */
  upgradeOf(version: HttpVersion): string | undefined {
    return version === '1.1' && this.connectionUpgrade ? this.upgrade : undefined
  }
}

/** True for a non-empty token (values are latin1 strings: every char code is a byte). */
function isToken(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false
  return s.length > 0
}

/** True when the comma-separated list `value` has an element equal (case-insensitively) to `item`. */
function listIncludes(value: string, item: string): boolean {
  const lower = value.toLowerCase()
  if (lower === item) return true
  for (const element of lower.split(',')) if (element.trim() === item) return true
  return false
}

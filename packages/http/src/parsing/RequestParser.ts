/**
 * The server side: parses the requests arriving on one connection, one after another (pipelining).
 *
 * Beyond the shared framing (Http1Parser.ts) it owns the request line (RFC 9112 §3): method, request-target
 * in the form its method allows (§3.2), version (505 unless HTTP/1.x), and the request-only rules — Host
 * exactly once on HTTP/1.1 (§3.2), no content on CONNECT (RFC 9110 §9.3.6), a request without
 * Content-Length or Transfer-Encoding has no body (§6.3).
 *
 * After a request that may switch protocols (an HTTP/1.1 upgrade request, or CONNECT) the parser pauses:
 * what follows might not be HTTP. The owner then calls `resume()` (switch declined) or `detach()` (switch
 * accepted: the bytes received past the request are handed back).
 */
import { Buffer } from 'node:buffer'
import type { ParseFailureReason } from '../errors.js'
import { HOST_CHAR } from './chars.js'
import type { HeaderList, HttpVersion, RequestStart } from './events.js'
import type { FramingFields } from './fields.js'
import { Http1Parser } from './Http1Parser.js'
import type { AfterMessage } from './Http1Parser.js'
import { DEFAULT_REQUEST_LIMITS, resolveLimits } from './limits.js'
import type { ParserLimits } from './limits.js'
import { VERSION_LENGTH, scanRequestLine } from './lines.js'
import type { LineScan } from './lines.js'

/** Parses HTTP/1.x requests; see the module comment. */
export class RequestParser extends Http1Parser<RequestStart> {
  readonly #startLineMax: number
  #method = ''
  #target = ''
  #version: HttpVersion = '1.1'
  #switching = false

  /** @param limits overrides of {@link DEFAULT_REQUEST_LIMITS}, validated. */
  constructor(limits?: Partial<ParserLimits>) {
    super('request', resolveLimits(DEFAULT_REQUEST_LIMITS, limits))
    this.#startLineMax = this.limits.maxMethodLength + 1 + this.limits.maxRequestTargetLength + 1 + VERSION_LENGTH
  }

  protected startLineMaxLength(): number {
    return this.#startLineMax
  }

  protected scanStartLine(line: Buffer, start: number, end: number, complete: boolean, scan: LineScan): ParseFailureReason | undefined {
    return scanRequestLine(line, start, end, complete, this.limits.maxMethodLength, this.limits.maxRequestTargetLength, scan)
  }

  protected acceptStartLine(line: Buffer, start: number, _end: number, scan: LineScan): ParseFailureReason | undefined {
    const version = versionAt(line, scan.versionStart)
    if (version === undefined) return 'version-not-supported'
    const method = methodOf(line, start, scan.methodEnd)
    const targetStart = scan.methodEnd + 1
    if (!isTargetValid(method, line, targetStart, scan.targetEnd)) return 'invalid-request-target'
    this.#version = version
    this.#method = method
    this.#target = this.text(line, targetStart, scan.targetEnd)
    return undefined
  }

  protected onMessageBegin(): ParseFailureReason | undefined {
    return undefined
  }

  protected onEmptyLine(count: number): ParseFailureReason | undefined {
    return count > this.limits.maxEmptyLinesBeforeRequest ? 'too-many-empty-lines' : undefined
  }

  protected completeHead(headers: HeaderList, fields: FramingFields): RequestStart | ParseFailureReason {
    const version = this.#version, method = this.#method
    if (fields.hostCount === 0 && version === '1.1') return 'missing-host'
    const failure = fields.framingFailure(version)
    if (failure !== undefined) return failure
    const chunked = fields.transferEncodingLines > 0
    const contentLength = fields.contentLength === -1 ? undefined : fields.contentLength
    const framing = chunked ? 'chunked' : contentLength !== undefined && contentLength > 0 ? 'length' : 'none'
    if (method === 'CONNECT' && framing !== 'none') return 'connect-with-content'
    const upgrade = fields.upgradeOf(version)
    this.#switching = upgrade !== undefined || method === 'CONNECT'
    return {
      type: 'start',
      method,
      target: this.#target,
      version,
      headers,
      framing,
      contentLength,
      chunked,
      keepAlive: fields.keepAlive(version),
      expectContinue: version === '1.1' && fields.expectContinue,
      upgrade,
    }
  }

  protected afterMessage(): AfterMessage {
    return this.#switching ? 'pause' : 'next'
  }
}

/**
 * The version at `at` (already shaped `HTTP/DIGIT.DIGIT`): HTTP/1.0, or 1.1 for any later 1.x (RFC 9110 §2.5);
 * `undefined` for another major version (505, RFC 9110 §15.6.6).
 */
export function versionAt(buf: Uint8Array, at: number): HttpVersion | undefined {
  if (buf[at + 5] !== 0x31) return undefined
  return buf[at + 7] === 0x30 ? '1.0' : '1.1'
}

const KNOWN_METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'] as const
const KNOWN_METHOD_BYTES = KNOWN_METHODS.map((m) => Buffer.from(m, 'latin1'))

/** The method in `buf[start, end)`: a shared string for the standard methods (no allocation), else decoded. */
function methodOf(buf: Buffer, start: number, end: number): string {
  const length = end - start
  next: for (let m = 0; m < KNOWN_METHOD_BYTES.length; m++) {
    const known = KNOWN_METHOD_BYTES[m] as Buffer
    if (known.length !== length) continue
    for (let i = 0; i < length; i++) if (known[i] !== buf[start + i]) continue next
    return KNOWN_METHODS[m] as string
  }
  return buf.toString('latin1', start, end)
}

/**
 * The request-target forms of RFC 9112 §3.2: authority-form (host ":" port) for CONNECT only, asterisk-form
 * for OPTIONS only, otherwise origin-form ("/…") or absolute-form (scheme ":" …).
 */
function isTargetValid(method: string, buf: Uint8Array, start: number, end: number): boolean {
  const first = buf[start] as number
  if (method === 'CONNECT') return isAuthorityForm(buf, start, end)
  if (first === 0x2f) return true
  if (first === 0x2a) return end - start === 1 && method === 'OPTIONS'
  return isAbsoluteForm(buf, start, end)
}

/** authority-form = uri-host ":" port (RFC 9112 §3.2.3): no userinfo, no path, a non-empty numeric port. */
function isAuthorityForm(buf: Uint8Array, start: number, end: number): boolean {
  let colon = -1
  for (let i = start; i < end; i++) {
    const b = buf[i] as number
    if (HOST_CHAR[b] !== 1) return false
    if (b === 0x3a) colon = i
  }
  if (colon <= start || colon === end - 1) return false
  for (let i = colon + 1; i < end; i++) {
    const b = buf[i] as number
    if (b < 0x30 || b > 0x39) return false
  }
  return true
}

/** absolute-form starts with scheme ":" where scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1). */
function isAbsoluteForm(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number
    const alpha = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
    if (i === start) {
      if (!alpha) return false
    } else if (b === 0x3a) return true
    else if (!(alpha || (b >= 0x30 && b <= 0x39) || b === 0x2b || b === 0x2d || b === 0x2e)) return false
  }
  return false
}

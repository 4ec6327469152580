/**
 * The client side: parses the responses arriving on one connection, one after another.
 *
 * Whether a response has a body depends on the request it answers (RFC 9112 §6.3): the client announces each
 * request it sends with `expectResponseTo(method)`, in order. A response to HEAD, a 1xx, 204 or 304 has no
 * body; a 2xx to CONNECT opens a tunnel (its Content-Length / Transfer-Encoding are ignored); a response
 * without Content-Length or Transfer-Encoding is read until the connection closes (`pushEnd()`), and then
 * does not keep the connection alive. Interim 1xx responses precede the final response to the same request.
 * After a 101 (Switching Protocols) or a tunnel, the parser stops: `detach()` returns the bytes that follow.
 *
 * A malformed response fails with the same reasons as a request, mapped to 502 / `WEIR_HTTP_BAD_RESPONSE`.
 */
import type { ParseFailureReason } from '../errors.js'
import type { HeaderList, HttpVersion, ResponseStart } from './events.js'
import type { FramingFields } from './fields.js'
import { Http1Parser } from './Http1Parser.js'
import type { AfterMessage } from './Http1Parser.js'
import { DEFAULT_RESPONSE_LIMITS, resolveLimits } from './limits.js'
import type { ParserLimits } from './limits.js'
import { VERSION_LENGTH, scanStatusLine } from './lines.js'
import type { LineScan } from './lines.js'
import { versionAt } from './RequestParser.js'

/** Parses HTTP/1.x responses; see the module comment. */
export class ResponseParser extends Http1Parser<ResponseStart> {
  readonly #startLineMax: number
  readonly #methods: string[] = []
  #version: HttpVersion = '1.1'
  #status = 0
  #reason = ''
  #after: AfterMessage = 'next'

  /** @param limits overrides of {@link DEFAULT_RESPONSE_LIMITS}, validated. */
  constructor(limits?: Partial<ParserLimits>) {
    super('response', resolveLimits(DEFAULT_RESPONSE_LIMITS, limits))
    this.#startLineMax = VERSION_LENGTH + 1 + 3 + 1 + this.limits.maxReasonPhraseLength
  }

  /** Announces a request sent on the connection (in sending order): its response is parsed knowing its method. */
  expectResponseTo(method: string): void {
    this.#methods.push(method)
  }

  /** How many announced requests still wait for their final response. */
  get outstanding(): number {
    return this.#methods.length
  }

  protected startLineMaxLength(): number {
    return this.#startLineMax
  }

  protected scanStartLine(line: Buffer, start: number, end: number, complete: boolean, scan: LineScan): ParseFailureReason | undefined {
    return scanStatusLine(line, start, end, complete, this.limits.maxReasonPhraseLength, scan)
  }

  protected acceptStartLine(line: Buffer, _start: number, end: number, scan: LineScan): ParseFailureReason | undefined {
    const version = versionAt(line, scan.versionStart)
    if (version === undefined) return 'version-not-supported'
    const at = scan.versionStart + VERSION_LENGTH + 1
    const status = ((line[at] as number) - 0x30) * 100 + ((line[at + 1] as number) - 0x30) * 10 + ((line[at + 2] as number) - 0x30)
    if (status < 100 || status > 599) return 'invalid-status-code'
    this.#version = version
    this.#status = status
    this.#reason = scan.reasonStart === end ? '' : this.text(line, scan.reasonStart, end)
    return undefined
  }

  protected onMessageBegin(): ParseFailureReason | undefined {
    return this.#methods.length === 0 ? 'unsolicited-response' : undefined
  }

  protected onEmptyLine(): ParseFailureReason | undefined {
    return 'invalid-status-line'
  }

  protected completeHead(headers: HeaderList, fields: FramingFields): ResponseStart | ParseFailureReason {
    const version = this.#version, status = this.#status
    const requestMethod = this.#methods[0] as string
    const tunnel = requestMethod === 'CONNECT' && status >= 200 && status < 300
    let framing: ResponseStart['framing'] = 'none'
    let contentLength: number | undefined
    let chunked = false
    if (!tunnel) {
      const failure = fields.framingFailure(version)
      if (failure !== undefined) return failure
      chunked = fields.transferEncodingLines > 0
      contentLength = fields.contentLength === -1 ? undefined : fields.contentLength
      const noBody = requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304
      if (!noBody) framing = chunked ? 'chunked' : contentLength === undefined ? 'close' : contentLength > 0 ? 'length' : 'none'
    }
    this.#after = tunnel || status === 101 ? 'tunnel' : 'next'
    if (status >= 200 || status === 101) this.#methods.shift()
    return {
      type: 'start',
      status,
      reason: this.#reason,
      requestMethod,
      version,
      headers,
      framing,
      contentLength,
      chunked,
      keepAlive: framing !== 'close' && fields.keepAlive(version),
      upgrade: fields.upgradeOf(version),
    }
  }

  protected afterMessage(): AfterMessage {
    return this.#after
  }
}

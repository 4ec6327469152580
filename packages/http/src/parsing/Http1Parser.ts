/**
 * The incremental HTTP/1.1 message parser shared by requests and responses (RFC 9112): bytes in, a closed
 * union of events out (see events.ts). No socket, stream or timer: a stage drives it.
 *
 * Pull API (backpressure): `push(chunk)` hands over bytes, `next()` returns ONE event or `undefined` when
 * it needs more input (or the parser paused, ended or failed); `pushEnd()` says the peer closed. A stage
 * calls `next()` only when downstream wants an element and pulls upstream only when `next()` is undefined,
 * so body bytes flow at the consumer's pace. `feed(chunk)` / `feedEnd()` push and drain in one call.
 *
 * Line framing (RFC 9112 §2.2), decided strictly because lenient parsers disagreeing is what request
 * smuggling feeds on: every line ends in CRLF; a bare LF line terminator is rejected (`bare-lf`), a CR not
 * followed by LF is rejected (`bare-cr`); only empty lines before a request line are skipped (a few).
 *
 * Split invariance: a line is validated once complete, or — to bound memory — as soon as it outgrows the
 * longest valid line, by the same left-to-right scanner (lines.ts); body framing is byte-exact. Any split of
 * the same bytes therefore yields the same events (body parts aside, whose boundaries follow the input).
 */
import { Buffer } from 'node:buffer'
import { HttpParseError, IllegalParserStateError } from '../errors.js'
import type { MessageSide, ParseFailureReason } from '../errors.js'
import { CR, LF } from './chars.js'
import { HeaderList, MESSAGE_END } from './events.js'
import type { BodyPart, MessageEvent, ParseFailure, RequestStart, ResponseStart, TrailerSection } from './events.js'
import { FramingFields } from './fields.js'
import { LineScan, scanChunkLine, scanFieldLine } from './lines.js'
import { MAX_CHUNK_SIZE_DIGITS } from './limits.js'
import type { ParserLimits } from './limits.js'

/** The phases of the parser. */
type Phase =
  | 'start-line' | 'headers' | 'length-body' | 'close-body' | 'chunk-size' | 'chunk-data' | 'chunk-cr' | 'chunk-lf' | 'trailers'
  | 'message-end' | 'upgrade-pending' | 'upgraded' | 'finished' | 'failed' | 'detached'

/**
 * Where the parser stands, as seen from outside: between messages (`idle`), in a header section (`head`) or
 * body (`body`), paused after a request that may switch protocols (`upgrade-pending`), past a protocol switch
 * (`upgraded`), done after `pushEnd()` (`finished`), dead after an error (`failed`) or after `detach()` (`detached`).
 */
export type ParserState = 'idle' | 'head' | 'body' | 'upgrade-pending' | 'upgraded' | 'finished' | 'failed' | 'detached'

/** What follows the end of a message: the next message, a pause until the owner decides on an upgrade, or a tunnel. */
export type AfterMessage = 'next' | 'pause' | 'tunnel'

const EMPTY = Buffer.alloc(0)
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')
const READY = 0
const NEED_INPUT = 1
const OVERFLOW = 2

/** The base of RequestParser and ResponseParser: all framing, with the start line left to the subclass. */
export abstract class Http1Parser<Start extends RequestStart | ResponseStart> {
  protected readonly limits: ParserLimits
  #phase: Phase = 'start-line'
  #buf: Buffer = EMPTY
  #pos = 0
  #queue: Buffer[] = []
  #ended = false
  // The line being assembled across chunks, and the current complete line (content only, CRLF excluded).
  #pending: Buffer = EMPTY
  #pendingLen = 0
  #line: Buffer = EMPTY
  #lineStart = 0
  #lineEnd = 0
  #bareLf = false
  readonly #scan = new LineScan()
  // The message being parsed.
  readonly #fields = new FramingFields()
  #headers = new HeaderList()
  #emptyLines = 0
  #fieldCount = 0
  #sectionSize = 0
  #remaining = 0
  #bodySize = 0
  #extensionsSize = 0
  // The header section decoded once (when it lies whole in one chunk): field names and values are slices of it.
  #textBuf: Buffer = EMPTY
  #textStart = 0
  #textEnd = 0
  #text: string | undefined = undefined

  constructor(protected readonly side: MessageSide, limits: ParserLimits) {
    this.limits = limits
  }

  /** The longest valid start line (anything longer is rejected without waiting for its end). */
  protected abstract startLineMaxLength(): number
  /** Scans the start line `line[start, end)` (a prefix when `!complete`); see lines.ts. */
  protected abstract scanStartLine(line: Buffer, start: number, end: number, complete: boolean, scan: LineScan): ParseFailureReason | undefined
  /** Takes in a valid start line (decodes it, checks its semantics). */
  protected abstract acceptStartLine(line: Buffer, start: number, end: number, scan: LineScan): ParseFailureReason | undefined
  /** Called when the first byte of a message arrives. */
  protected abstract onMessageBegin(): ParseFailureReason | undefined
  /** Called for an empty line where a start line is expected; `count` empty lines so far. */
  protected abstract onEmptyLine(count: number): ParseFailureReason | undefined
  /** Decides the framing and builds the start event once the header section is complete. */
  protected abstract completeHead(headers: HeaderList, fields: FramingFields): Start | ParseFailureReason
  /** Says what follows the message that just ended. */
  protected abstract afterMessage(): AfterMessage

  /**
   * The latin1 text of `line[start, end)`. A header section that lies whole in one chunk is decoded once,
   * in one call, and its strings are slices of that text; otherwise the bytes are decoded on their own.
   */
  protected text(line: Buffer, start: number, end: number): string {
    if (line !== this.#textBuf || (this.#text !== undefined && start >= this.#textEnd)) {
      this.#textBuf = line
      this.#text = undefined
      if (line === this.#buf) {
        const headEnd = line.indexOf(HEAD_END, start)
        if (headEnd >= 0 && headEnd - start <= this.startLineMaxLength() + this.limits.maxHeaderSectionSize) {
          this.#textStart = start
          this.#textEnd = headEnd
          this.#text = line.toString('latin1', start, headEnd)
        }
      }
    }
    const text = this.#text
    if (text !== undefined && start >= this.#textStart && end <= this.#textEnd) return text.slice(start - this.#textStart, end - this.#textStart)
    return line.toString('latin1', start, end)
  }

  /** Where the parser stands. */
  get state(): ParserState {
    switch (this.#phase) {
      case 'start-line':
        return this.#pendingLen === 0 ? 'idle' : 'head'
      case 'headers':
        return 'head'
      case 'length-body': case 'close-body': case 'chunk-size': case 'chunk-data': case 'chunk-cr': case 'chunk-lf': case 'trailers': case 'message-end':
        return 'body'
      case 'upgrade-pending': case 'upgraded': case 'finished': case 'failed': case 'detached':
        return this.#phase
    }
  }

  /** Hands over the next bytes received (not copied: do not overwrite them while their events are in use). */
  push(chunk: Uint8Array): void {
    if (this.#ended) throw new IllegalParserStateError('push after pushEnd', this.state)
    if (chunk.length === 0 || this.#phase === 'failed' || this.#phase === 'detached') return
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.#pos === this.#buf.length && this.#queue.length === 0) {
      this.#buf = buf
      this.#pos = 0
      this.#textBuf = EMPTY
    } else this.#queue.push(buf)
  }

  /** Says the input ended (the peer closed its side): a close-delimited body ends, a partial message fails. */
  pushEnd(): void {
    this.#ended = true
  }

  /** Pushes `chunk` and returns every event it completes. */
  feed(chunk: Uint8Array): (Start | MessageEvent)[] {
    this.push(chunk)
    return this.#drain()
  }

  /** Says the input ended and returns the remaining events. */
  feedEnd(): (Start | MessageEvent)[] {
    this.pushEnd()
    return this.#drain()
  }

  #drain(): (Start | MessageEvent)[] {
    const events: (Start | MessageEvent)[] = []
    for (let e = this.next(); e !== undefined; e = this.next()) events.push(e)
    return events
  }

  /** Continues parsing HTTP after a request that asked to switch protocols, when the switch is declined. */
  resume(): void {
    if (this.#phase !== 'upgrade-pending') throw new IllegalParserStateError('resume', this.state)
    this.#phase = 'start-line'
  }

  /** Takes the bytes received past the message that switched protocols; the parser is done with the connection. */
  detach(): Uint8Array[] {
    if (this.#phase !== 'upgrade-pending' && this.#phase !== 'upgraded') throw new IllegalParserStateError('detach', this.state)
    const rest: Uint8Array[] = this.#pos < this.#buf.length ? [this.#buf.subarray(this.#pos)] : []
    rest.push(...this.#queue)
    this.#release('detached')
    return rest
  }

  /** The next event, or `undefined` when more input is needed (or the parser paused, ended, failed). */
  next(): Start | MessageEvent | undefined {
    for (;;) {
      switch (this.#phase) {
        case 'start-line': {
          if (this.#pendingLen === 0) {
            if (!this.#hasInput()) return this.#starved()
            const reason = this.onMessageBegin()
            if (reason !== undefined) return this.#fail(reason)
          }
          const r = this.#readLine(this.startLineMaxLength())
          if (r === NEED_INPUT) return this.#starved()
          const line = this.#line, start = this.#lineStart, end = this.#lineEnd
          if (r === READY && start === end) {
            const reason = this.#bareLf ? 'bare-lf' : this.onEmptyLine(++this.#emptyLines)
            if (reason !== undefined) return this.#fail(reason, this.#emptyLines)
            continue
          }
          const reason = this.scanStartLine(line, start, end, r === READY, this.#scan) ??
            (r === READY ? (this.#bareLf ? 'bare-lf' : this.acceptStartLine(line, start, end, this.#scan)) : 'invalid-request-line')
          if (reason !== undefined) return this.#fail(reason)
          this.#phase = 'headers'
          this.#startSection()
          this.#fields.reset()
          continue
        }
        case 'headers':
        case 'trailers': {
          const trailers = this.#phase === 'trailers'
          const r = this.#readLine(this.#fieldAllowance(trailers))
          if (r === NEED_INPUT) return this.#starved()
          if (r === READY && this.#lineStart === this.#lineEnd) {
            if (this.#bareLf) return this.#fail('bare-lf')
            if (trailers) {
              this.#phase = 'message-end'
              if (this.#headers.size > 0) return { type: 'trailers', headers: this.#headers } satisfies TrailerSection
              continue
            }
            return this.#completeHead()
          }
          const reason = this.#scanField(r === READY, trailers)
          if (reason !== undefined) return this.#fail(reason, this.#fieldCount + 1)
          const failure = this.#addField(trailers)
          if (failure !== undefined) return this.#fail(failure)
          continue
        }
        case 'length-body':
        case 'chunk-data':
        case 'close-body': {
          if (this.#pos === this.#buf.length && !this.#hasInput()) return this.#starved()
          const buf = this.#buf, pos = this.#pos
          let n = buf.length - pos
          if (this.#phase === 'close-body') {
            const room = this.limits.maxBodySize - this.#bodySize
            if (room === 0) return this.#fail('body-too-large')
            if (n > room) n = room
            this.#bodySize += n
          } else if (n >= this.#remaining) {
            n = this.#remaining
            this.#phase = this.#phase === 'length-body' ? 'message-end' : 'chunk-cr'
          }
          this.#remaining -= n
          this.#pos = pos + n
          return { type: 'body', data: buf.subarray(pos, pos + n) } satisfies BodyPart
        }
        case 'chunk-cr':
        case 'chunk-lf': {
          if (this.#pos === this.#buf.length && !this.#hasInput()) return this.#starved()
          const expected = this.#phase === 'chunk-cr' ? CR : LF
          if (this.#buf[this.#pos++] !== expected) return this.#fail('invalid-chunk-terminator')
          this.#phase = expected === CR ? 'chunk-lf' : 'chunk-size'
          continue
        }
        case 'chunk-size': {
          const budget = Math.max(0, this.limits.maxChunkExtensionsSize - this.#extensionsSize)
          const r = this.#readLine(MAX_CHUNK_SIZE_DIGITS + budget)
          if (r === NEED_INPUT) return this.#starved()
          const scan = this.#scan
          const reason = scanChunkLineOf(this.#line, this.#lineStart, this.#lineEnd, r === READY, this.#bareLf, budget, scan)
          if (reason !== undefined) return this.#fail(reason)
          this.#extensionsSize += this.#lineEnd - scan.extensionsStart
          const size = scan.chunkSize
          if (size === 0) {
            this.#phase = 'trailers'
            this.#startSection()
            continue
          }
          if (size > this.limits.maxBodySize - this.#bodySize) return this.#fail('body-too-large', this.#bodySize + size)
          this.#bodySize += size
          this.#remaining = size
          this.#phase = 'chunk-data'
          continue
        }
        case 'message-end': {
          const after = this.afterMessage()
          this.#phase = after === 'next' ? 'start-line' : after === 'pause' ? 'upgrade-pending' : 'upgraded'
          this.#emptyLines = 0
          return MESSAGE_END
        }
        case 'upgrade-pending':
        case 'upgraded':
        case 'finished':
        case 'failed':
        case 'detached':
          return undefined
      }
    }
  }

  /** Called when no byte is left: at the end of input, ends a close-delimited body or fails a partial message. */
  #starved(): Start | MessageEvent | undefined {
    if (!this.#ended) return undefined
    switch (this.#phase) {
      case 'start-line':
        if (this.#pendingLen === 0) {
          this.#release('finished')
          return undefined
        }
        return this.#fail('incomplete-message')
      case 'close-body':
        this.#phase = 'message-end'
        return this.next()
      default:
        return this.#fail('incomplete-message')
    }
  }

  /** True when an unread byte is available (moves to the next queued chunk when the current one is spent). */
  #hasInput(): boolean {
    while (this.#pos === this.#buf.length) {
      const next = this.#queue.shift()
      if (next === undefined) {
        // nothing refers to the last line or its text any more: let a connection that waits (an SSE
        // stream, an idle keep-alive) keep neither the chunk nor its decoded head
        this.#buf = EMPTY
        this.#pos = 0
        this.#line = EMPTY
        this.#textBuf = EMPTY
        this.#text = undefined
        return false
      }
      this.#buf = next
      this.#pos = 0
      this.#textBuf = EMPTY
    }
    return true
  }

  /**
   * Reads up to the next LF. READY: the line is `#line[#lineStart, #lineEnd)` without its CR (`#bareLf` when
   * there was none). OVERFLOW: the line is longer than `maxLength` (+ CR) and its first `maxLength + 2` bytes are
   * the prefix `#line[#lineStart, #lineEnd)` — a scanner is certain to find an error in it. NEED_INPUT: no LF yet.
   */
  #readLine(maxLength: number): number {
    for (;;) {
      if (!this.#hasInput()) return NEED_INPUT
      const buf = this.#buf, pos = this.#pos
      const lf = buf.indexOf(LF, pos)
      const stop = lf < 0 ? buf.length : lf
      if (this.#pendingLen + stop - pos > maxLength + 1) {
        if (this.#pendingLen === 0 && lf >= 0) {
          this.#pos = lf + 1
          return this.#setLine(buf, pos, lf)
        }
        const take = Math.min(stop - pos, maxLength + 2 - this.#pendingLen)
        this.#appendPending(buf, pos, pos + take)
        this.#pos = pos + take
        const len = this.#pendingLen
        this.#line = this.#pending
        this.#lineStart = 0
        this.#lineEnd = this.#pending[len - 1] === CR ? len - 1 : len
        return OVERFLOW
      }
      if (lf < 0) {
        this.#appendPending(buf, pos, buf.length)
        this.#pos = buf.length
        continue
      }
      this.#pos = lf + 1
      if (this.#pendingLen === 0) return this.#setLine(buf, pos, lf)
      this.#appendPending(buf, pos, lf)
      const len = this.#pendingLen
      this.#pendingLen = 0
      return this.#setLine(this.#pending, 0, len)
    }
  }

  #setLine(line: Buffer, start: number, lf: number): number {
    this.#line = line
    this.#lineStart = start
    this.#bareLf = !(lf > start && line[lf - 1] === CR)
    this.#lineEnd = this.#bareLf ? lf : lf - 1
    return READY
  }

  #appendPending(buf: Buffer, start: number, end: number): void {
    const need = this.#pendingLen + end - start
    if (need > this.#pending.length) {
      const grown = Buffer.allocUnsafe(Math.max(256, need, this.#pending.length * 2))
      this.#pending.copy(grown, 0, 0, this.#pendingLen)
      this.#pending = grown
    }
    buf.copy(this.#pending, this.#pendingLen, start, end)
    this.#pendingLen = need
  }

  /** The longest valid field line at this point of a header or trailer section. */
  #fieldAllowance(trailers: boolean): number {
    const section = trailers ? this.limits.maxTrailerSectionSize : this.limits.maxHeaderSectionSize
    return Math.min(this.limits.maxFieldLineSize, Math.max(0, section - this.#sectionSize - 2))
  }

  /** Scans the current field line (a prefix when `!complete`) against syntax, count and size limits. */
  #scanField(complete: boolean, trailers: boolean): ParseFailureReason | undefined {
    const limits = this.limits
    if (this.#fieldCount >= (trailers ? limits.maxTrailerCount : limits.maxHeaderCount)) return trailers ? 'too-many-trailers' : 'too-many-headers'
    const section = trailers ? limits.maxTrailerSectionSize : limits.maxHeaderSectionSize
    const sectionRoom = Math.max(0, section - this.#sectionSize - 2)
    const start = this.#lineStart, end = this.#lineEnd
    const limit = start + Math.min(limits.maxFieldLineSize, sectionRoom)
    let reason = scanFieldLine(this.#line, start, Math.min(end, limit), complete && end <= limit, this.#scan)
    if (reason === undefined && end > limit) {
      reason = limits.maxFieldLineSize <= sectionRoom ? 'header-too-large' : trailers ? 'trailers-too-large' : 'header-section-too-large'
    }
    if (reason === 'obs-fold' && !trailers && this.#fieldCount === 0) return 'whitespace-after-start-line'
    if (reason === undefined && !complete) return 'header-too-large' // unreachable: an overflowing prefix always fails
    return reason === undefined && this.#bareLf ? 'bare-lf' : reason
  }

  /** Records the current (valid) field line. */
  #addField(trailers: boolean): ParseFailureReason | undefined {
    const line = this.#line, scan = this.#scan
    const name = this.text(line, this.#lineStart, scan.nameEnd)
    const lower = name.toLowerCase()
    const value = this.text(line, scan.valueStart, scan.valueEnd)
    this.#headers.add(name, lower, value)
    this.#fieldCount++
    this.#sectionSize += this.#lineEnd - this.#lineStart + 2
    return trailers ? undefined : this.#fields.onField(lower, value, line, scan.valueStart, scan.valueEnd)
  }

  /** The header section ended: let the subclass decide the framing, check the body limit, start the body. */
  #completeHead(): Start | MessageEvent {
    const start = this.completeHead(this.#headers, this.#fields)
    if (typeof start === 'string') return this.#fail(start)
    this.#bodySize = 0
    this.#extensionsSize = 0
    switch (start.framing) {
      case 'none':
        this.#phase = 'message-end'
        break
      case 'length': {
        const length = start.contentLength as number
        if (length > this.limits.maxBodySize) return this.#fail('body-too-large', length)
        this.#remaining = length
        this.#phase = 'length-body'
        break
      }
      case 'chunked':
        this.#phase = 'chunk-size'
        break
      case 'close':
        this.#phase = 'close-body'
        break
    }
    return start
  }

  /** Starts a header or trailer section. */
  #startSection(): void {
    this.#headers = new HeaderList()
    this.#fieldCount = 0
    this.#sectionSize = 0
  }

  /** Ends the parser with a failure event (the only error it will ever emit). */
  #fail(reason: ParseFailureReason, actual?: number): ParseFailure {
    const limit = limitOf(reason, this.limits)
    const error = new HttpParseError(reason, this.side, limit === undefined ? undefined : { limit, actual: actualOf(reason, actual) })
    this.#release('failed')
    return { type: 'error', error }
  }

  #release(phase: 'failed' | 'finished' | 'detached'): void {
    this.#phase = phase
    this.#buf = EMPTY
    this.#pos = 0
    this.#queue = []
    this.#pending = EMPTY
    this.#pendingLen = 0
    this.#line = EMPTY
    this.#textBuf = EMPTY
    this.#text = undefined
  }
}

/** Scans a chunk-size line, adding the bare-LF rule (after the content, as for every line). */
function scanChunkLineOf(
  line: Buffer, start: number, end: number, complete: boolean, bareLf: boolean, budget: number, scan: LineScan,
): ParseFailureReason | undefined {
  const reason = scanChunkLine(line, start, end, complete, budget, scan)
  if (reason !== undefined) return reason
  if (!complete) return 'chunk-extensions-too-long' // unreachable: an overflowing prefix always fails
  return bareLf ? 'bare-lf' : undefined
}

/** The limit a failure reason refers to (the one place where reasons meet settings). */
function limitOf(reason: ParseFailureReason, limits: ParserLimits): number | undefined {
  switch (reason) {
    case 'method-too-long': return limits.maxMethodLength
    case 'uri-too-long': return limits.maxRequestTargetLength
    case 'reason-phrase-too-long': return limits.maxReasonPhraseLength
    case 'too-many-empty-lines': return limits.maxEmptyLinesBeforeRequest
    case 'too-many-headers': return limits.maxHeaderCount
    case 'header-too-large': return limits.maxFieldLineSize
    case 'header-section-too-large': return limits.maxHeaderSectionSize
    case 'too-many-trailers': return limits.maxTrailerCount
    case 'trailers-too-large': return limits.maxTrailerSectionSize
    case 'body-too-large': return limits.maxBodySize
    case 'chunk-extensions-too-long': return limits.maxChunkExtensionsSize
    default: return undefined
  }
}

/** The exact value that crossed a limit, for the limits where it is known whatever the input split. */
function actualOf(reason: ParseFailureReason, actual: number | undefined): number | undefined {
  return reason === 'too-many-empty-lines' || reason === 'too-many-headers' || reason === 'too-many-trailers' || reason === 'body-too-large'
    ? actual
    : undefined
}

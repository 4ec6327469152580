/**
 * What the HTTP/1.1 parsers emit: a closed union of events per message side.
 *
 * One message is `start`, then zero or more `body` parts, then `trailers` (chunked messages with trailer
 * fields only), then `end`. Messages follow one another on a connection (pipelining). A failure is the
 * event `error`, emitted at most once and always last: errors travel as data, and the parser is dead after.
 *
 * `body.data` is a view into the bytes given to the parser (no copy): it stays valid as long as the caller
 * does not overwrite the chunk it pushed.
 */
import type { HttpParseError } from '../errors.js'

/** The HTTP/1.x versions a message can carry (HTTP/1.2–1.9 are read as 1.1, RFC 9110 §2.5). */
export type HttpVersion = '1.0' | '1.1'

/**
 * How the body of a message is delimited (RFC 9112 §6.3):
 * `none` (no content), `length` (Content-Length bytes), `chunked`, or `close` (response read until the connection closes).
 */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close'

/**
 * The field lines of a header or trailer section, in the order received, names as sent.
 * Lookups (`get`, `getAll`, `has`) are case-insensitive and compare lower-case names.
 * The lines sit in one array, three slots each (name, lower-case name, value): a request's
 * headers live as long as its response, a whole SSE session, so one array rather than three.
 */
export class HeaderList implements Iterable<[name: string, value: string]> {
  readonly #fields: string[] = []

  /** Appends a field line; `lower` must be `name.toLowerCase()`. */
  add(name: string, lower: string, value: string): void {
    this.#fields.push(name, lower, value)
  }

  /** The number of field lines. */
  get size(): number {
    return this.#fields.length / 3
  }

  /** The name of the `i`-th field line, as sent. */
  name(i: number): string {
    return this.#fields[3 * i] ?? ''
  }

  /** The lower-case name of the `i`-th field line. */
  lowerName(i: number): string {
    return this.#fields[3 * i + 1] ?? ''
  }

  /** The value of the `i`-th field line (without surrounding whitespace, decoded as latin1). */
  value(i: number): string {
    return this.#fields[3 * i + 2] ?? ''
  }

  #indexOf(lower: string): number {
    const f = this.#fields
    for (let k = 1; k < f.length; k += 3) if (f[k] === lower) return k - 1
    return -1
  }

  /** The value of the first field line named `name` (any case), or `undefined`. */
  get(name: string): string | undefined {
    const k = this.#indexOf(name.toLowerCase())
    return k < 0 ? undefined : this.#fields[k + 2]
  }

  /** The values of every field line named `name` (any case), in order. */
  getAll(name: string): string[] {
    const lower = name.toLowerCase()
    const f = this.#fields
    const out: string[] = []
    for (let k = 1; k < f.length; k += 3) if (f[k] === lower) out.push(f[k + 1]!)
    return out
  }

  /** True when a field line named `name` (any case) is present. */
  has(name: string): boolean {
    return this.#indexOf(name.toLowerCase()) >= 0
  }

  /** The field lines as `[name, value]` pairs, names as sent, in order. */
  entries(): [name: string, value: string][] {
    const f = this.#fields
    const out: [string, string][] = []
    for (let k = 0; k < f.length; k += 3) out.push([f[k]!, f[k + 2]!])
    return out
  }

  [Symbol.iterator](): Iterator<[name: string, value: string]> {
    return this.entries()[Symbol.iterator]()
  }

  toJSON(): [name: string, value: string][] {
    return this.entries()
  }
}

/** What the start line and header section of any message say about it. */
interface MessageHead {
  readonly type: 'start'
  readonly version: HttpVersion
  /** The header section. */
  readonly headers: HeaderList
  /** How the body is delimited. */
  readonly framing: BodyFraming
  /** The Content-Length, when one was sent (for HEAD and 304 responses it describes the representation, not a body). */
  readonly contentLength: number | undefined
  /** True when the body uses the chunked transfer coding. */
  readonly chunked: boolean
  /** True when the connection persists after this message (version default, Connection tokens, framing). */
  readonly keepAlive: boolean
  /** The Upgrade field value when the message asks to switch protocols (HTTP/1.1 with `Connection: upgrade`). */
  readonly upgrade: string | undefined
}

/** The start of a request: request line and header section. */
export interface RequestStart extends MessageHead {
  readonly method: string
  readonly target: string
  /** True for an HTTP/1.1 request carrying `Expect: 100-continue` (RFC 9110 §10.1.1). */
  readonly expectContinue: boolean
}

/** The start of a response: status line and header section. */
export interface ResponseStart extends MessageHead {
  readonly status: number
  readonly reason: string
  /** The method of the request this response answers (it decides whether there is a body). */
  readonly requestMethod: string
}

/** A part of a message body (chunk boundaries are not preserved). */
export interface BodyPart {
  readonly type: 'body'
  readonly data: Uint8Array
}

/** The trailer section of a chunked message (emitted only when it has field lines). */
export interface TrailerSection {
  readonly type: 'trailers'
  readonly headers: HeaderList
}

/** The end of a message. */
export interface MessageEnd {
  readonly type: 'end'
}

/** The parser rejected the input; always the last event. */
export interface ParseFailure {
  readonly type: 'error'
  readonly error: HttpParseError
}

/** The events of a request parser. */
export type RequestEvent = RequestStart | BodyPart | TrailerSection | MessageEnd | ParseFailure
/** The events of a response parser. */
export type ResponseEvent = ResponseStart | BodyPart | TrailerSection | MessageEnd | ParseFailure
/** The events any parser emits after a message start. */
export type MessageEvent = BodyPart | TrailerSection | MessageEnd | ParseFailure

/** The one `end` event (it carries nothing, so it is shared). */
export const MESSAGE_END: MessageEnd = Object.freeze({ type: 'end' })

/**
 * An incremental, pure parser of the `text/event-stream` format (WHATWG HTML §9.2.6
 * "Interpreting an event stream"): bytes or text in, dispatched events out.
 *
 * Contract: chunks may split the stream anywhere — inside a UTF-8 sequence, between the CR and
 * LF of a CRLF, inside a field. A BOM at the very start is skipped. Lines end with CRLF, CR or LF.
 * A line is a comment (`:` first), a field `name:value` (one leading space of the value removed)
 * or a field name alone (empty value); unknown fields are ignored. `event` sets the type of the
 * next event, `data` appends the value and an LF, `id` sets the last event ID unless it contains
 * NUL, `retry` sets the reconnection time only when the value is all ASCII digits. A blank line
 * dispatches: the last event ID is committed (it persists across events), an empty data buffer
 * dispatches nothing, otherwise the data's final LF is removed and an event of the buffered type
 * (default `'message'`) is emitted. An unterminated event at the end of the stream is discarded.
 */

/** An event as a client dispatches it. */
export interface ParsedEvent {
  /** The event type (`'message'` when the stream named none). */
  readonly type: string
  readonly data: string
  /** The last event ID in force when this event was dispatched. */
  readonly lastEventId: string
}

const BOM = 0xfeff
const LF = 10
const CR = 13
const DIGITS = /^[0-9]+$/

export class SseParser {
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  /** The part of the current line seen so far. */
  #line = ''
  /** Nothing decoded yet: a leading BOM is still to be skipped. */
  #atStart = true
  /** The previous chunk ended with CR: an LF opening the next one belongs to it. */
  #afterCR = false
  #data = ''
  #type = ''
  #idBuffer = ''
  #lastEventId = ''
  #retry: number | undefined = undefined

  /**
   * With `lastEventId`, the stream starts with that last event ID (what a reconnecting client
   * carries over from its previous connection: an event without an `id` field keeps it).
   */
  constructor(options: { readonly lastEventId?: string } = {}) {
    const id = options.lastEventId ?? ''
    this.#idBuffer = id
    this.#lastEventId = id
  }

  /** The last event ID committed by a dispatch (what a reconnecting client sends as `Last-Event-ID`). */
  get lastEventId(): string {
    return this.#lastEventId
  }
  /**
   * Characters held for the event being received: its data so far and the unfinished line (a client
   * bounds this against a stream that never ends an event).
   */
  get pendingLength(): number {
    return this.#data.length + this.#line.length
  }
  /** The reconnection time the stream set last, in milliseconds, or undefined. */
  get reconnectionTime(): number | undefined {
    return this.#retry
  }

  /** Consumes a chunk; returns the events it completed, in order. */
  feed(chunk: Uint8Array | string): ParsedEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true })
    if (text.length === 0) return []
    if (this.#atStart) {
      this.#atStart = false
      if (text.charCodeAt(0) === BOM) text = text.slice(1)
    }
    const events: ParsedEvent[] = []
    let pos = 0
    if (this.#afterCR && text.charCodeAt(0) === LF) pos = 1
    this.#afterCR = false
    const n = text.length
    while (pos < n) {
      let end = pos
      while (end < n) {
        const c = text.charCodeAt(end)
        if (c === LF || c === CR) break
        end++
      }
      if (end === n) {
        this.#line += text.slice(pos)
        break
      }
      const line = this.#line.length === 0 ? text.slice(pos, end) : this.#line + text.slice(pos, end)
      this.#line = ''
      if (text.charCodeAt(end) === CR) {
        if (end + 1 === n) this.#afterCR = true
        else if (text.charCodeAt(end + 1) === LF) end++
      }
      pos = end + 1
      this.#processLine(line, events)
    }
    return events
  }

  #processLine(line: string, events: ParsedEvent[]): void {
    if (line.length === 0) return this.#dispatch(events)
    const colon = line.indexOf(':')
    if (colon === 0) return // comment
    let field: string
    let value: string
    if (colon < 0) {
      field = line
      value = ''
    } else {
      field = line.slice(0, colon)
      const start = line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1
      value = line.slice(start)
    }
    switch (field) {
      case 'event':
        this.#type = value
        return
      case 'data':
        this.#data += value + '\n'
        return
      case 'id':
        if (!value.includes('\0')) this.#idBuffer = value
        return
      case 'retry':
        if (DIGITS.test(value)) this.#retry = Number.parseInt(value, 10)
        return
      default:
        return // unknown fields are ignored
    }
  }

  #dispatch(events: ParsedEvent[]): void {
    this.#lastEventId = this.#idBuffer
    if (this.#data.length === 0) {
      this.#type = ''
      return
    }
    const data = this.#data.charCodeAt(this.#data.length - 1) === LF ? this.#data.slice(0, -1) : this.#data
    events.push({ type: this.#type.length === 0 ? 'message' : this.#type, data, lastEventId: this.#lastEventId })
    this.#data = ''
    this.#type = ''
  }
}

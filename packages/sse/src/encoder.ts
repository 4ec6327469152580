/**
 * Encoding to the `text/event-stream` format (WHATWG HTML §9.2.5).
 *
 * Contract: each frame becomes a block of lines ending with a blank line, so a client dispatches
 * exactly one event per `ServerSentEvent` (and none per comment). Line breaks (CRLF, CR, LF) in
 * `data` and comments are normalised to LF by splitting into one line per field. Fields are
 * written in the order `event`, `id`, `retry`, `data`; a value is preceded by one space, which the
 * client strips, so a leading space of the value survives. An event that cannot be encoded
 * faithfully throws {@link SseEncodingError}; the `encode()` flow fails with it.
 */
import { Flow } from '@weir/core'
import { isComment, SseEncodingError, type SseFrame } from './ServerSentEvent.js'

const LINE_BREAK = /\r\n|\r|\n/
const SINGLE_LINE = /[\r\n]/
const ID_FORBIDDEN = /[\r\n\0]/

/** The text of one frame, ending with a blank line. Throws {@link SseEncodingError}. */
export function encodeEvent(frame: SseFrame): string {
  if (isComment(frame)) return fieldLines(':', frame.comment) + '\n'
  let out = ''
  if (frame.event !== undefined) {
    if (SINGLE_LINE.test(frame.event)) throw new SseEncodingError('event', frame.event, 'a value without CR or LF')
    out += `event: ${frame.event}\n`
  }
  if (frame.id !== undefined) {
    if (ID_FORBIDDEN.test(frame.id)) throw new SseEncodingError('id', frame.id, 'a value without CR, LF or NUL')
    out += `id: ${frame.id}\n`
  }
  if (frame.retry !== undefined) {
    if (!Number.isSafeInteger(frame.retry) || frame.retry < 0) throw new SseEncodingError('retry', frame.retry, 'a non-negative integer of milliseconds')
    out += `retry: ${frame.retry}\n`
  }
  return out + fieldLines('data:', frame.data) + '\n'
}

function fieldLines(prefix: string, value: string): string {
  if (!SINGLE_LINE.test(value)) return `${prefix} ${value}\n`
  let out = ''
  for (const line of value.split(LINE_BREAK)) out += `${prefix} ${line}\n`
  return out
}

const utf8 = new TextEncoder()

/** The last frame encoded, with the field values it had then, and its bytes (one record, rewritten on each miss). */
const last: { frame: SseFrame | undefined; data: string | undefined; comment: string | undefined; event: unknown; id: unknown; retry: unknown; bytes: Uint8Array } = {
  frame: undefined,
  data: undefined,
  comment: undefined,
  event: undefined,
  id: undefined,
  retry: undefined,
  bytes: new Uint8Array(0),
}

const dataOf = (f: SseFrame): string | undefined => (isComment(f) ? undefined : f.data)
const commentOf = (f: SseFrame): string | undefined => (isComment(f) ? f.comment : undefined)
const fieldOf = (f: SseFrame, k: 'event' | 'id' | 'retry'): unknown => (isComment(f) ? undefined : f[k])

/**
 * The UTF-8 bytes of one frame. Throws {@link SseEncodingError}. The same frame object, with the
 * same field values, encoded again in a row (a broadcast: one frame to many subscribers) gives
 * the same bytes without encoding again; treat them as read-only.
 */
export function encodeEventBytes(frame: SseFrame): Uint8Array {
  const l = last
  // named reads, not `frame[key]`: this runs once per subscriber per broadcast, and a keyed read
  // with several keys at one site is a megamorphic load
  if (
    l.frame === frame &&
    (isComment(frame)
      ? l.comment === frame.comment && l.data === undefined && l.event === undefined && l.id === undefined && l.retry === undefined
      : l.comment === undefined && l.data === frame.data && l.event === frame.event && l.id === frame.id && l.retry === frame.retry)
  ) {
    return l.bytes
  }
  const bytes = utf8.encode(encodeEvent(frame))
  l.frame = frame
  l.data = dataOf(frame)
  l.comment = commentOf(frame)
  l.event = fieldOf(frame, 'event')
  l.id = fieldOf(frame, 'id')
  l.retry = fieldOf(frame, 'retry')
  l.bytes = bytes
  return bytes
}

/**
 * A flow that encodes each frame to its UTF-8 bytes.
 * - Emits when: a frame arrives
 * - Backpressures when: downstream backpressures
 * - Completes when: upstream completes
 * - Cancels when: downstream cancels; fails with {@link SseEncodingError} on a frame it cannot encode
 * @example `Source.single({ data: 'hi' }).via(encode())` emits the bytes of `data: hi\n\n`
 */
export function encode(): Flow<SseFrame, Uint8Array> {
  return Flow.create<SseFrame>().map(encodeEventBytes)
}

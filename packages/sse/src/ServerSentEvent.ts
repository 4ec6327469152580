/**
 * The model of an event stream (WHATWG HTML §9.2 "Server-sent events"): events, comments, and the
 * typed error raised when an event cannot be written without changing its meaning.
 *
 * Contract: an event's `data` may hold any text (line breaks become several `data:` lines); its
 * `event` and `id` are single-line (an `id` also without NUL, which a client would ignore);
 * `retry` is a non-negative integer of milliseconds. A comment is never dispatched by a client:
 * it keeps an idle connection alive (the heartbeat is the empty comment).
 */
import { WeirError } from '@weir/core'

/** One event: `data` is delivered to the client's listener for `event` (default `'message'`). */
export interface ServerSentEvent {
  readonly data: string
  /** The event type; the client dispatches to listeners of this type (default `'message'`). */
  readonly event?: string
  /** Becomes the client's last event ID, sent back as `Last-Event-ID` when it reconnects. */
  readonly id?: string
  /** The client's reconnection time, in milliseconds. */
  readonly retry?: number
}

/** A comment line (`: text`): ignored by clients, useful as a heartbeat. */
export interface SseComment {
  readonly comment: string
}

/** What an event stream carries: events and comments. */
export type SseFrame = ServerSentEvent | SseComment

/** A comment frame. */
export function sseComment(text: string): SseComment {
  return { comment: text }
}

/** The heartbeat: an empty comment, written as `: \n\n`. */
export const HEARTBEAT: SseComment = Object.freeze({ comment: '' })

/** Whether a frame is a comment. */
export function isComment(frame: SseFrame): frame is SseComment {
  return 'comment' in frame
}

/** The field of an event that makes it impossible to encode. */
export type SseEncodingField = 'event' | 'id' | 'retry'

/** An event cannot be encoded: a line break in `event`/`id`, NUL in `id`, or a bad `retry`. */
export class SseEncodingError extends WeirError {
  constructor(
    readonly field: SseEncodingField,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super('WEIR_SSE_ENCODING', `Cannot encode server-sent event: field '${field}' is ${JSON.stringify(value)}, expected ${expected}`)
  }
}

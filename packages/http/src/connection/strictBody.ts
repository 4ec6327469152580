/**
 * Both connection stages (server and client) hand a small body that arrived whole with its head to the handler or
 * caller as a strict entity instead of a sub-stream: no sub-stream to materialize, no per-chunk hop.
 */
import { concatBytes } from '../model/HttpEntity.js'
import type { MessageEvent, RequestStart, ResponseStart } from '../parsing/events.js'

/** Bodies at most this large that arrived with their head become strict entities. */
export const STRICT_BODY_LIMIT = 64 * 1024

/** A whole body found among parsed events: its bytes and the index of its `end` event. */
export interface StrictBody {
  readonly data: Uint8Array
  readonly endIndex: number
}

/**
 * The body starting at `events[from]` when it is complete there (its `end` event parsed) and at most
 * `STRICT_BODY_LIMIT` bytes; undefined when more is to come, it is larger, or trailers or an error follow.
 */
export function strictBodyOf(events: readonly (RequestStart | ResponseStart | MessageEvent)[], from: number): StrictBody | undefined {
  const parts: Uint8Array[] = []
  let total = 0
  for (let i = from; i < events.length; i++) {
    const ev = events[i]!
    if (ev.type === 'body') {
      total += ev.data.length
      if (total > STRICT_BODY_LIMIT) return undefined
      parts.push(ev.data)
    } else if (ev.type === 'end') return { data: concatBytes(parts, total), endIndex: i }
    else return undefined // trailers or an error: stream it
  }
  return undefined
}

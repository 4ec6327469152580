/**
 * Message bodies. An entity is either *strict* (all bytes in memory) or *streamed* (a `Source`
 * of byte chunks, with a known length or not). Streamed request entities are backpressured to
 * the socket: the connection reads the body only as fast as the handler consumes it.
 *
 * How an entity is framed on the wire is the renderer's business: strict and known-length
 * entities get `Content-Length`, streamed ones without a length are sent chunked (HTTP/1.1) or
 * close-delimited (HTTP/1.0).
 */
import { Sink, Source, WeirError, type Materializer } from '@weir/core'
import type { Headers } from './Headers.js'
import { shareChunk } from '../rendering/chunks.js'

export interface StrictEntity {
  readonly kind: 'strict'
  readonly contentType: string | undefined
  readonly data: Uint8Array
}

export interface StreamedEntity {
  readonly kind: 'streamed'
  readonly contentType: string | undefined
  /** Known length in bytes, or undefined (chunked / close-delimited). */
  readonly contentLength: number | undefined
  /** The body, as a source that can be materialized once (request bodies come from the socket). */
  readonly data: Source<Uint8Array, any>
  /** Trailer fields of a chunked message, once the body was read (empty otherwise). */
  readonly trailers?: Promise<Headers>
}

export type HttpEntity = StrictEntity | StreamedEntity

/** A body larger than a caller's limit (e.g. `toStrict`). */
export class EntityTooLargeError extends WeirError {
  constructor(
    readonly limit: number,
    readonly actual: number | undefined,
  ) {
    super('WEIR_HTTP_ENTITY_TOO_LARGE', `Entity larger than ${limit} bytes${actual === undefined ? '' : ` (${actual} bytes)`}`)
  }
}

const EMPTY_BYTES = new Uint8Array(0)
/**
 * UTF-8 bytes of a string. `Buffer.from` takes a small string's bytes from Node's shared pool;
 * `TextEncoder.encode` allocates a backing store of its own (a `malloc`, and a job for the
 * collector) every time, at three times the cost for a short body — which is every response of a
 * server answering small text or JSON.
 */
const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8')

export const HttpEntity = {
  empty: { kind: 'strict', contentType: undefined, data: EMPTY_BYTES } as StrictEntity,

  strict(data: Uint8Array, contentType?: string): StrictEntity {
    return { kind: 'strict', contentType, data }
  },
  text(text: string, contentType = 'text/plain; charset=utf-8'): StrictEntity {
    return { kind: 'strict', contentType, data: utf8(text) }
  },
  json(value: unknown, contentType = 'application/json'): StrictEntity {
    return { kind: 'strict', contentType, data: utf8(JSON.stringify(value)) }
  },
  streamed(data: Source<Uint8Array, any>, options: { contentType?: string; contentLength?: number; trailers?: Promise<Headers> } = {}): StreamedEntity {
    return { kind: 'streamed', contentType: options.contentType, contentLength: options.contentLength, data, trailers: options.trailers }
  },

  /** Known length in bytes, if any. */
  length(e: HttpEntity): number | undefined {
    return e.kind === 'strict' ? e.data.length : e.contentLength
  },

  /** Read the whole entity into memory, failing with EntityTooLargeError past `maxBytes`. */
  async toStrict(e: HttpEntity, maxBytes: number, materializer?: Materializer): Promise<StrictEntity> {
    if (e.kind === 'strict') {
      if (e.data.length > maxBytes) throw new EntityTooLargeError(maxBytes, e.data.length)
      return e
    }
    if (e.contentLength !== undefined && e.contentLength > maxBytes) {
      // consume nothing: cancelling the source lets the connection decide (drain or close)
      e.data.runWith(Sink.cancelled(), materializer)
      throw new EntityTooLargeError(maxBytes, e.contentLength)
    }
    let total = 0
    const chunks = await e.data
      .map((c) => {
        total += c.length
        if (total > maxBytes) throw new EntityTooLargeError(maxBytes, undefined)
        return c
      })
      .runWith(Sink.seq(), materializer)
    return { kind: 'strict', contentType: e.contentType, data: concatBytes(chunks, total) }
  },

  /**
   * Do not read the entity: a streamed one is cancelled (its source stops and runs its cleanup).
   * For a response nobody will see — e.g. one that arrived after its request timed out.
   */
  cancel(e: HttpEntity, materializer?: Materializer): void {
    if (e.kind === 'streamed') e.data.runWith(Sink.cancelled(), materializer)
  },

  /** Consume and drop the entity's bytes (e.g. a request body nobody needs). */
  discard(e: HttpEntity, materializer?: Materializer): Promise<void> {
    if (e.kind === 'strict') return Promise.resolve()
    return e.data.runWith(Sink.ignore(), materializer)
  },

  /**
   * Marks bytes that many streamed responses send unchanged (one SSE event broadcast to every
   * subscriber): a chunked response renders their chunk frame once, and every other response that
   * sends the very same bytes reuses it, instead of framing them again. The bytes must not change
   * afterwards. Returns `data`.
   * @example `const bytes = HttpEntity.sharedChunk(encoder.encode('data: tick\\n\\n'))`
   */
  sharedChunk(data: Uint8Array): Uint8Array {
    return shareChunk(data)
  },

  /** The entity's bytes as a source (a strict entity as one chunk). */
  dataBytes(e: HttpEntity): Source<Uint8Array, any> {
    return e.kind === 'strict' ? (e.data.length === 0 ? Source.empty() : Source.single(e.data)) : e.data
  },
}

export function concatBytes(chunks: readonly Uint8Array[], total = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

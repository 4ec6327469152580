/**
 * Framing: flows that cut an unstructured byte stream (TCP reads, file chunks) into frames.
 *
 * Shared contract of the framing flows:
 * - Input chunks are `Uint8Array`s (Node `Buffer`s included); any chunking yields the same
 *   frames, the same failure, in the same order.
 * - A frame that lies inside one chunk is emitted as a `subarray` view of it (no copy); a frame
 *   spanning chunks is copied once, into an array of exactly its size (a `Buffer` if the input is).
 * - Every frame is bounded by a maximum length; a longer one fails the stream with
 *   {@link FramingError} (`reason: 'frame-too-large'`) as soon as that is certain, so memory stays
 *   bounded. A stream that ends inside a frame fails with `reason: 'truncated'` (unless
 *   `allowTruncation`). The error's `offset` tells where in the stream the frame starts.
 * - Frames are parsed on demand, one per pull: upstream is pulled only when no complete frame is
 *   queued; downstream cancellation cancels upstream.
 */
import { InvalidArgumentError } from '../errors.js'
import { Flow } from '../Flow.js'
import type { NotUsed } from '../stage/GraphStage.js'
import { DelimiterFramingStage } from './delimiter.js'
import { LengthFieldFramingStage, type ByteOrder, type FrameSizeFunction } from './lengthField.js'

export type { ByteOrder, FrameSizeFunction } from './lengthField.js'

/** Options of {@link Framing.delimiter}. */
export interface DelimiterFramingOptions {
  /** Emit the bytes after the last delimiter as a last frame instead of failing (default false). */
  readonly allowTruncation?: boolean
}

/** Options of {@link Framing.lengthField}. */
export interface LengthFieldFramingOptions {
  /** Bytes before the length field in the header (default 0). */
  readonly fieldOffset?: number
  /** The length field's byte order (default `'big'`, network order). */
  readonly byteOrder?: ByteOrder
  /**
   * The frame's total size, header included, from the header bytes (`fieldOffset + fieldLength`
   * of them; valid during the call only) and the decoded field; default `header length + field`.
   */
  readonly computeFrameSize?: FrameSizeFunction
}

const encoder = new TextEncoder()

function maxLength(value: number, what: string, atLeast: number): number {
  if (!Number.isSafeInteger(value) || value < atLeast) throw new InvalidArgumentError(what, value, `an integer ≥ ${atLeast} (bytes)`)
  return value
}

export const Framing = {
  /**
   * Cut the byte stream at each occurrence of `delimiter` (bytes, or a string taken as UTF-8);
   * frames exclude the delimiter, consecutive delimiters give empty frames.
   * - Emits when: a frame is complete and downstream pulls
   * - Backpressures when: downstream backpressures (upstream is pulled only when no complete frame is queued)
   * - Completes when: upstream completes and every frame was emitted (the bytes after the last
   *   delimiter form a last frame with `allowTruncation`); fails with `FramingError` on a frame longer
   *   than `maximumFrameLength`, or when upstream completes inside a frame without `allowTruncation`
   * - Cancels when: downstream cancels, or the stage fails
   * @example
   * ```ts
   * const lines = await Source.from([Buffer.from('GET / HTTP/1.1\r\nHo'), Buffer.from('st: a\r\n')])
   *   .via(Framing.delimiter('\r\n', 8192)).map((b) => b.toString()).runWith(Sink.seq()) // ['GET / HTTP/1.1', 'Host: a']
   * ```
   */
  delimiter(delimiter: Uint8Array | string, maximumFrameLength: number, options: DelimiterFramingOptions = {}): Flow<Uint8Array, Uint8Array, NotUsed> {
    const bytes = typeof delimiter === 'string' ? encoder.encode(delimiter) : delimiter
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      throw new InvalidArgumentError('Framing.delimiter delimiter', delimiter, 'a non-empty Uint8Array or string')
    }
    const max = maxLength(maximumFrameLength, 'Framing.delimiter maximumFrameLength', 0)
    // copied: the stage must not see later changes to the caller's array
    return Flow.fromGraph(new DelimiterFramingStage(Uint8Array.from(bytes), max, options.allowTruncation === true))
  },

  /**
   * Cut the byte stream into frames that announce their length in a header field of
   * `fieldLength` bytes (unsigned) at `fieldOffset`; frames are emitted whole, header included.
   * - Emits when: a frame is complete and downstream pulls
   * - Backpressures when: downstream backpressures (upstream is pulled only when no complete frame is queued)
   * - Completes when: upstream completes and every frame was emitted; fails with `FramingError` when a
   *   header announces more than `maximumFrameLength` bytes (header included), when `computeFrameSize`
   *   returns less than the header, or when upstream completes inside a frame
   * - Cancels when: downstream cancels, or the stage fails
   * @example
   * ```ts
   * // frames of a 2-byte big-endian length followed by that many bytes
   * const frames = await Source.single(Uint8Array.of(0, 2, 104, 105, 0, 1, 33)).via(Framing.lengthField(2, 1024)).runWith(Sink.seq())
   * // [Uint8Array [0, 2, 104, 105], Uint8Array [0, 1, 33]]
   * ```
   */
  lengthField(fieldLength: 1 | 2 | 3 | 4, maximumFrameLength: number, options: LengthFieldFramingOptions = {}): Flow<Uint8Array, Uint8Array, NotUsed> {
    if (fieldLength !== 1 && fieldLength !== 2 && fieldLength !== 3 && fieldLength !== 4) {
      throw new InvalidArgumentError('Framing.lengthField fieldLength', fieldLength, '1, 2, 3 or 4 (bytes)')
    }
    const fieldOffset = options.fieldOffset ?? 0
    if (!Number.isSafeInteger(fieldOffset) || fieldOffset < 0) {
      throw new InvalidArgumentError('Framing.lengthField fieldOffset', fieldOffset, 'an integer ≥ 0 (bytes)')
    }
    const byteOrder = options.byteOrder ?? 'big'
    if (byteOrder !== 'big' && byteOrder !== 'little') throw new InvalidArgumentError('Framing.lengthField byteOrder', byteOrder, "'big' or 'little'")
    const compute = options.computeFrameSize
    if (compute !== undefined && typeof compute !== 'function') {
      throw new InvalidArgumentError('Framing.lengthField computeFrameSize', compute, 'a function (header, length) => frame size')
    }
    const max = maxLength(maximumFrameLength, 'Framing.lengthField maximumFrameLength', fieldOffset + fieldLength)
    return Flow.fromGraph(new LengthFieldFramingStage(fieldLength, fieldOffset, max, byteOrder, compute))
  },
} as const

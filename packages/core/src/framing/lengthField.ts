/**
 * Length-field framing: cut a byte stream into frames whose header carries their length.
 *
 * Contract: a frame starts with a header of `fieldOffset + fieldLength` bytes; the length field
 * (1 to 4 bytes, unsigned, big- or little-endian) sits at `fieldOffset`. The frame's total size —
 * header included — is `header length + field value`, or what `computeFrameSize(header, value)`
 * returns. Frames are emitted whole, header included. A size above `maximumFrameLength` fails the
 * stream with `FramingError('frame-too-large')` as soon as the header is read (before the body
 * arrives); a computed size that is not an integer at least as long as the header fails it with
 * `FramingError('invalid')`; a stream that ends inside a frame fails with
 * `FramingError('truncated')`. Frames are parsed one per downstream pull, so the elements emitted
 * before a failure are the same however the input was chunked.
 */
import { FramingError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import { LinearStage } from '../stage/linear.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { FramingLogic } from './FramingLogic.js'

export type ByteOrder = 'big' | 'little'

/** Computes a frame's total size (header included) from its header bytes and the decoded length field. */
export type FrameSizeFunction = (header: Uint8Array, length: number) => number

/** The unsigned value of `length` bytes at `at` in `bytes`. */
export function readLength(bytes: Uint8Array, at: number, length: number, order: ByteOrder): number {
  let v = 0
  if (order === 'big') for (let i = 0; i < length; i++) v = v * 256 + bytes[at + i]!
  else for (let i = length - 1; i >= 0; i--) v = v * 256 + bytes[at + i]!
  return v
}

class LengthFieldFramingLogic extends FramingLogic {
  readonly stage: LengthFieldFramingStage
  /** The current frame's total size once its header was read; -1 before. */
  #frameSize = -1

  constructor(shape: FlowShape<Uint8Array, Uint8Array>, stage: LengthFieldFramingStage) {
    super(shape)
    this.stage = stage
  }

  protected parse(): void {
    const q = this.queue
    const s = this.stage
    if (this.#frameSize < 0 && q.size >= s.headerLength) {
      const header = q.peek(s.headerLength)
      const length = readLength(header, s.fieldOffset, s.fieldLength, s.byteOrder)
      const size = s.computeFrameSize === undefined ? s.headerLength + length : s.computeFrameSize(header, length)
      if (!Number.isSafeInteger(size) || size < s.headerLength) {
        return this.failStage(new FramingError('invalid', s.maximumFrameLength, size, q.offset, `frame size must be an integer ≥ the header length (${s.headerLength} bytes)`))
      }
      if (size > s.maximumFrameLength) return this.failStage(new FramingError('frame-too-large', s.maximumFrameLength, size, q.offset))
      this.#frameSize = size
    }
    if (this.#frameSize >= 0 && q.size >= this.#frameSize) {
      const frame = q.take(this.#frameSize)
      this.#frameSize = -1
      this.push(this.out, frame)
      if (q.size === 0 && this.isClosed(this.in)) this.completeStage()
      return
    }
    if (!this.isClosed(this.in)) {
      if (!this.hasBeenPulled(this.in)) this.pull(this.in)
    } else if (q.size === 0) this.completeStage()
    else this.failStage(new FramingError('truncated', s.maximumFrameLength, q.size, q.offset))
  }
}

export class LengthFieldFramingStage extends LinearStage<Uint8Array, Uint8Array> {
  readonly headerLength: number
  constructor(
    readonly fieldLength: number,
    readonly fieldOffset: number,
    readonly maximumFrameLength: number,
    readonly byteOrder: ByteOrder,
    readonly computeFrameSize: FrameSizeFunction | undefined,
  ) {
    super('Framing.lengthField')
    this.headerLength = fieldOffset + fieldLength
  }
  createLogic(_attributes: Attributes): GraphStageLogic {
    return new LengthFieldFramingLogic(this.shape, this)
  }
}

/**
 * Delimiter framing: cut a byte stream into the frames between occurrences of a delimiter.
 *
 * Contract: the delimiter (≥ 1 byte) is found left to right without overlap, across chunk
 * boundaries (a Knuth–Morris–Pratt matcher whose state survives from one chunk to the next, with
 * a native `indexOf` jump to the delimiter's first byte); frames exclude it. Consecutive
 * delimiters give empty frames; a delimiter at the very end gives no trailing empty frame. A frame
 * longer than `maximumFrameLength` fails the stream with `FramingError('frame-too-large')` as soon
 * as that is certain — before its end arrives. When the stream ends inside a frame, the rest is
 * emitted as a last frame if `allowTruncation`, else the stream fails with
 * `FramingError('truncated')`. Frames are parsed one per downstream pull (upstream is pulled only
 * when no complete frame is queued), so the elements emitted before a failure are the same however
 * the input was chunked.
 */
import { FramingError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import { LinearStage } from '../stage/linear.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { FramingLogic } from './FramingLogic.js'

/** The KMP failure function: `fail[i]` = length of the longest proper border of `d[0..i]`. */
function failureTable(d: Uint8Array): Int32Array {
  const fail = new Int32Array(d.length)
  let k = 0
  for (let i = 1; i < d.length; i++) {
    while (k > 0 && d[i] !== d[k]) k = fail[k - 1]!
    if (d[i] === d[k]) k++
    fail[i] = k
  }
  return fail
}

class DelimiterFramingLogic extends FramingLogic {
  readonly delimiter: Uint8Array
  readonly failure: Int32Array
  readonly max: number
  readonly allowTruncation: boolean
  /** Queued bytes already searched (from the queue's front); the rest lie in its last chunk. */
  #scanned = 0
  /** Delimiter bytes matched at the end of the searched bytes. */
  #matched = 0

  constructor(shape: FlowShape<Uint8Array, Uint8Array>, stage: DelimiterFramingStage) {
    super(shape)
    this.delimiter = stage.delimiter
    this.failure = stage.failure
    this.max = stage.maximumFrameLength
    this.allowTruncation = stage.allowTruncation
  }

  /** Emit the next frame if one is complete; otherwise ask for more bytes (or end the stream). */
  protected parse(): void {
    const q = this.queue
    const dlen = this.delimiter.length
    if (this.#scanned < q.size) {
      const chunk = q.last!
      const from = chunk.length - (q.size - this.#scanned)
      const end = this.#search(chunk, from)
      if (end >= 0) {
        const frameLength = this.#scanned + (end - from) - dlen
        if (frameLength > this.max) return this.#tooLarge(frameLength)
        this.#scanned = 0
        const frame = q.take(frameLength)
        q.skip(dlen)
        this.push(this.out, frame)
        if (q.size === 0 && this.isClosed(this.in)) this.completeStage()
        return
      }
      this.#scanned = q.size
      // the matched tail may still turn out to be the delimiter; everything before it is frame
      if (q.size - this.#matched > this.max) return this.#tooLarge(q.size - this.#matched)
    }
    if (!this.isClosed(this.in)) {
      if (!this.hasBeenPulled(this.in)) this.pull(this.in)
    } else if (q.size === 0) this.completeStage()
    else if (!this.allowTruncation) this.failStage(new FramingError('truncated', this.max, q.size, q.offset))
    else if (q.size > this.max) this.#tooLarge(q.size)
    else {
      this.push(this.out, q.take(q.size))
      this.completeStage()
    }
  }

  /** Search `chunk` from `from` on; the index just past the delimiter's end, or -1 (the match state is kept). */
  #search(chunk: Uint8Array, from: number): number {
    const d = this.delimiter
    const dlen = d.length
    const first = d[0]!
    const fail = this.failure
    let m = this.#matched
    let i = from
    const n = chunk.length
    while (i < n) {
      if (m === 0) {
        const j = chunk.indexOf(first, i)
        if (j < 0) break
        i = j + 1
        m = 1
      } else {
        const b = chunk[i++]
        while (m > 0 && b !== d[m]) m = fail[m - 1]!
        if (b === d[m]) m++
      }
      if (m === dlen) {
        this.#matched = 0
        return i
      }
    }
    this.#matched = m
    return -1
  }

  #tooLarge(actual: number): void {
    this.failStage(new FramingError('frame-too-large', this.max, actual, this.queue.offset))
  }
}

export class DelimiterFramingStage extends LinearStage<Uint8Array, Uint8Array> {
  readonly failure: Int32Array
  constructor(
    readonly delimiter: Uint8Array,
    readonly maximumFrameLength: number,
    readonly allowTruncation: boolean,
  ) {
    super('Framing.delimiter')
    this.failure = failureTable(delimiter)
  }
  createLogic(_attributes: Attributes): GraphStageLogic {
    return new DelimiterFramingLogic(this.shape, this)
  }
}

/**
 * JsonFraming: cut a byte stream of JSON objects into one frame per top-level object.
 *
 * Contract: the input is a sequence of JSON objects, optionally inside one top-level array:
 * between objects, whitespace (space, tab, CR, LF), commas and square brackets are skipped; any
 * other byte there fails the stream with `FramingError('invalid')` (its `actual` is the byte,
 * its `offset` the byte's stream offset). An object ends at the `}` that balances its first `{`;
 * braces inside strings (with `\"` and `\\` escapes) do not count. The scanner finds boundaries
 * only — it does not validate the JSON inside an object. Each frame is the object's exact bytes
 * (UTF-8 passes through untouched). An object longer than `maximumObjectLength` fails with
 * `FramingError('frame-too-large')` as soon as that is certain; a stream that ends inside an object
 * fails with `FramingError('truncated')`. Frames are parsed one per downstream pull; the output is
 * the same however the input was chunked.
 */
import { FramingError, InvalidArgumentError } from '../errors.js'
import { Flow } from '../Flow.js'
import type { Attributes } from '../stage/Attributes.js'
import type { NotUsed } from '../stage/GraphStage.js'
import { LinearStage } from '../stage/linear.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { FramingLogic } from './FramingLogic.js'

const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d

class JsonObjectScannerLogic extends FramingLogic {
  readonly max: number
  /** Queued bytes already scanned (the current object's, from the queue's front). */
  #scanned = 0
  /** Nesting of `{` in the current object; 0 between objects. */
  #depth = 0
  #inString = false
  #escaped = false

  constructor(shape: FlowShape<Uint8Array, Uint8Array>, max: number) {
    super(shape)
    this.max = max
  }

  override onUpstreamFinish(): void {
    if (this.isAvailable(this.out)) this.parse()
    else if (this.#depth === 0 && this.#scanned === 0) this.#dropTrailing() // completes unless an object is queued
  }

  protected parse(): void {
    const q = this.queue
    while (this.#scanned < q.size) {
      const chunk = q.last!
      const from = chunk.length - (q.size - this.#scanned)
      if (this.#depth === 0) {
        const start = this.#skipBetween(chunk, from)
        if (start < 0) return // failed
        q.skip(start - from)
        if (start === chunk.length) break
        // the queue's front is the object's `{`
      }
      const begin = chunk.length - (q.size - this.#scanned)
      const end = this.#scanObject(chunk, begin)
      if (end >= 0) {
        const length = this.#scanned + (end - begin)
        if (length > this.max) return this.#tooLarge(length)
        this.#scanned = 0
        this.push(this.out, q.take(length))
        if (this.isClosed(this.in)) this.#dropTrailing()
        return
      }
      this.#scanned = q.size
      if (q.size > this.max) return this.#tooLarge(q.size)
    }
    if (!this.isClosed(this.in)) {
      if (!this.hasBeenPulled(this.in)) this.pull(this.in)
    } else if (q.size === 0) this.completeStage()
    else this.failStage(new FramingError('truncated', this.max, q.size, q.offset))
  }

  /** After the last chunk: complete now if only separators remain (nothing more can be emitted). */
  #dropTrailing(): void {
    const q = this.queue
    if (q.size === 0) return this.completeStage()
    const chunk = q.last!
    const from = chunk.length - q.size
    for (let i = from; i < chunk.length; i++) if (!isSeparator(chunk[i]!)) return
    q.skip(q.size)
    this.completeStage()
  }

  /** Skip separators from `from`; the index of the next `{` (or the chunk's end), -1 after failing. */
  #skipBetween(chunk: Uint8Array, from: number): number {
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i]!
      if (b === OPEN_BRACE) return i
      if (!isSeparator(b)) {
        this.failStage(new FramingError('invalid', this.max, b, this.queue.offset + (i - from), 'expected a JSON object'))
        return -1
      }
    }
    return chunk.length
  }

  /** Scan object bytes from `from`; the index just past the closing `}`, or -1 (the state is kept). */
  #scanObject(chunk: Uint8Array, from: number): number {
    let depth = this.#depth
    let inString = this.#inString
    let escaped = this.#escaped
    const n = chunk.length
    for (let i = from; i < n; i++) {
      const b = chunk[i]!
      if (inString) {
        if (escaped) escaped = false
        else if (b === BACKSLASH) escaped = true
        else if (b === QUOTE) inString = false
      } else if (b === QUOTE) inString = true
      else if (b === OPEN_BRACE) depth++
      else if (b === CLOSE_BRACE && --depth === 0) {
        this.#depth = 0
        this.#inString = false
        this.#escaped = false
        return i + 1
      }
    }
    this.#depth = depth
    this.#inString = inString
    this.#escaped = escaped
    return -1
  }

  #tooLarge(actual: number): void {
    this.failStage(new FramingError('frame-too-large', this.max, actual, this.queue.offset))
  }
}

function isSeparator(b: number): boolean {
  return b === SPACE || b === LF || b === CR || b === TAB || b === COMMA || b === OPEN_BRACKET || b === CLOSE_BRACKET
}

class JsonObjectScannerStage extends LinearStage<Uint8Array, Uint8Array> {
  constructor(readonly maximumObjectLength: number) {
    super('JsonFraming.objectScanner')
  }
  createLogic(_attributes: Attributes): GraphStageLogic {
    return new JsonObjectScannerLogic(this.shape, this.maximumObjectLength)
  }
}

export const JsonFraming = {
  /**
   * Cut a stream of JSON objects — one after another, or the elements of one top-level array —
   * into one frame per object, its exact bytes (see the file header for what is accepted).
   * - Emits when: an object is complete and downstream pulls
   * - Backpressures when: downstream backpressures (upstream is pulled only when no complete object is queued)
   * - Completes when: upstream completes and every object was emitted; fails with `FramingError`
   *   on an object longer than `maximumObjectLength`, on a byte outside any object that is not a
   *   separator, and when upstream completes inside an object
   * - Cancels when: downstream cancels, or the stage fails
   * @example
   * ```ts
   * const objects = await Source.single(new TextEncoder().encode('[{"a":1}, {"b":"}"}]'))
   *   .via(JsonFraming.objectScanner(1024)).map((b) => JSON.parse(new TextDecoder().decode(b))).runWith(Sink.seq()) // [{ a: 1 }, { b: '}' }]
   * ```
   */
  objectScanner(maximumObjectLength: number): Flow<Uint8Array, Uint8Array, NotUsed> {
    if (!Number.isSafeInteger(maximumObjectLength) || maximumObjectLength < 2) {
      throw new InvalidArgumentError('JsonFraming.objectScanner maximumObjectLength', maximumObjectLength, 'an integer ≥ 2 (bytes)')
    }
    return Flow.fromGraph(new JsonObjectScannerStage(maximumObjectLength))
  },
} as const

/**
 * Errors of `@weir/core`.
 *
 * Every error weir raises is a {@link WeirError} with a stable `code` (`WEIR_<PKG>_<NAME>`) and
 * structured fields (timeouts in ms, limits, port names). `instanceof` works across two installed
 * copies of a weir package: it compares the class lineage recorded on the instance, not the
 * constructor identity. Tests should assert `code` and fields, never message wording.
 */

const LINEAGE = Symbol.for('weir.error.lineage')

const lineages = new WeakMap<object, readonly string[]>()

/** The class names from `ctor` up to WeirError, computed once per class. */
function lineageOf(ctor: abstract new (...args: any[]) => unknown): readonly string[] {
  let names = lineages.get(ctor)
  if (names === undefined) {
    const found: string[] = []
    for (let c: any = ctor; c && c !== Error && c !== Function.prototype; c = Object.getPrototypeOf(c)) found.push(c.name)
    names = found
    lineages.set(ctor, names)
  }
  return names
}

/** The base of every error weir raises. */
export class WeirError extends Error {
  /** A stable machine-readable code, e.g. `WEIR_CORE_IDLE_TIMEOUT`. */
  readonly code: string
  declare readonly [LINEAGE]: readonly string[]

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
    Object.defineProperty(this, LINEAGE, { value: lineageOf(new.target), enumerable: false })
  }

  static override [Symbol.hasInstance](this: abstract new (...args: any[]) => unknown, x: unknown): boolean {
    if (typeof x !== 'object' || x === null) return false
    const lineage = (x as { [LINEAGE]?: readonly string[] })[LINEAGE]
    if (lineage === undefined) return Function.prototype[Symbol.hasInstance].call(this, x)
    return lineage.includes(this.name)
  }
}

/** A stage was used against the port protocol (push without pull, pull twice, grab of an empty port…). */
export class StageProtocolError extends WeirError {
  constructor(readonly port: string, readonly operation: string, readonly state: string) {
    super('WEIR_CORE_PROTOCOL', `Cannot ${operation} port (${port}): ${state}`)
  }
}

/** The stream was torn down (materializer shut down, island stopped) before a materialized value settled. */
export class AbruptTerminationError extends WeirError {
  constructor(readonly stage: string) {
    super('WEIR_CORE_ABRUPT_TERMINATION', `Stage ${stage} stopped before its materialized value was settled`)
  }
}

/** The family of timeouts raised by the timer operators. */
export class StreamTimeoutError extends WeirError {
  constructor(code: string, message: string, readonly timeoutMs: number) {
    super(code, message)
  }
}

/** No element passed through the stream within `timeoutMs`. */
export class IdleTimeoutError extends StreamTimeoutError {
  constructor(timeoutMs: number) {
    super('WEIR_CORE_IDLE_TIMEOUT', `No elements passed in the last ${timeoutMs} ms`, timeoutMs)
  }
}

/** The first element did not arrive within `timeoutMs`. */
export class InitialTimeoutError extends StreamTimeoutError {
  constructor(timeoutMs: number) {
    super('WEIR_CORE_INITIAL_TIMEOUT', `The first element has not yet passed through in ${timeoutMs} ms`, timeoutMs)
  }
}

/** The stream did not complete within `timeoutMs`. */
export class CompletionTimeoutError extends StreamTimeoutError {
  constructor(timeoutMs: number) {
    super('WEIR_CORE_COMPLETION_TIMEOUT', `The stream has not been completed in ${timeoutMs} ms`, timeoutMs)
  }
}

/** An element was not consumed (downstream did not pull) within `timeoutMs`. */
export class BackpressureTimeoutError extends StreamTimeoutError {
  constructor(timeoutMs: number) {
    super('WEIR_CORE_BACKPRESSURE_TIMEOUT', `No demand signalled in the last ${timeoutMs} ms`, timeoutMs)
  }
}

/** A buffer with the `fail` overflow strategy overflowed. */
export class BufferOverflowError extends WeirError {
  constructor(readonly limit: number) {
    super('WEIR_CORE_BUFFER_OVERFLOW', `Buffer overflow (max capacity was: ${limit} elements)`)
  }
}

/** A `throttle` in enforcing mode received elements faster than `elements` per `perMs` (with `maximumBurst`) allows. */
export class RateExceededError extends WeirError {
  constructor(readonly elements: number, readonly perMs: number, readonly maximumBurst: number) {
    super('WEIR_CORE_RATE_EXCEEDED', `Maximum throttle throughput exceeded: more than ${elements} per ${perMs} ms (burst ${maximumBurst})`)
  }
}

/** A `Sink.head`, `Sink.last` or `Sink.reduce` saw no element. */
export class EmptyStreamError extends WeirError {
  constructor(readonly operator: string) {
    super('WEIR_CORE_EMPTY_STREAM', `${operator} received no element`)
  }
}

/** A sub-stream port (`SubSourceOutlet.source`, `SubSinkInlet.sink`) was materialized more than once or too late. */
export class SubstreamMaterializationError extends WeirError {
  constructor(readonly port: string, reason: string) {
    super('WEIR_CORE_SUBSTREAM', `Sub-stream ${port}: ${reason}`)
  }
}

/**
 * A queue handle got more unsettled calls than it allows: `offer` on `Source.queueBackpressured`
 * beyond `maxConcurrentOffers`, or `pull` on `Sink.queue` beyond `maxConcurrentPulls`.
 */
export class QueueConcurrencyError extends WeirError {
  constructor(readonly operation: 'offer' | 'pull', readonly limit: number) {
    super('WEIR_CORE_QUEUE_CONCURRENCY', `Too many concurrent ${operation} calls: at most ${limit} may be unsettled at a time`)
  }
}

/**
 * A `PartitionHub` partitioner chose a consumer that is not attached: an index outside
 * `0 … consumers - 1` (`by: 'index'`, `PartitionHub.sink`) or an unknown id (`by: 'id'`, `statefulSink`).
 */
export class InvalidPartitionError extends WeirError {
  constructor(readonly chosen: number, readonly consumers: number, readonly by: 'index' | 'id') {
    super('WEIR_CORE_HUB_PARTITION', `The partitioner chose consumer ${by} ${chosen}, which is not one of the ${consumers} attached consumer(s)`)
  }
}

/** A `groupBy` met a new key while `limit` (its `maxSubstreams`) sub-streams were already open. */
export class TooManySubstreamsError extends WeirError {
  constructor(readonly limit: number) {
    super('WEIR_CORE_TOO_MANY_SUBSTREAMS', `Cannot open another sub-stream: ${limit} are already open (maxSubstreams)`)
  }
}

/** A stream was stopped by a kill switch's `abort`, or a materializer shut down. */
export class StreamDetachedError extends WeirError {
  constructor(message = 'Stream was detached (materializer shut down)') {
    super('WEIR_CORE_DETACHED', message)
  }
}

/** An argument or setting is out of range; names the setting and the value. */
export class InvalidArgumentError extends WeirError {
  constructor(readonly argument: string, readonly value: unknown, expected: string) {
    super('WEIR_CORE_INVALID_ARGUMENT', `${argument} must be ${expected}, got ${String(value)}`)
  }
}

/** Why a framing stage failed (see {@link FramingError}). */
export type FramingFailure = 'frame-too-large' | 'truncated' | 'invalid'

/**
 * A framing stage (`Framing.delimiter`, `Framing.lengthField`, `JsonFraming.objectScanner`) met
 * bytes it cannot cut into frames. `limit` is the maximum frame length in bytes; `offset` is the
 * stream offset (in bytes) of the offending frame, or of the offending byte for `invalid` — the
 * same however the input was chunked. `actual` depends on `reason`:
 * - `frame-too-large`: the frame's length, or (when no end was seen yet) the bytes of it read when
 *   the limit was found exceeded — always more than `limit`;
 * - `truncated`: the bytes of the incomplete last frame when the stream ended;
 * - `invalid`: the offending value (a byte outside any JSON object, or a computed frame size).
 */
export class FramingError extends WeirError {
  constructor(
    readonly reason: FramingFailure,
    readonly limit: number,
    readonly actual: number,
    readonly offset: number,
    detail = '',
  ) {
    super('WEIR_CORE_FRAMING', framingMessage(reason, limit, actual, offset) + (detail === '' ? '' : `: ${detail}`))
  }
}

function framingMessage(reason: FramingFailure, limit: number, actual: number, offset: number): string {
  switch (reason) {
    case 'frame-too-large':
      return `Frame at byte ${offset} is longer than the limit of ${limit} bytes (${actual} bytes read)`
    case 'truncated':
      return `Stream ended inside a frame: ${actual} bytes at byte ${offset} do not form a complete frame`
    case 'invalid':
      return `Invalid framing input at byte ${offset} (value ${actual})`
  }
}

/**
 * A cancellation that is not a failure: downstream simply needs no more elements.
 * Cancelling with such a cause completes upstream stages normally (their materialized
 * completion values succeed); any other cause is treated as a failure.
 * Subclass it to say *why* (e.g. the HTTP layer's "client went away").
 */
export class NonFailureCancellation {
  constructor(readonly reason: string) {}
  toString(): string {
    return `NonFailureCancellation(${this.reason})`
  }
}

/** The usual cause: downstream needs no more elements (e.g. `take` is satisfied). */
export const NoMoreElementsNeeded: NonFailureCancellation = new NonFailureCancellation('no-more-elements-needed')
/** The cause used when a stage completes and cancels its remaining inputs. */
export const StageWasCompleted: NonFailureCancellation = new NonFailureCancellation('stage-was-completed')

/** True when a cancellation cause is not a failure. */
export function isNonFailureCancellation(cause: unknown): cause is NonFailureCancellation {
  return cause instanceof NonFailureCancellation
}

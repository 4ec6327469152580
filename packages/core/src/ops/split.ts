/**
 * splitWhen / splitAfter: cut a stream into consecutive sub-streams at the elements that satisfy
 * a predicate. The stage emits each sub-stream as a `Source` (exposed through a
 * {@link SubSourceOutlet}); `SubFlow` runs them.
 *
 * Contract:
 * - `splitWhen`: an element that satisfies the predicate completes the current sub-stream and
 *   opens the next one, as its first element. `splitAfter`: such an element is the last one of
 *   the current sub-stream; the next element opens the next one. The first element always opens
 *   the first sub-stream (no empty sub-stream is ever emitted).
 * - One sub-stream receives elements at a time, on its own demand; a new sub-stream is emitted on
 *   the outer outlet's demand. Upstream is pulled for the current sub-stream's demand, or for the
 *   outer outlet's when no sub-stream is open.
 * - A sub-stream cancelled without failure (e.g. `take`) is drained: the rest of its elements are
 *   dropped until the next split, which opens a new sub-stream. A cancellation with a failure
 *   cause cancels upstream with it and fails the stage.
 * - Completes when upstream completes (with the current sub-stream); upstream failure fails the
 *   current sub-stream and the stage. When the outer outlet cancels without failure, the current
 *   sub-stream runs on and the stage stops at the next split.
 * - The predicate is supervised: `resume` and `restart` drop the element.
 */
import { isNonFailureCancellation } from '../errors.js'
import type { Source } from '../Source.js'
import type { Attributes, Decider } from '../stage/Attributes.js'
import type { NotUsed } from '../stage/GraphStage.js'
import { GraphStageLogic, type InHandler, type OutHandler } from '../stage/GraphStageLogic.js'
import { decide, LinearStage } from '../stage/linear.js'
import type { FlowShape, Inlet, Outlet } from '../stage/ports.js'
import { SubSourceOutlet, type SubSourceOutletHandler } from '../stage/substreams.js'

/** Where a sub-stream ends: before the matching element (`when`) or after it (`after`). */
export type SplitMode = 'when' | 'after'

const NONE: unique symbol = Symbol('weir.substream.none')

class SplitSubstream<T> implements SubSourceOutletHandler {
  readonly outlet: SubSourceOutlet<T>
  /** The element that opened the sub-stream, until first pulled. */
  first: T | typeof NONE
  /** The sub-stream consists of `first` only (splitAfter on the element that opens it). */
  readonly onlyFirst: boolean
  cancelled = false

  constructor(
    readonly logic: SplitLogic<T>,
    first: T,
    onlyFirst: boolean,
    name: string,
  ) {
    this.first = first
    this.onlyFirst = onlyFirst
    this.outlet = new SubSourceOutlet<T>(logic, name)
    this.outlet.setHandler(this)
  }
  onPull(): void {
    this.logic._subPulled(this)
  }
  onDownstreamFinish(cause: unknown): void {
    this.logic._subCancelled(this, cause)
  }
}

class SplitLogic<T> extends GraphStageLogic implements InHandler, OutHandler {
  readonly in: Inlet<T>
  readonly out: Outlet<Source<T, NotUsed>>
  readonly decider: Decider
  readonly after: boolean
  /** The sub-stream that receives elements, if any. */
  #current: SplitSubstream<T> | undefined = undefined
  /** `#current` waits for the outer outlet's demand to be handed out. */
  #waiting = false
  #count = 0
  #outerCause: unknown = undefined

  constructor(
    shape: FlowShape<T, Source<T, NotUsed>>,
    attributes: Attributes,
    readonly stage: SplitStage<T>,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.decider = attributes.decider
    this.after = stage.mode === 'after'
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }

  // ---- the outer outlet and upstream ----

  onPull(): void {
    const current = this.#current
    if (current === undefined) this.tryPull(this.in)
    else if (this.#waiting) {
      this.#waiting = false
      this.push(this.out, current.outlet.source)
    }
  }

  onPush(): void {
    const x = this.grab(this.in)
    let split: boolean
    try {
      split = this.stage.p(x)
    } catch (e) {
      if (decide(this.decider, e) === 'stop') return this.#fail(e)
      return this.tryPull(this.in) // dropped; whoever asked still waits
    }
    const current = this.#current
    if (current === undefined) return this.#open(x, split && this.after)
    if (split && !this.after) {
      current.outlet.complete()
      return this.#open(x, false)
    }
    if (current.cancelled) {
      // draining a cancelled sub-stream up to the next split
      if (split) this.#ended()
      else this.tryPull(this.in)
      return
    }
    current.outlet.push(x) // upstream was pulled for this sub-stream's demand
    if (split) {
      current.outlet.complete()
      this.#ended()
    }
  }

  onUpstreamFinish(): void {
    const current = this.#current
    // a first element still waiting for its sub-stream's demand is delivered first
    if (current !== undefined && current.first !== NONE && !current.cancelled) return this.setKeepGoing(true)
    current?.outlet.complete()
    this.completeStage()
  }

  onUpstreamFailure(error: unknown): void {
    this.#fail(error)
  }

  onDownstreamFinish(cause: unknown): void {
    if (!isNonFailureCancellation(cause)) return this.#fail(cause)
    const current = this.#current
    if (current === undefined || this.#waiting || current.cancelled) {
      current?.outlet.complete()
      return this.cancelStage(cause)
    }
    this.#outerCause = cause // the current sub-stream runs on; the stage stops at the next split
  }

  // ---- sub-streams ----

  /** @internal */
  _subPulled(sub: SplitSubstream<T>): void {
    if (sub !== this.#current) return
    const first = sub.first
    if (first === NONE) return this.tryPull(this.in)
    sub.first = NONE
    sub.outlet.push(first)
    if (sub.onlyFirst) {
      sub.outlet.complete()
      this.#ended()
    } else if (this.isClosed(this.in)) {
      sub.outlet.complete()
      this.completeStage()
    }
  }

  /** @internal */
  _subCancelled(sub: SplitSubstream<T>, cause: unknown): void {
    if (!isNonFailureCancellation(cause)) return this.#fail(cause)
    if (sub !== this.#current) return
    sub.cancelled = true
    sub.first = NONE
    if (sub.onlyFirst) this.#ended()
    else if (this.isClosed(this.in)) this.completeStage()
    else if (this.isClosed(this.out)) this.cancelStage(this.#outerCause)
    else this.tryPull(this.in) // drain
  }

  // ---- helpers ----

  /** Open the next sub-stream with `first`, handing it out now or on the outer outlet's demand. */
  #open(first: T, onlyFirst: boolean): void {
    if (this.isClosed(this.out)) return this.cancelStage(this.#outerCause) // nobody takes new sub-streams
    const sub = new SplitSubstream<T>(this, first, onlyFirst, `${this.toString()}.substream-${++this.#count}`)
    this.#current = sub
    if (this.isAvailable(this.out)) this.push(this.out, sub.outlet.source)
    else this.#waiting = true
  }

  /** The current sub-stream ended after its last element: the next element opens a new one. */
  #ended(): void {
    this.#current = undefined
    this.#waiting = false
    if (this.isClosed(this.in)) this.completeStage()
    else if (this.isClosed(this.out)) this.cancelStage(this.#outerCause)
    else if (this.isAvailable(this.out)) this.tryPull(this.in)
  }

  #fail(error: unknown): void {
    this.#current?.outlet.fail(error)
    this.#current = undefined
    this.failStage(error)
  }
}

export class SplitStage<T> extends LinearStage<T, Source<T, NotUsed>> {
  constructor(
    readonly mode: SplitMode,
    readonly p: (x: T) => boolean,
  ) {
    super(mode === 'when' ? 'splitWhen' : 'splitAfter')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new SplitLogic<T>(this.shape, attributes, this)
  }
}

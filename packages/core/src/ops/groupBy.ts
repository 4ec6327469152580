/**
 * groupBy: demultiplex a stream into one sub-stream per key. The stage emits each new sub-stream
 * as a `Source` (exposed through a {@link SubSourceOutlet}); `SubFlow` runs them.
 *
 * Contract:
 * - Each sub-stream has its own backpressure. Upstream is pulled when some consumer (the outer
 *   outlet or a sub-stream) asks and no element waits; an element for a sub-stream that has not
 *   pulled waits, and holds upstream, until it does. The element that opens a sub-stream is its
 *   first element; the sub-stream itself is emitted only on the outer outlet's demand.
 * - More than `maxSubstreams` sub-streams open at once fails with {@link TooManySubstreamsError}
 *   (supervised like the key function: `resume`/`restart` drop the element).
 * - A sub-stream whose consumer cancels without failure (e.g. `take`) is closed and removed. A
 *   later element with its key is dropped (Pekko's default), or opens a new sub-stream with
 *   `allowClosedSubstreamRecreation` (an element that was waiting for the closed sub-stream then
 *   opens the new one; one pushed to a consumer while its cancellation was on the way is lost).
 *   Dropping remembers every closed key: with unbounded keys, prefer recreation. A cancellation
 *   with a failure cause fails the whole operator (upstream is cancelled with that cause and the
 *   other sub-streams fail with it).
 * - Completes when upstream completes (each sub-stream completes once its waiting element, if any, was delivered);
 *   upstream failure fails every sub-stream and the outer outlet. When the outer outlet cancels
 *   without failure, the open sub-streams run on (new keys are dropped) and upstream is cancelled
 *   with that cause once the last one closes.
 * - Sub-streams are meant to be run at once by `SubFlow`; they have no subscription timeout.
 */
import { isNonFailureCancellation, InvalidArgumentError, TooManySubstreamsError } from '../errors.js'
import type { Source } from '../Source.js'
import type { Attributes, Decider } from '../stage/Attributes.js'
import type { NotUsed } from '../stage/GraphStage.js'
import { GraphStageLogic, type InHandler, type OutHandler } from '../stage/GraphStageLogic.js'
import { decide, LinearStage } from '../stage/linear.js'
import type { FlowShape, Inlet, Outlet } from '../stage/ports.js'
import { SubSourceOutlet, type SubSourceOutletHandler } from '../stage/substreams.js'

/** Options of `groupBy`. */
export interface GroupByOptions {
  /**
   * When an element comes for a key whose sub-stream was cancelled: open a new sub-stream (true),
   * or drop the element (false, the default, as in Pekko — the operator then remembers every closed key).
   */
  readonly allowClosedSubstreamRecreation?: boolean
}

const NONE: unique symbol = Symbol('weir.substream.none')

/** One key's sub-stream: its outlet and the element that opened it, until first pulled. */
class GroupSubstream<T> implements SubSourceOutletHandler {
  readonly outlet: SubSourceOutlet<T>
  first: T | typeof NONE
  /** Pulled by its consumer, and waiting for an element from upstream. */
  wants = false

  constructor(
    readonly logic: GroupByLogic<T, any>,
    readonly key: unknown,
    first: T,
    name: string,
  ) {
    this.first = first
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

class GroupByLogic<T, K> extends GraphStageLogic implements InHandler, OutHandler {
  readonly in: Inlet<T>
  readonly out: Outlet<Source<T, NotUsed>>
  readonly decider: Decider
  readonly #open = new Map<K, GroupSubstream<T>>()
  readonly #closedKeys: Set<K> | undefined
  /** A new sub-stream waiting for the outer outlet's demand. */
  #waiting: GroupSubstream<T> | undefined = undefined
  /** An element for a sub-stream that has not pulled yet (upstream is not pulled meanwhile). */
  #pendingSub: GroupSubstream<T> | undefined = undefined
  #pendingElem: T | undefined = undefined
  #count = 0
  /** The outer outlet's cancellation cause, once it cancelled while sub-streams run on. */
  #outerCause: unknown = undefined
  #failed = false
  /** Sub-streams that want an element from upstream. */
  #wanting = 0

  constructor(
    shape: FlowShape<T, Source<T, NotUsed>>,
    attributes: Attributes,
    readonly stage: GroupByStage<T, K>,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.decider = attributes.decider
    this.#closedKeys = stage.allowRecreation ? undefined : new Set<K>()
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }

  // ---- the outer outlet and upstream ----

  onPull(): void {
    const w = this.#waiting
    if (w !== undefined) {
      this.#waiting = undefined
      this.push(this.out, w.outlet.source)
    }
    this.#pullIfWanted()
  }

  onPush(): void {
    const x = this.grab(this.in)
    let key: K
    try {
      key = this.stage.key(x)
    } catch (e) {
      return this.#supervise(e)
    }
    this.#route(key, x)
    this.#pullIfWanted()
  }

  onUpstreamFinish(): void {
    this.#tryCompleteAll()
  }

  onUpstreamFailure(error: unknown): void {
    this.#fail(error)
  }

  onDownstreamFinish(cause: unknown): void {
    if (!isNonFailureCancellation(cause)) return this.#fail(cause)
    const w = this.#waiting
    if (w !== undefined) {
      // never handed out: nobody will consume it
      this.#waiting = undefined
      this.#open.delete(w.key as K)
      w.outlet.complete()
    }
    if (this.#open.size === 0) return this.cancelStage(cause)
    this.#outerCause = cause
    if (this.isClosed(this.in)) this.#tryCompleteAll()
  }

  // ---- sub-streams ----

  /** @internal */
  _subPulled(sub: GroupSubstream<T>): void {
    const first = sub.first
    if (first !== NONE) {
      sub.first = NONE
      sub.outlet.push(first)
    } else if (this.#pendingSub === sub) {
      const x = this.#pendingElem as T
      this.#pendingSub = undefined
      this.#pendingElem = undefined
      sub.outlet.push(x)
    } else {
      sub.wants = true
      this.#wanting++
    }
    if (this.isClosed(this.in)) this.#tryCompleteAll()
    else this.#pullIfWanted()
  }

  /** @internal */
  _subCancelled(sub: GroupSubstream<T>, cause: unknown): void {
    this.#open.delete(sub.key as K)
    if (sub.wants) {
      sub.wants = false
      this.#wanting--
    }
    const orphan = this.#pendingSub === sub ? { x: this.#pendingElem as T } : undefined
    if (orphan !== undefined) {
      this.#pendingSub = undefined
      this.#pendingElem = undefined
    }
    sub.first = NONE
    if (!isNonFailureCancellation(cause)) return this.#fail(cause)
    if (this.#closedKeys !== undefined) this.#closedKeys.add(sub.key as K)
    else if (orphan !== undefined) {
      // the element waited for the sub-stream that just closed: it opens the key's next one
      this.#route(sub.key as K, orphan.x)
      if (this.#failed) return
    }
    if (this.isClosed(this.in)) this.#tryCompleteAll()
    else if (this.isClosed(this.out) && this.#open.size === 0) this.cancelStage(this.#outerCause)
    else this.#pullIfWanted()
  }

  // ---- helpers ----

  /** Deliver `x` to its key's sub-stream (or keep it for that sub-stream's next pull), open a new sub-stream, or drop it. */
  #route(key: K, x: T): void {
    const sub = this.#open.get(key)
    if (sub !== undefined) {
      if (sub.wants) {
        sub.wants = false
        this.#wanting--
        sub.outlet.push(x)
      } else {
        this.#pendingSub = sub
        this.#pendingElem = x
      }
    } else if (this.#closedKeys?.has(key) === true || this.isClosed(this.out)) {
      // dropped: its key was closed, or nobody takes new sub-streams any more
    } else if (this.#open.size >= this.stage.maxSubstreams) {
      this.#supervise(new TooManySubstreamsError(this.stage.maxSubstreams))
    } else {
      const opened = new GroupSubstream<T>(this, key, x, `${this.toString()}.substream-${++this.#count}`)
      this.#open.set(key, opened)
      if (this.isAvailable(this.out)) this.push(this.out, opened.outlet.source)
      else this.#waiting = opened
    }
  }

  /** Pull upstream when a consumer (the outer outlet or a sub-stream) wants an element and none waits. */
  #pullIfWanted(): void {
    if (
      (this.#wanting > 0 || this.isAvailable(this.out)) &&
      this.#pendingSub === undefined &&
      this.#waiting === undefined &&
      !this.hasBeenPulled(this.in) &&
      !this.isClosed(this.in)
    ) {
      this.pull(this.in)
    }
  }

  /** Upstream has completed: complete each sub-stream once no element waits for it, and the stage after the last. */
  #tryCompleteAll(): void {
    for (const sub of this.#open.values()) {
      if (sub.first !== NONE || this.#pendingSub === sub) continue
      if (sub.wants) {
        sub.wants = false
        this.#wanting--
      }
      sub.outlet.complete()
      this.#open.delete(sub.key as K)
    }
    if (this.#open.size === 0) this.completeStage()
    else this.setKeepGoing(true)
  }

  #fail(error: unknown): void {
    this.#failed = true
    for (const sub of this.#open.values()) sub.outlet.fail(error)
    this.#open.clear()
    this.#waiting = undefined
    this.#pendingSub = undefined
    this.#pendingElem = undefined
    this.failStage(error)
  }

  #supervise(error: unknown): void {
    if (decide(this.decider, error) === 'stop') this.#fail(error)
    else this.#pullIfWanted() // the element is dropped; whoever asked for it still waits
  }
}

export class GroupByStage<T, K> extends LinearStage<T, Source<T, NotUsed>> {
  readonly allowRecreation: boolean
  constructor(
    readonly maxSubstreams: number,
    readonly key: (x: T) => K,
    options: GroupByOptions = {},
  ) {
    super('groupBy')
    if (!(maxSubstreams >= 1) || (Number.isFinite(maxSubstreams) && !Number.isInteger(maxSubstreams))) {
      throw new InvalidArgumentError('maxSubstreams', maxSubstreams, 'a positive integer or Infinity')
    }
    this.allowRecreation = options.allowClosedSubstreamRecreation ?? false
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new GroupByLogic<T, K>(this.shape, attributes, this)
  }
}

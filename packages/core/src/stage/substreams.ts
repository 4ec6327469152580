/**
 * Sub-stream ports: a running stage exposes a dynamic inner Source ({@link SubSourceOutlet}) or
 * Sink ({@link SubSinkInlet}) that some other graph materializes — later, in another island or on
 * another materializer. HTTP request entities are built on this: the connection stage exposes a
 * request's body as a Source that the handler runs when it likes, with backpressure end to end.
 *
 * Shared contract of both ports:
 * - The owning logic creates the port (`new SubSourceOutlet(this, 'Conn.entity')`), sets its
 *   handler, and drives it with the familiar operations (`push`/`complete`/`fail` or
 *   `pull`/`grab`/`cancel`) under the same protocol as ordinary ports: push only after a pull,
 *   pull once until an element arrived, grab only an available element. Misuse throws
 *   {@link StageProtocolError} naming the port.
 * - The port's blueprint (`source` / `sink`) is a normal stage that may be materialized exactly
 *   once; a second materialization fails that stream with {@link SubstreamMaterializationError}.
 * - The owner and the inner stage talk only through AsyncCallbacks, in both directions, so they
 *   may run in different islands or interpreters. Events arrive in the order they were sent, and
 *   the owner's handlers always run inside the owning stage. Demand crosses one element at a
 *   time: the inner consumer's pull is what lets the owner push.
 * - Commands given before the inner stage exists (`complete`, `fail`, `pull`, `cancel`) are
 *   remembered and delivered when it is materialized.
 * - Cancellation causes and failures cross in both directions. If the inner stage stops, the
 *   owner's handler is told (`onDownstreamFinish(cause)` / `onUpstreamFinish` /
 *   `onUpstreamFailure(e)`; the defaults are those of ordinary ports: cancel, complete or fail the
 *   owning stage). If the owning stage stops while a port is still open, the port is closed for it
 *   right after the owner's `postStop`: a sub-source fails and a sub-sink cancels with
 *   {@link StreamDetachedError}. Owners should close their ports explicitly with the right cause
 *   (e.g. downstream's cancellation cause); this is the backstop that prevents leaks.
 * - Subscription timeout (sub-sources): the owner decides how long an exposed source may stay
 *   unmaterialized. It schedules one of its own keyed timers when it hands the source out and,
 *   when that timer fires, calls `outlet.timeout(ms)`. If the source was not materialized yet it
 *   never will be: `timeout` returns true, the outlet is closed (the owner's handler is not
 *   called — the owner acts on the return value, e.g. to discard the rest of a request body), and
 *   a later materialization fails with {@link SubstreamMaterializationError}. Using the owner's
 *   timers keeps time virtual in tests and the timer is released with the owner.
 *
 * @example A stage that exposes each element of its input as a one-element sub-source
 * ```ts
 * const outlet = new SubSourceOutlet<number>(this, 'Split.sub')
 * outlet.setHandler({ onPull: () => this.pull(this.in) })
 * this.push(this.out, outlet.source) // whoever receives it may run it now or later
 * ```
 */
import { NoMoreElementsNeeded, StageProtocolError, StreamDetachedError, SubstreamMaterializationError } from '../errors.js'
import { Module } from '../internal/module.js'
import { Sink } from '../Sink.js'
import type { Source } from '../Source.js'
import { Attributes } from './Attributes.js'
import { GraphStage, type NotUsed } from './GraphStage.js'
import { GraphStageLogic, type AsyncCallback, type InHandler, type OutHandler } from './GraphStageLogic.js'
import { Inlet, Outlet, SinkShape, SourceShape, type Shape } from './ports.js'
import { SlotSet, type Slotted } from '../internal/SlotSet.js'

// ---- building a Source without importing Source.ts ----

/**
 * Source.ts imports FlowOps, whose operators use sub-stream ports; importing Source.ts from here
 * would close an import cycle that breaks when Flow.ts is loaded first. Source.ts registers how to
 * wrap a module instead (in a static block) — always done before any source can exist.
 */
let sourceFactory: ((module: Module) => Source<any, any>) | undefined

/** @internal called once by Source.ts. */
export function _registerSourceFactory(factory: (module: Module) => Source<any, any>): void {
  sourceFactory = factory
}

// ---- the owner's stop hook ----

interface OwnedPort extends Slotted {
  /** The owning stage stopped: close the port for it if still open. */
  _ownerStopped(): void
}

/**
 * A long-running owner (a merge, a groupBy) opens and releases sub-ports by the thousand, each
 * reaching its sub-stream: in a `Set` they were promoted to the old generation (see SlotSet).
 */
const portsByOwner = new WeakMap<GraphStageLogic, SlotSet<OwnedPort>>()

/**
 * Close `port` after `owner`'s postStop, unless it was released first (through the logic's
 * internal stop hook, registered once per owner). Because of this, the inner side never waits in vain: by the time the owner is
 * finalized, its port was closed and the inner stage's completion, failure or cancellation is
 * already queued — the inner side can ignore an `invoke` that returns false.
 */
function adopt(owner: GraphStageLogic, port: OwnedPort): void {
  let ports = portsByOwner.get(owner)
  if (ports === undefined) {
    const set = new SlotSet<OwnedPort>()
    ports = set
    portsByOwner.set(owner, set)
    owner._onStop(() => {
      const open = set.toArray()
      set.clear()
      for (const p of open) p._ownerStopped()
    })
  }
  ports.add(port)
}

function release(owner: GraphStageLogic, port: OwnedPort): void {
  portsByOwner.get(owner)?.delete(port)
}

/** The logic of a second materialization (or one after a timeout): fails its stream at start. */
class FailedSubstreamLogic extends GraphStageLogic implements InHandler, OutHandler {
  constructor(shape: Shape, readonly error: SubstreamMaterializationError) {
    super(shape)
    for (const p of shape.inlets) this.setHandler(p, this)
    for (const p of shape.outlets) this.setHandler(p, this)
  }
  override preStart(): void {
    this.failStage(this.error)
  }
  onPush(): void {}
  onPull(): void {}
}

type Materialization = 'pending' | 'materialized' | 'timed-out'

function materializationError(port: string, state: Materialization, timeoutMs: number): SubstreamMaterializationError {
  return state === 'timed-out'
    ? new SubstreamMaterializationError(port, `not materialized within ${timeoutMs} ms`)
    : new SubstreamMaterializationError(port, 'materialized more than once')
}

// ================================================================================================
// SubSourceOutlet: the owner pushes, some other graph consumes
// ================================================================================================

/** The owner's handler of a {@link SubSourceOutlet}. */
export interface SubSourceOutletHandler {
  /** The inner consumer asks for an element: `push` one now or later. */
  onPull(): void
  /** The inner consumer cancelled (or stopped); default: cancel the owning stage with the same cause. */
  onDownstreamFinish?(cause: unknown): void
}

const COMPLETE: unique symbol = Symbol('weir.substream.complete')

/** An output of a running stage that another graph consumes as a `Source` (see the file header). */
export class SubSourceOutlet<T> implements OwnedPort {
  /** @internal its index among its owner's open sub-ports */
  _slot = -1
  readonly name: string
  readonly #owner: GraphStageLogic
  #handler: SubSourceOutletHandler | undefined = undefined
  #available = false
  #closed = false
  #state: Materialization = 'pending'
  #timeoutMs = 0
  /** complete/fail given before the inner stage existed. */
  #pendingEnd: typeof COMPLETE | { readonly error: unknown } | undefined = undefined
  #inner: SubSourceLogic<T> | undefined = undefined
  #source: Source<T, NotUsed> | undefined = undefined
  /** @internal */ readonly _onPull: AsyncCallback<void>
  #onCancel: AsyncCallback<unknown> | undefined = undefined

  constructor(owner: GraphStageLogic, name: string) {
    this.#owner = owner
    this.name = name
    this._onPull = owner.getAsyncCallback<void>(() => this.#pulled())
    adopt(owner, this)
  }

  /** @internal made on first use: most sub-streams end once, and a long one should not carry it meanwhile */
  get _onCancel(): AsyncCallback<unknown> {
    return (this.#onCancel ??= this.#owner.getAsyncCallback<unknown>((cause) => this.#cancelled(cause)))
  }

  setHandler(handler: SubSourceOutletHandler): void {
    this.#handler = handler
  }
  /** True when the inner consumer pulled and no element was pushed since. */
  get isAvailable(): boolean {
    return this.#available
  }
  /** True once completed, failed, timed out, or cancelled by the inner consumer. */
  get isClosed(): boolean {
    return this.#closed
  }

  /** A blueprint of the inner side; materialize it exactly once. */
  get source(): Source<T, NotUsed> {
    if (this.#source === undefined) {
      if (sourceFactory === undefined) throw new Error('Source.ts was not loaded') // unreachable: a Source exists only once it is
      this.#source = sourceFactory(Module.atomic(new SubSourceStage(this)))
    }
    return this.#source
  }

  push(elem: T): void {
    if (!this.#available) {
      throw new StageProtocolError(this.name, 'push', this.#closed ? 'the port is closed' : 'it was not pulled (pushed twice, or before a pull)')
    }
    this.#available = false
    this.#inner!._push._invokeNow(elem) // false: the inner stage stopped and its cancellation is on the way
  }

  /** Complete the inner source (idempotent; ignored once closed). */
  complete(): void {
    if (this.#closed) return
    this.#close()
    if (this.#inner !== undefined) this.#inner._complete.invoke()
    else this.#pendingEnd = COMPLETE
  }

  /** Fail the inner source with `error` (ignored once closed). */
  fail(error: unknown): void {
    if (this.#closed) return
    this.#close()
    if (this.#inner !== undefined) this.#inner._fail.invoke(error)
    else this.#pendingEnd = { error }
  }

  /**
   * The subscription timeout, called by the owner when its own timer fires (see the file header):
   * true when the source had not been materialized — it is then closed, and a later
   * materialization fails with `SubstreamMaterializationError` mentioning `timeoutMs`.
   */
  timeout(timeoutMs: number): boolean {
    if (this.#state !== 'pending') return false
    this.#state = 'timed-out'
    this.#timeoutMs = timeoutMs
    this.#pendingEnd = undefined
    if (!this.#closed) this.#close()
    return true
  }

  toString(): string {
    return this.name
  }

  #close(): void {
    this.#closed = true
    this.#available = false
    release(this.#owner, this)
  }

  #pulled(): void {
    if (this.#closed) return
    this.#available = true
    const h = this.#handler
    if (h === undefined) throw new StageProtocolError(this.name, 'pull', 'no handler was set on the sub-source outlet')
    h.onPull()
  }

  #cancelled(cause: unknown): void {
    if (this.#closed) return
    this.#close()
    const h = this.#handler
    if (h?.onDownstreamFinish !== undefined) h.onDownstreamFinish(cause)
    else this.#owner.cancelStage(cause)
  }

  /** @internal */
  _ownerStopped(): void {
    this.fail(new StreamDetachedError(`Sub-source ${this.name}: its owning stage ${this.#owner.toString()} stopped`))
  }

  /** @internal called when the inner stage is materialized. */
  _materialize(shape: SourceShape<T>): GraphStageLogic {
    if (this.#state !== 'pending') return new FailedSubstreamLogic(shape, materializationError(this.name, this.#state, this.#timeoutMs))
    this.#state = 'materialized'
    this.#source = undefined // a blueprint that can no longer run: not kept for as long as the stream lives
    const inner = new SubSourceLogic(shape, this)
    this.#inner = inner
    const end = this.#pendingEnd
    this.#pendingEnd = undefined
    if (end === COMPLETE) inner._complete.invoke()
    else if (end !== undefined) inner._fail.invoke(end.error)
    return inner
  }
}

/** The inner side of a {@link SubSourceOutlet}: forwards pulls and cancellation to the owner. */
class SubSourceLogic<T> extends GraphStageLogic implements OutHandler {
  readonly out: Outlet<T>
  /** @internal */ readonly _push: AsyncCallback<T>
  #complete: AsyncCallback<void> | undefined = undefined
  #fail: AsyncCallback<unknown> | undefined = undefined
  #ownerKnows = false

  constructor(shape: SourceShape<T>, readonly port: SubSourceOutlet<T>) {
    super(shape)
    this.out = shape.out
    this.setHandler(shape.out, this)
    this._push = this.getAsyncCallback<T>((x) => this.push(this.out, x))
  }

  // the ending callbacks are made on first use: a long sub-stream does not carry them meanwhile
  /** @internal */
  get _complete(): AsyncCallback<void> {
    return (this.#complete ??= this.getAsyncCallback<void>(() => {
      this.#ownerKnows = true
      this.completeStage()
    }))
  }
  /** @internal */
  get _fail(): AsyncCallback<unknown> {
    return (this.#fail ??= this.getAsyncCallback<unknown>((e) => {
      this.#ownerKnows = true
      this.failStage(e)
    }))
  }

  onPull(): void {
    // false: the owner stopped — its postStop closed the port, so our completion or failure is already queued
    this.port._onPull._invokeNow()
  }

  onDownstreamFinish(cause: unknown): void {
    this.#ownerKnows = true
    this.port._onCancel.invoke(cause)
    this.cancelStage(cause)
  }

  override postStop(): void {
    // stopped without the owner knowing (e.g. the materializer shut down): tell it
    if (!this.#ownerKnows) this.port._onCancel.invoke(new StreamDetachedError(`Sub-source ${this.port.name} stopped`))
  }
}

class SubSourceStage<T> extends GraphStage<SourceShape<T>> {
  readonly shape: SourceShape<T>
  readonly #attributes: Attributes
  constructor(readonly port: SubSourceOutlet<T>) {
    super()
    this.shape = new SourceShape(new Outlet<T>(`${port.name}.out`))
    this.#attributes = Attributes.named(`SubSource(${port.name})`)
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  createLogic(): GraphStageLogic {
    return this.port._materialize(this.shape)
  }
}

// ================================================================================================
// SubSinkInlet: some other graph produces, the owner pulls
// ================================================================================================

/** The owner's handler of a {@link SubSinkInlet}. */
export interface SubSinkInletHandler {
  /** An element arrived: `grab` it. */
  onPush(): void
  /** The inner producer completed; default: complete the owning stage. */
  onUpstreamFinish?(): void
  /** The inner producer failed (or stopped); default: fail the owning stage with the same error. */
  onUpstreamFailure?(error: unknown): void
}

const EMPTY: unique symbol = Symbol('weir.substream.empty')

/** The owner's push handler run on the port (set in SubSinkInlet's static block, which may read its private fields). */
let PUSHED: (this: SubSinkInlet<unknown>, x: unknown) => void
/** The owner's pull, run on the inner logic. */
function PULL(this: SubSinkLogic<unknown>): void {
  if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
}

/** An input of a running stage fed by another graph through a `Sink` (see the file header). */
export class SubSinkInlet<T> implements OwnedPort {
  /** @internal its index among its owner's open sub-ports */
  _slot = -1
  readonly name: string
  readonly #owner: GraphStageLogic
  #handler: SubSinkInletHandler | undefined = undefined
  #elem: T | typeof EMPTY = EMPTY
  #pulled = false
  #closed = false
  #materialized = false
  /** The cancellation cause given before the inner stage existed. */
  #pendingCancel: { readonly cause: unknown } | undefined = undefined
  #inner: SubSinkLogic<T> | undefined = undefined
  #sink: Sink<T, NotUsed> | undefined = undefined
  #onPush: AsyncCallback<T> | undefined = undefined
  #onComplete: AsyncCallback<void> | undefined = undefined
  #onFail: AsyncCallback<unknown> | undefined = undefined

  constructor(owner: GraphStageLogic, name: string) {
    this.#owner = owner
    this.name = name
    adopt(owner, this)
  }

  /**
   * @internal The inner stage pushed `x`. Sub-fused (the owner's island is the one running) the
   * owner's handler runs at once, with no object or closure per element; otherwise `x` arrives
   * as an outside event of the owner's island.
   */
  _push(x: T): void {
    const owner = this.#owner
    const it = owner._cell.it
    if (owner._cell.finalized || it === undefined || !it.isRunning || !it.tryDeliverNow(owner, PUSHED, x, this)) {
      ;(this.#onPush ??= owner.getAsyncCallback<T>((y) => this.#pushed(y))).invoke(x)
    }
  }

  static {
    PUSHED = function (this: SubSinkInlet<unknown>, x: unknown): void {
      this.#pushed(x)
    }
  }

  // the ending callbacks are made on first use: a long sub-stream does not carry them meanwhile
  /** @internal */
  get _onComplete(): AsyncCallback<void> {
    return (this.#onComplete ??= this.#owner.getAsyncCallback<void>(() => this.#completed()))
  }
  /** @internal */
  get _onFail(): AsyncCallback<unknown> {
    return (this.#onFail ??= this.#owner.getAsyncCallback<unknown>((e) => this.#failed(e)))
  }

  setHandler(handler: SubSinkInletHandler): void {
    this.#handler = handler
  }
  /** True when an element arrived and was not grabbed yet. */
  get isAvailable(): boolean {
    return this.#elem !== EMPTY
  }
  /** True after `pull` until the element arrives (or the port closes). */
  get hasBeenPulled(): boolean {
    return this.#pulled
  }
  /** True once the inner producer completed or failed, or the owner cancelled. */
  get isClosed(): boolean {
    return this.#closed
  }

  /** A blueprint of the inner side; materialize it exactly once. */
  get sink(): Sink<T, NotUsed> {
    return (this.#sink ??= Sink.fromGraph(new SubSinkStage(this)))
  }

  /** Ask the inner producer for one element (before materialization: remembered until then). */
  pull(): void {
    if (this.#closed) throw new StageProtocolError(this.name, 'pull', 'the port is closed')
    if (this.#pulled) throw new StageProtocolError(this.name, 'pull', 'it was already pulled')
    this.#pulled = true
    this.#inner?._pullNow()
  }

  grab(): T {
    const x = this.#elem
    if (x === EMPTY) throw new StageProtocolError(this.name, 'grab', 'no element is available')
    this.#elem = EMPTY
    return x
  }

  /** Cancel the inner producer with `cause` (default: no more elements needed); ignored once closed. */
  cancel(cause: unknown = NoMoreElementsNeeded): void {
    if (this.#closed) return
    this.#close()
    if (this.#inner !== undefined) this.#inner._cancel.invoke(cause)
    else this.#pendingCancel = { cause }
  }

  toString(): string {
    return this.name
  }

  #close(): void {
    this.#closed = true
    this.#pulled = false
    release(this.#owner, this)
  }

  #handlerFor(event: string): SubSinkInletHandler {
    const h = this.#handler
    if (h === undefined) throw new StageProtocolError(this.name, event, 'no handler was set on the sub-sink inlet')
    return h
  }

  #pushed(x: T): void {
    if (this.#closed) return
    this.#pulled = false
    this.#elem = x
    this.#handlerFor('push').onPush()
  }

  #completed(): void {
    if (this.#closed) return
    this.#close()
    const h = this.#handlerFor('complete')
    if (h.onUpstreamFinish !== undefined) h.onUpstreamFinish()
    else this.#owner.completeStage()
  }

  #failed(error: unknown): void {
    if (this.#closed) return
    this.#close()
    const h = this.#handlerFor('fail')
    if (h.onUpstreamFailure !== undefined) h.onUpstreamFailure(error)
    else this.#owner.failStage(error)
  }

  /** @internal */
  _ownerStopped(): void {
    this.cancel(new StreamDetachedError(`Sub-sink ${this.name}: its owning stage ${this.#owner.toString()} stopped`))
  }

  /** @internal called when the inner stage is materialized. */
  _materialize(shape: SinkShape<T>): GraphStageLogic {
    if (this.#materialized) return new FailedSubstreamLogic(shape, materializationError(this.name, 'materialized', 0))
    this.#materialized = true
    this.#sink = undefined // a blueprint that can no longer run: not kept for as long as the stream lives
    const inner = new SubSinkLogic(shape, this)
    this.#inner = inner
    const pending = this.#pendingCancel
    this.#pendingCancel = undefined
    if (pending !== undefined) inner._cancel.invoke(pending.cause)
    else if (this.#pulled) inner._pullNow()
    return inner
  }
}

/** The inner side of a {@link SubSinkInlet}: pulls on the owner's demand, forwards what arrives. */
class SubSinkLogic<T> extends GraphStageLogic implements InHandler {
  readonly in: Inlet<T>
  #cancel: AsyncCallback<unknown> | undefined = undefined
  #ownerKnows = false

  constructor(shape: SinkShape<T>, readonly port: SubSinkInlet<T>) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
  }

  /** @internal The owner pulled: at once when sub-fused (see {@link SubSinkInlet._push}), else as an outside event. */
  _pullNow(): void {
    const it = this._cell.it
    if (this._cell.finalized || it === undefined || !it.isRunning || !it.tryDeliverNow(this, PULL, undefined, this)) {
      this._invokeExternal(PULL, undefined) // as an async callback would, without one per sub-stream
    }
  }

  /** @internal made on first use (see SubSinkInlet) */
  get _cancel(): AsyncCallback<unknown> {
    return (this.#cancel ??= this.getAsyncCallback<unknown>((cause) => {
      this.#ownerKnows = true
      this.cancelStage(cause)
    }))
  }

  onPush(): void {
    // false: the owner stopped — its postStop cancelled the port, so our cancellation is already queued
    this.port._push(this.grab(this.in))
  }

  onUpstreamFinish(): void {
    this.#ownerKnows = true
    this.port._onComplete.invoke()
    this.completeStage()
  }

  onUpstreamFailure(error: unknown): void {
    this.#ownerKnows = true
    this.port._onFail.invoke(error)
    this.failStage(error)
  }

  override postStop(): void {
    if (!this.#ownerKnows) this.port._onFail.invoke(new StreamDetachedError(`Sub-sink ${this.port.name} stopped`))
  }
}

class SubSinkStage<T> extends GraphStage<SinkShape<T>> {
  readonly shape: SinkShape<T>
  readonly #attributes: Attributes
  constructor(readonly port: SubSinkInlet<T>) {
    super()
    this.shape = new SinkShape(new Inlet<T>(`${port.name}.in`))
    this.#attributes = Attributes.named(`SubSink(${port.name})`)
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  createLogic(): GraphStageLogic {
    return this.port._materialize(this.shape)
  }
}

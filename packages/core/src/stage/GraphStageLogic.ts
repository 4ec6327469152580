/**
 * GraphStageLogic: the mutable, per-materialization half of a stage.
 *
 * A logic registers one handler per port. The interpreter calls `onPush` when an element
 * arrived on an inlet that was pulled, `onPull` when downstream asks an outlet for an element,
 * and the completion handlers when a neighbour stops. Handlers react with `push`/`pull`/`grab`,
 * `complete`/`fail`/`cancel`, or stop the whole stage. The defaults are the common case: an
 * upstream finish completes the stage, an upstream failure fails it, a downstream cancellation
 * cancels it with the same cause.
 *
 * Protocol: push only after the outlet was pulled, pull only once until an element arrived,
 * grab only an available element. Misuse throws a {@link StageProtocolError} naming the port,
 * which fails the stage. `postStop` is the one teardown that always runs: timers are cancelled
 * before it, so release sockets and settle materialized promises there.
 */
import { StageProtocolError, StageWasCompleted, StreamDetachedError, NoMoreElementsNeeded } from '../errors.js'
import {
  Cancelled,
  DirectFlip,
  EMPTY,
  MAX_DIRECT_DEPTH,
  Failed,
  InClosed,
  InFailed,
  InReady,
  OutClosed,
  OutReady,
  PullStartFlip,
  Pulling,
  PushStartFlip,
  Pushing,
  type Connection,
  type GraphInterpreter,
} from '../internal/interpreter.js'
import type { Cancellable } from '../internal/scheduler.js'
import type { Logger, Materializer } from '../internal/materializer.js'
import { Inlet, type Outlet, type Shape } from './ports.js'

export interface InHandler {
  /** An element is available on the inlet: `grab` it. */
  onPush(): void
  /** Upstream completed; default: complete the stage. */
  onUpstreamFinish?(): void
  /** Upstream failed; default: fail the stage with the same error. */
  onUpstreamFailure?(error: unknown): void
}

export interface OutHandler {
  /** Downstream asks for an element: `push` one now or later. */
  onPull(): void
  /** Downstream cancelled; default: cancel the stage with the same cause. */
  onDownstreamFinish?(cause: unknown): void
}

interface Timer {
  readonly key: unknown
  readonly interval: number
  readonly fixedRate: boolean
  deadline: number
  task: Cancellable | undefined
}

class FollowUp {
  constructor(readonly run: () => void) {}
}

/** Replaces an outlet's handler while queued elements wait for demand (see `emit`). */
class Emitting implements OutHandler {
  readonly items: unknown[] = []
  #head = 0
  constructor(
    readonly logic: GraphStageLogic,
    readonly out: Outlet<any>,
    readonly previous: OutHandler,
  ) {}
  add(item: unknown): void {
    this.items.push(item)
  }
  onPull(): void {
    const items = this.items
    this.logic.push(this.out, items[this.#head++])
    // follow-ups queued behind this element run now; the last item restores the handler first
    let restored = false
    while (this.#head < items.length && items[this.#head] instanceof FollowUp) {
      const f = items[this.#head++] as FollowUp
      if (this.#head === items.length) {
        this.logic.setHandler(this.out, this.previous)
        restored = true
      }
      f.run()
    }
    if (!restored && this.#head === items.length) this.logic.setHandler(this.out, this.previous)
  }
  onDownstreamFinish(cause: unknown): void {
    this.logic.setHandler(this.out, this.previous)
    if (this.previous.onDownstreamFinish) this.previous.onDownstreamFinish(cause)
    else this.logic.cancelStage(cause)
  }
}

/** The connections and handlers of a stage with more than two inlets or outlets (indexed by port; the first two are unused). */
class MorePorts {
  readonly inConns: Connection[]
  readonly outConns: Connection[]
  readonly inHandlers: InHandler[]
  readonly outHandlers: OutHandler[]
  constructor(ins: number, outs: number) {
    this.inConns = new Array(ins)
    this.outConns = new Array(outs)
    this.inHandlers = new Array(ins)
    this.outHandlers = new Array(outs)
  }
}

function inConnOf(l: GraphStageLogic, inlet: Inlet<any>): Connection {
  const p = l._cell
  return inlet === p.in0 ? p.inConn0! : inlet === p.in1 ? p.inConn1! : l._inConnAt(inlet._index)!
}
function outConnOf(l: GraphStageLogic, out: Outlet<any>): Connection {
  const p = l._cell
  return out === p.out0 ? p.outConn0! : out === p.out1 ? p.outConn1! : l._outConnAt(out._index)!
}
function interpreterOf(l: GraphStageLogic): GraphInterpreter {
  const it = l._cell.it
  if (it === undefined) throw new Error(`${l.toString()} is not materialized yet`)
  return it
}

/**
 * @internal A stage's first two inlets and outlets with their connections, and the flags the
 * interpreter reads around every event, in an object of one class. The base class's port
 * operations run for stages of many classes: a field of `this` read there is a megamorphic load,
 * a field of the cell a monomorphic one. A port operation on the first ports (the common case)
 * compares the port by identity and reads neither the port object nor an array.
 */
export class StageCell {
  /** False while one of the stage's handlers runs (direct delivery must not re-enter it). */
  idle = true
  portsOpen = 0
  keepGoing = false
  finalized = false
  /** Its preStart ran. */
  started = false
  it: GraphInterpreter | undefined = undefined
  inConn0: Connection | undefined = undefined
  inConn1: Connection | undefined = undefined
  outConn0: Connection | undefined = undefined
  outConn1: Connection | undefined = undefined
  constructor(
    readonly logic: GraphStageLogic,
    readonly in0: Inlet<any> | undefined,
    readonly in1: Inlet<any> | undefined,
    readonly out0: Outlet<any> | undefined,
    readonly out1: Outlet<any> | undefined,
  ) {}
}

/** A stage's state that few stages need. */
class Rare {
  /** Timers past the first (see `#timer0`). */
  timers: Map<unknown, Timer> | undefined = undefined
  /** Outside events that came before the stage was materialized. */
  early: [(arg: any) => void, unknown][] | undefined = undefined
  feedback: Set<(e: unknown) => void> | undefined = undefined
  stopHooks: (() => void)[] | undefined = undefined
}

/** A handle through which code outside the stream (I/O callbacks, other streams) talks to a running stage. */
export class AsyncCallback<T> {
  readonly #logic: GraphStageLogic
  readonly #handler: (value: T) => void
  constructor(logic: GraphStageLogic, handler: (value: T) => void) {
    this.#logic = logic
    this.#handler = handler
  }
  /** Deliver `value` to the stage; false when the stage has already stopped (the value is dropped). */
  invoke(value: T): boolean {
    return this.#logic._invokeExternal(this.#handler, value)
  }
  /**
   * @internal Like `invoke`, but when the stage's island is running right now (the caller is one
   * of its stages, e.g. the two sides of a sub-fused sub-stream) and the stage is idle, its
   * handler runs at once, as a direct push or pull would; otherwise the value is queued as by `invoke`.
   */
  _invokeNow(value: T): boolean {
    return this.#logic._invokeNow(this.#handler, value)
  }
  /**
   * Like `invoke`, resolving once the handler ran; rejecting with the handler's error if it threw
   * (the stage then fails), or with `StreamDetachedError` if the stage stopped first.
   */
  invokeWithFeedback(value: T): Promise<void> {
    return this.#logic._invokeWithFeedback(this.#handler, value)
  }
}

export abstract class GraphStageLogic {
  /** @internal its island (kept in the cell: one place, set by `GraphInterpreter.addLogic`) */
  get _interpreter(): GraphInterpreter | undefined {
    return this._cell.it
  }
  /** @internal */ _stageId = -1
  /** @internal */ _name = ''
  // ports past the second keep their connections and handlers in arrays, made only for a stage
  // with more than two inlets or outlets: most stages have one or two, and four small arrays per
  // stage were a sixth of what a thousand idle SSE streams kept in memory
  /** @internal */ readonly _more: MorePorts | undefined
  /** @internal the first ports, their connections and the flags the interpreter reads per event (see StageCell) */
  readonly _cell: StageCell
  /** @internal */ _inH0: InHandler | undefined = undefined
  /** @internal */ _inH1: InHandler | undefined = undefined
  /** @internal */ _outH0: OutHandler | undefined = undefined
  /** @internal */ _outH1: OutHandler | undefined = undefined
  /** @internal added to an island that was already running (sub-fusing). */
  _attached = false
  // the first timer in a field, any others by key in a Map: most timed stages have one timer
  // (a heartbeat, an idle deadline), and a Map with one entry is 180 bytes per stream
  #timer0: Timer | undefined
  /** What few stages need (more timers, early events, feedback, stop hooks): one field, made on first use. */
  #rare: Rare | undefined

  constructor(readonly shape: Shape) {
    const ins = shape.inlets.length
    const outs = shape.outlets.length
    this._more = ins <= 2 && outs <= 2 ? undefined : new MorePorts(ins, outs)
    this._cell = new StageCell(this, shape.inlets[0], shape.inlets[1], shape.outlets[0], shape.outlets[1])
  }

  /** @internal the handler of inlet `i` (undefined before `setHandler`) */
  _inHandler(i: number): InHandler | undefined {
    return i === 0 ? this._inH0 : i === 1 ? this._inH1 : this._more!.inHandlers[i]
  }
  /** @internal the handler of outlet `i` (undefined before `setHandler`) */
  _outHandler(i: number): OutHandler | undefined {
    return i === 0 ? this._outH0 : i === 1 ? this._outH1 : this._more!.outHandlers[i]
  }
  /** @internal the connection of inlet `i` (undefined before the interpreter connected it) */
  _inConnAt(i: number): Connection | undefined {
    return i === 0 ? this._cell.inConn0 : i === 1 ? this._cell.inConn1 : this._more!.inConns[i]
  }
  /** @internal the connection of outlet `i` (undefined before the interpreter connected it) */
  _outConnAt(i: number): Connection | undefined {
    return i === 0 ? this._cell.outConn0 : i === 1 ? this._cell.outConn1 : this._more!.outConns[i]
  }
  /** @internal */
  _setInConn(i: number, c: Connection): void {
    if (i === 0) this._cell.inConn0 = c
    else if (i === 1) this._cell.inConn1 = c
    else this._more!.inConns[i] = c
  }
  /** @internal */
  _setOutConn(i: number, c: Connection): void {
    if (i === 0) this._cell.outConn0 = c
    else if (i === 1) this._cell.outConn1 = c
    else this._more!.outConns[i] = c
  }

  /** Called once before any handler, in the stream's own turn. */
  preStart(): void {}
  /** Called once after the stage stopped, whatever the reason. Timers are already cancelled. */
  postStop(): void {}
  /** Called when a timer scheduled with this key fires (stale ticks of cancelled timers are dropped). */
  protected onTimer(_key: unknown): void {}

  get materializer(): Materializer {
    return interpreterOf(this).materializer
  }
  /**
   * A materializer that runs a graph inside this stage's island (Akka's sub-fusing materializer):
   * the part of the graph around its last node — the sink, for `source.runWith(sink)` — shares
   * this island's interpreter, so elements between it and this stage cross no async boundary.
   * Parts behind an `async()` boundary still run in their own islands. The new stages start in
   * this island's next event, not inside the calling handler.
   */
  get subFusingMaterializer(): Materializer {
    const it = interpreterOf(this)
    return it.materializer._subFusing(it)
  }
  /** The materializer's logger. */
  protected get log(): Logger {
    return interpreterOf(this).materializer.logger
  }
  /** The scheduler's clock, in ms. */
  protected now(): number {
    return interpreterOf(this).materializer.scheduler.now()
  }

  /**
   * Runs `callback` once, when this stage's island finishes its current run: after the events
   * the island is processing now, before other islands run (outside a run: in a microtask). For
   * work batched over one run, e.g. the socket writes of many pushes leaving in one `writev`.
   */
  protected afterRun(callback: () => void): void
  /** As above, with `arg` given to `callback`: one plain function can serve every stage, with no closure per call. */
  protected afterRun<A>(callback: (arg: A) => void, arg: A): void
  protected afterRun(callback: (arg: unknown) => void, arg?: unknown): void {
    interpreterOf(this).afterRun(callback, arg)
  }


  // ---- handlers ----

  setHandler(port: Inlet<any>, handler: InHandler): void
  setHandler(port: Outlet<any>, handler: OutHandler): void
  setHandler(port: Inlet<any> | Outlet<any>, handler: InHandler | OutHandler): void {
    const i = port._index
    if (port instanceof Inlet) {
      const h = handler as InHandler
      if (i === 0) this._inH0 = h
      else if (i === 1) this._inH1 = h
      else this._more!.inHandlers[i] = h
      const c = this._inConnAt(i)
      if (c !== undefined) c.setInHandler(h)
    } else {
      const h = handler as OutHandler
      if (i === 0) this._outH0 = h
      else if (i === 1) this._outH1 = h
      else this._more!.outHandlers[i] = h
      const c = this._outConnAt(i)
      if (c !== undefined) c.setOutHandler(h)
    }
  }

  /** Use one object as the handler of an inlet and an outlet (often the logic itself). */
  setHandlers(inlet: Inlet<any>, outlet: Outlet<any>, handler: InHandler & OutHandler): void {
    this.setHandler(inlet, handler)
    this.setHandler(outlet, handler)
  }

  getHandler(port: Outlet<any>): OutHandler {
    return this._outHandler(port._index)!
  }

  // ---- port operations (hot path first, messages built only on the slow path) ----

  // `this` is of a different class for every stage, so each read of one of its fields here is a
  // megamorphic load: the port operations read `this._cell` once, then fields of one class (and
  // they call functions, not private methods: a private method's brand check is a keyed load
  // from `this`, megamorphic too)

  push<T>(out: Outlet<T>, elem: T): void {
    const p = this._cell
    const c = out === p.out0 ? p.outConn0! : out === p.out1 ? p.outConn1! : this._outConnAt(out._index)!
    const s = c.state
    if ((s & (OutReady | OutClosed | InClosed)) === OutReady) {
      c.slot = elem
      const it = p.it!
      if (c.inCell.idle && it.depth < MAX_DIRECT_DEPTH) {
        c.state = s ^ DirectFlip
        it.direct(c, c.inCell, true)
      } else {
        c.state = s ^ PushStartFlip
        it.enqueue(c)
      }
    } else if ((s & OutClosed) !== 0) {
      throw new StageProtocolError(out.name, 'push', 'the port is closed')
    } else if ((s & OutReady) === 0) {
      throw new StageProtocolError(out.name, 'push', 'it was not pulled (pushed twice, or before a pull)')
    } else {
      // downstream cancelled and its cancellation is on the way: the element is dropped
      c.state = s ^ PushStartFlip
    }
  }

  pull<T>(inlet: Inlet<T>): void {
    const p = this._cell
    const c = inlet === p.in0 ? p.inConn0! : inlet === p.in1 ? p.inConn1! : this._inConnAt(inlet._index)!
    const s = c.state
    if ((s & (InReady | InClosed | OutClosed)) === InReady) {
      const it = p.it!
      if (c.outCell.idle && it.depth < MAX_DIRECT_DEPTH) {
        c.state = s ^ DirectFlip
        it.direct(c, c.outCell, false)
      } else {
        c.state = s ^ PullStartFlip
        it.enqueue(c)
      }
    } else if ((s & InClosed) !== 0) {
      throw new StageProtocolError(inlet.name, 'pull', 'the port is closed')
    } else if ((s & InReady) === 0) {
      throw new StageProtocolError(inlet.name, 'pull', 'it was already pulled')
    } else {
      // upstream completed and its completion is on the way: the pull is recorded, not sent
      c.state = s ^ PullStartFlip
    }
  }

  /** Pull unless already pulled or closed. */
  tryPull<T>(inlet: Inlet<T>): void {
    const s = inConnOf(this, inlet).state
    if ((s & (InReady | InClosed)) === InReady) this.pull(inlet)
  }

  grab<T>(inlet: Inlet<T>): T {
    const c = inConnOf(this, inlet)
    const elem = c.slot
    if ((c.state & (InReady | InFailed)) === InReady && elem !== EMPTY) {
      c.slot = EMPTY
      return elem as T
    }
    if (!this.isAvailable(inlet)) throw new StageProtocolError(inlet.name, 'grab', 'no element is available')
    const failed = c.slot as Failed
    c.slot = new Failed(failed.error, EMPTY)
    return failed.previous as T
  }

  isAvailable(port: Inlet<any> | Outlet<any>): boolean {
    const p = this._cell
    if (port === p.out0) return (p.outConn0!.state & (OutReady | OutClosed)) === OutReady
    if (port === p.out1) return (p.outConn1!.state & (OutReady | OutClosed)) === OutReady
    if (port === p.in0 || port === p.in1 || port instanceof Inlet) {
      const c = port === p.in0 ? p.inConn0! : inConnOf(this, port as Inlet<any>)
      const bits = c.state & (InReady | InFailed)
      if (bits === InReady) return c.slot !== EMPTY
      if (bits === (InReady | InFailed)) return c.slot instanceof Failed && c.slot.previous !== EMPTY
      return false
    }
    return (outConnOf(this, port).state & (OutReady | OutClosed)) === OutReady
  }

  hasBeenPulled(inlet: Inlet<any>): boolean {
    return (inConnOf(this, inlet).state & (InReady | InClosed)) === 0
  }

  isClosed(port: Inlet<any> | Outlet<any>): boolean {
    const p = this._cell
    if (port === p.in0) return (p.inConn0!.state & InClosed) !== 0
    if (port === p.out0) return (p.outConn0!.state & OutClosed) !== 0
    if (port === p.in1) return (p.inConn1!.state & InClosed) !== 0
    if (port === p.out1) return (p.outConn1!.state & OutClosed) !== 0
    return port instanceof Inlet ? (inConnOf(this, port).state & InClosed) !== 0 : (outConnOf(this, port).state & OutClosed) !== 0
  }

  /** Complete an outlet (deferred until queued `emit`s are delivered). */
  complete(out: Outlet<any>): void {
    const h = this._outHandler(out._index)
    if (h instanceof Emitting) {
      h.add(new FollowUp(() => this.complete(out)))
      return
    }
    const c = outConnOf(this, out)
    const s = c.state
    c.state = s | OutClosed
    if ((s & (InClosed | Pushing | Pulling | OutClosed)) === 0) this._cell.it!.enqueue(c)
    if ((s & OutClosed) === 0) this._cell.portsOpen--
  }

  fail(out: Outlet<any>, error: unknown): void {
    const h = this._outHandler(out._index)
    if (h instanceof Emitting) this.setHandler(out, h.previous)
    const c = outConnOf(this, out)
    const s = c.state
    if ((s & (InClosed | OutClosed)) === 0) {
      c.state = s | OutClosed | InFailed
      c.slot = new Failed(error, c.slot)
      if ((s & (Pulling | Pushing)) === 0) this._cell.it!.enqueue(c)
    } else c.state = s | OutClosed
    if ((s & OutClosed) === 0) this._cell.portsOpen--
  }

  /** Cancel an inlet; the cause travels upstream (default: no more elements needed, not a failure). */
  cancel(inlet: Inlet<any>, cause: unknown = NoMoreElementsNeeded): void {
    const c = inConnOf(this, inlet)
    const s = c.state
    c.state = s | InClosed
    if ((s & OutClosed) === 0) {
      c.slot = new Cancelled(cause)
      if ((s & (Pulling | Pushing | InClosed)) === 0) this._cell.it!.enqueue(c)
    }
    if ((s & InClosed) === 0) this._cell.portsOpen--
  }

  /** Cancel all inlets and complete all outlets; the stage then stops. */
  completeStage(): void {
    this.#closeAll(StageWasCompleted, undefined, false)
  }
  /** Cancel all inlets and fail all outlets with `error`; the stage then stops. */
  failStage(error: unknown): void {
    this.#closeAll(error, error, true)
  }
  /** Cancel all inlets with `cause` and complete all outlets; the stage then stops. */
  cancelStage(cause: unknown): void {
    this.#closeAll(cause, undefined, false)
  }

  #closeAll(cancelCause: unknown, error: unknown, failing: boolean): void {
    const { inlets, outlets } = this.shape
    for (let i = 0; i < inlets.length; i++) {
      if ((this._inConnAt(i)!.state & InClosed) === 0) this.cancel(inlets[i]!, cancelCause)
    }
    for (let i = 0; i < outlets.length; i++) {
      const c = this._outConnAt(i)!
      if ((c.state & OutClosed) !== 0) continue
      if (failing) this.fail(outlets[i]!, error)
      else this.complete(outlets[i]!)
    }
    this._cell.keepGoing = false
  }

  /** Keep the stage running after all its ports closed (e.g. while waiting for a callback). */
  setKeepGoing(enabled: boolean): void {
    this._cell.keepGoing = enabled
    const it = this._cell.it
    if (!enabled && this._cell.portsOpen === 0 && it !== undefined) it.finalizeStage(this)
  }

  // ---- emit: push now if possible, otherwise queue until demand ----

  /** Push `elem` as soon as `out` is pulled, then run `andThen`. Later emits and `complete` queue behind it. */
  emit<T>(out: Outlet<T>, elem: T, andThen?: () => void): void {
    const h = this._outHandler(out._index)
    if (h instanceof Emitting) {
      h.add(elem)
      if (andThen !== undefined) h.add(new FollowUp(andThen))
    } else if (this.isAvailable(out)) {
      this.push(out, elem)
      andThen?.()
    } else {
      const e = new Emitting(this, out, h!)
      e.add(elem)
      if (andThen !== undefined) e.add(new FollowUp(andThen))
      this.setHandler(out, e)
    }
  }

  /** `emit` each element in order, then run `andThen`. */
  emitMultiple<T>(out: Outlet<T>, elems: Iterable<T>, andThen?: () => void): void {
    let any = false
    for (const e of elems) {
      this.emit(out, e)
      any = true
    }
    if (andThen === undefined) return
    if (!any) andThen()
    else {
      const h = this._outHandler(out._index)
      if (h instanceof Emitting) h.add(new FollowUp(andThen))
      else andThen()
    }
  }

  /** True while elements queued by `emit` wait for demand on `out`. */
  isEmitting(out: Outlet<any>): boolean {
    return this._outHandler(out._index) instanceof Emitting
  }

  // ---- async callbacks ----

  /**
   * A callback that runs `handler` inside this stage, safe to call from anywhere. `handler` runs
   * with this logic as `this`, so one plain function can serve every instance of a stage (no
   * closure per instance).
   */
  getAsyncCallback<T = void>(handler: (value: T) => void): AsyncCallback<T> {
    return new AsyncCallback(this, handler)
  }

  /** @internal */
  _invokeExternal(handler: (arg: any) => void, arg: unknown): boolean {
    if (this._cell.finalized) return false
    const it = this._cell.it
    if (it === undefined) (this.#rareFields().early ??= []).push([handler, arg])
    else it.enqueueExternal(this, handler, arg)
    return true
  }

  /** @internal see {@link AsyncCallback._invokeNow}. */
  _invokeNow(handler: (arg: any) => void, arg: unknown): boolean {
    if (this._cell.finalized) return false
    const it = this._cell.it
    if (it !== undefined && it.isRunning) it.deliverNow(this, handler, arg)
    else this._invokeExternal(handler, arg)
    return true
  }

  /** @internal */
  _invokeWithFeedback(handler: (arg: any) => void, arg: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      const feedback = (this.#rareFields().feedback ??= new Set())
      feedback.add(reject)
      const ok = this._invokeExternal((a: unknown) => {
        feedback.delete(reject)
        try {
          handler.call(this, a)
        } catch (e) {
          reject(e)
          throw e // the stage fails as with any throwing handler
        }
        resolve()
      }, arg)
      if (!ok) {
        feedback.delete(reject)
        reject(new StreamDetachedError(`${this.toString()} already stopped`))
      }
    })
  }

  // ---- timers ----

  /** Fire `onTimer(key)` once after `delayMs`; replaces a timer with the same key. */
  scheduleOnce(key: unknown, delayMs: number): void {
    this.#schedule(key, delayMs, 0, false)
  }
  /** Fire `onTimer(key)` at `initialDelayMs`, then every `intervalMs` at exact deadlines (no drift). */
  scheduleAtFixedRate(key: unknown, initialDelayMs: number, intervalMs: number): void {
    this.#schedule(key, initialDelayMs, intervalMs, true)
  }
  /** Fire `onTimer(key)` at `initialDelayMs`, then `delayMs` after each firing was handled. */
  scheduleWithFixedDelay(key: unknown, initialDelayMs: number, delayMs: number): void {
    this.#schedule(key, initialDelayMs, delayMs, false)
  }
  cancelTimer(key: unknown): void {
    const t = this.#timerOf(key)
    if (t === undefined) return
    this.#removeTimer(t)
    t.task?.cancel()
  }
  isTimerActive(key: unknown): boolean {
    return this.#timerOf(key) !== undefined
  }

  #rareFields(): Rare {
    return (this.#rare ??= new Rare())
  }

  #timerOf(key: unknown): Timer | undefined {
    const t0 = this.#timer0
    // keys compare as a Map compares them (SameValueZero)
    if (t0 !== undefined && (t0.key === key || (t0.key !== t0.key && key !== key))) return t0
    return this.#rare?.timers?.get(key)
  }
  #removeTimer(t: Timer): void {
    if (this.#timer0 === t) this.#timer0 = undefined
    else this.#rare?.timers?.delete(t.key)
  }

  #schedule(key: unknown, delay: number, interval: number, fixedRate: boolean): void {
    this.cancelTimer(key)
    const sched = interpreterOf(this).materializer.scheduler
    const timer: Timer = { key, interval, fixedRate, deadline: sched.now() + delay, task: undefined }
    // cancelTimer above removed any timer of this key: it is in neither place
    if (this.#timer0 === undefined) this.#timer0 = timer
    else (this.#rareFields().timers ??= new Map()).set(key, timer)
    timer.task = sched.scheduleOnce(delay, () => this._invokeExternal(this.#fire, timer))
  }

  /** Runs as an outside event of this stage (called with this stage as `this`). */
  #fire(timer: Timer): void {
    if (this.#timerOf(timer.key) !== timer) return // cancelled or replaced: a stale tick
    if (timer.interval === 0) this.#removeTimer(timer)
    else {
      const sched = interpreterOf(this).materializer.scheduler
      const now = sched.now()
      timer.deadline = timer.fixedRate ? timer.deadline + timer.interval : now + timer.interval
      timer.task = sched.scheduleOnce(Math.max(0, timer.deadline - now), () => this._invokeExternal(this.#fire, timer))
    }
    this.onTimer(timer.key)
  }

  // ---- lifecycle (called by the interpreter) ----

  /** @internal */
  _start(): void {
    this.preStart()
    this._cell.started = true
    const early = this.#rare?.early
    if (early !== undefined) {
      this.#rare!.early = undefined
      for (const [h, a] of early) this._cell.it!.enqueueExternal(this, h, a)
    }
  }

  /** @internal */
  _stop(): void {
    const t0 = this.#timer0
    if (t0 !== undefined) {
      this.#timer0 = undefined
      t0.task?.cancel()
    }
    const timers = this.#rare?.timers
    if (timers !== undefined) {
      for (const t of timers.values()) t.task?.cancel()
      timers.clear()
    }
    const fb = this.#rare?.feedback
    if (fb !== undefined && fb.size > 0) {
      const err = new StreamDetachedError(`${this.toString()} stopped before the callback ran`)
      for (const reject of fb) reject(err)
      fb.clear()
    }
    try {
      this.postStop()
    } finally {
      const rare = this.#rare
      const hooks = rare?.stopHooks
      if (rare !== undefined) rare.stopHooks = undefined
      if (hooks !== undefined) for (const h of hooks) h()
    }
  }

  /** @internal Run `hook` once, right after this stage's `postStop` (used by sub-stream ports). */
  _onStop(hook: () => void): void {
    const rare = this.#rareFields()
    if (rare.stopHooks === undefined) rare.stopHooks = [hook] // most stages get one: no room for more
    else rare.stopHooks.push(hook)
  }

  /** Number of active timers (for leak checks). */
  get activeTimers(): number {
    return (this.#timer0 === undefined ? 0 : 1) + (this.#rare?.timers?.size ?? 0)
  }

  toString(): string {
    return this._name || this.constructor.name
  }
}

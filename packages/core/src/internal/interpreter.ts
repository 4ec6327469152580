/**
 * The fused interpreter: runs many stage logics of one island in a single loop.
 *
 * Each edge between two stages is a {@link Connection} whose `state` is a small bit set; a
 * pull or push flips bits and enqueues the connection in a ring buffer, and the loop delivers
 * the event to the owning stage's handler. No promise and no closure is allocated per element.
 * The encoding follows the proven design of Akka/Pekko's GraphInterpreter:
 *
 *   InReady   downstream may pull          Pulling  a pull is on its way upstream
 *   OutReady  upstream may push            Pushing  an element is on its way downstream
 *   InClosed  downstream cancelled         OutClosed upstream completed (InFailed: with failure)
 *
 * A connection is in the queue at most once, so the ring never holds more entries than there are
 * connections. Each slice first delivers the outside events that were already waiting, then runs
 * internal events (and more outside events whenever the internal queue is empty). As an optimisation (Akka calls it chasing), a push or pull whose target stage is
 * not running a handler right now is delivered at once, without the queue; a stage is never
 * re-entered, and nesting is bounded by MAX_DIRECT_DEPTH. Events from outside the island (async callbacks, timers) wait in a second queue
 * and are delivered when the internal queue is empty. Every call to {@link execute} processes at
 * most a given number of events, then returns so that the executor can yield to the event loop.
 */
import type { GraphStageLogic, InHandler, OutHandler, StageCell } from '../stage/GraphStageLogic.js'
import type { Materializer } from './materializer.js'

export const InReady = 1
export const Pulling = 2
export const Pushing = 4
export const OutReady = 8
export const InClosed = 16
export const OutClosed = 32
export const InFailed = 64
export const PullStartFlip = InReady | Pulling
export const PullEndFlip = Pulling | OutReady
export const PushStartFlip = Pushing | OutReady
export const PushEndFlip = InReady | Pushing
/** A pull or push delivered at once (no queue): InReady ⇄ OutReady. */
export const DirectFlip = InReady | OutReady
/** How deep direct deliveries may nest before events go through the queue again. */
export const MAX_DIRECT_DEPTH = 24

/** The slot of a connection holding no element. */
export const EMPTY: unique symbol = Symbol('weir.empty')

/** Slot content after `fail`: the failure, plus an element pushed just before it (or EMPTY). */
export class Failed {
  constructor(readonly error: unknown, readonly previous: unknown) {}
}
/** Slot content after `cancel`, until the upstream stage has seen it. */
export class Cancelled {
  constructor(readonly cause: unknown) {}
}

export class Connection {
  state = InReady
  slot: unknown = EMPTY
  /** The owners' cells (see StageCell): what the interpreter reads per event, in objects of one class. */
  readonly inCell: StageCell
  readonly outCell: StageCell
  /**
   * The handlers' `onPush` and `onPull`, read once per handler: the interpreter calls them for
   * handlers of many classes, where reading the method from the handler at every event would be a
   * megamorphic load.
   */
  onPush: (this: InHandler) => void
  onPull: (this: OutHandler) => void
  constructor(
    inOwner: GraphStageLogic,
    /** Set with `setInHandler` (it keeps `onPush` in step). */
    public inHandler: InHandler,
    outOwner: GraphStageLogic,
    public outHandler: OutHandler,
  ) {
    this.inCell = inOwner._cell
    this.outCell = outOwner._cell
    this.onPush = inHandler.onPush
    this.onPull = outHandler.onPull
  }
  setInHandler(h: InHandler): void {
    this.inHandler = h
    this.onPush = h.onPush
  }
  setOutHandler(h: OutHandler): void {
    this.outHandler = h
    this.onPull = h.onPull
  }
}


/** The ring of an island that has not queued two events yet (never written to). */
const NO_QUEUE: (Connection | undefined)[] = []

/** Starts stages added to a running island: an outside event of the first of them (see `attach`). */
let START_ATTACHED: (this: GraphStageLogic, logics: readonly GraphStageLogic[]) => void

export class GraphInterpreter {
  /** This island's stages (trimmed to its length at the start: a thousand idle islands keep no slack). */
  logics: GraphStageLogic[] = []
  /** Connections made before the start: they size the queue. */
  #connections = 0
  /** The ring of queued events past `#q0`, made on first use (many islands never queue two events). */
  #queue: (Connection | undefined)[] = NO_QUEUE
  #mask = 7
  #head = 0
  #tail = 0
  /** The oldest queued event, when it came to an empty queue (the ring holds the newer ones): see `#xLogic`. */
  #q0: Connection | undefined = undefined
  /**
   * Outside events, three slots each (logic, handler, argument) in `#external[#externalHead…#externalTail)`:
   * no object per event, and the array is reused (never shortened) so a busy island does not reallocate it.
   */
  #external: unknown[] = []
  #externalHead = 0
  #externalTail = 0
  /**
   * The oldest outside event, when it came to an empty queue: kept in fields (the array holds only
   * the newer ones), so the common case — one event wakes an idle island, e.g. an element for one
   * of thousands of subscribers — touches no array.
   */
  #xLogic: GraphStageLogic | undefined = undefined
  #xHandler: ((arg: any) => void) | undefined = undefined
  #xArg: unknown = undefined
  #started = false
  #running = false
  #runningStages = 0
  /** The stage whose handler is running (or last ran). */
  activeStage: GraphStageLogic | null = null
  /** Nesting of direct deliveries; MAX_DIRECT_DEPTH disables them (e.g. while stages start). */
  depth = MAX_DIRECT_DEPTH
  /** Work done inside handlers beyond one event (e.g. a fused source polling a batch), in events. */
  #charged = 0
  /** This island's sub-fusing materializer, made on first use (see `GraphStageLogic.subFusingMaterializer`). */
  subFusing: Materializer | undefined = undefined
  /** Set by the executor while this interpreter sits in its ready queue. */
  scheduled = false
  /** @internal its index among the materializer's running islands (see SlotSet) */
  _slot = -1
  finished = false

  constructor(readonly materializer: Materializer) {}

  addLogic(logic: GraphStageLogic): void {
    logic._stageId = this.logics.length
    logic._cell.it = this
    this.logics.push(logic)
  }

  /**
   * Sub-fusing: adds `logics` (already given to {@link addLogic} and connected) to this island
   * while it runs. They start in one outside event of this island — never inside the handler
   * that added them — and leave the island's stage list when they stop, so a long-lived island
   * that runs many short sub-graphs does not grow. Only for a started island that has not finished.
   */
  attach(logics: readonly GraphStageLogic[]): void {
    if (logics.length === 0) return
    this.#runningStages += logics.length
    for (const s of logics) {
      s._cell.portsOpen = s.shape.inlets.length + s.shape.outlets.length
      s._attached = true
    }
    this.enqueueExternal(logics[0]!, START_ATTACHED, logics)
    // the list keeps no slack while it is small (a connection's island lives as long as the connection)
    if (this.logics.length <= 32) this.logics = this.logics.slice()
  }

  static {
    START_ATTACHED = function (this: GraphStageLogic, logics: readonly GraphStageLogic[]): void {
      this._cell.it!.#startAttached(logics)
    }
  }

  #startAttached(logics: readonly GraphStageLogic[]): void {
    const depth = this.depth
    const active = this.activeStage
    // as in #start: no direct delivery while stages start (a stage must not see an event before its preStart)
    this.depth = MAX_DIRECT_DEPTH
    for (const s of logics) if (!s._cell.finalized) this.#startStage(s)
    this.depth = depth
    this.activeStage = active
  }

  /** Runs `s`'s preStart as its first handler (a failure fails the stage); a stage left with no port stops. */
  #startStage(s: GraphStageLogic): void {
    this.activeStage = s
    s._cell.idle = false
    try {
      s._start()
    } catch (e) {
      this.#reportStageError(e)
    }
    s._cell.idle = true
    if (s._cell.portsOpen === 0 && !s._cell.keepGoing && !s._cell.finalized) this.#finalizeStage(s)
  }

  /** Whether stages added now must be started with {@link attach} (the island already started). */
  get started(): boolean {
    return this.#started
  }

  connect(out: GraphStageLogic, outIndex: number, inl: GraphStageLogic, inIndex: number): Connection {
    const outlet = out.shape.outlets[outIndex]!
    const inlet = inl.shape.inlets[inIndex]!
    const c = new Connection(inl, inl._inHandler(inIndex)!, out, out._outHandler(outIndex)!)
    if (c.inHandler === undefined) throw new Error(`No handler set for inlet ${inlet.name}`)
    if (c.outHandler === undefined) throw new Error(`No handler set for outlet ${outlet.name}`)
    inl._setInConn(inIndex, c)
    out._setOutConn(outIndex, c)
    // connections made after the start (sub-fusing) are not counted: the count only sizes the queue at the start
    if (!this.#started) this.#connections++
    return c
  }

  get isRunning(): boolean {
    return this.#running
  }

  hasPendingWork(): boolean {
    return !this.#started || this.#q0 !== undefined || this.#head !== this.#tail || this.#xLogic !== undefined || this.#externalHead < this.#externalTail
  }

  enqueue(c: Connection): void {
    if (this.#q0 === undefined && this.#head === this.#tail) {
      this.#q0 = c
      return
    }
    if (this.#queue === NO_QUEUE) this.#queue = new Array(this.#mask + 1)
    this.#queue[this.#tail] = c
    this.#tail = (this.#tail + 1) & this.#mask
    if (this.#tail === this.#head) this.#grow()
  }

  #grow(): void {
    const old = this.#queue
    const size = old.length
    const q: (Connection | undefined)[] = new Array(size * 2)
    for (let i = 0; i < size; i++) q[i] = old[(this.#head + i) & this.#mask]
    this.#queue = q
    this.#head = 0
    this.#tail = size
    this.#mask = size * 2 - 1
  }

  /** Account for `events` worth of work done by the running handler (it counts against the slice). */
  charge(events: number): void {
    this.#charged += events
  }

  /** Queue an event from outside the island; the executor runs the island when it is idle. */
  enqueueExternal(logic: GraphStageLogic, handler: (arg: any) => void, arg: unknown): void {
    if (this.finished) return
    if (this.#xLogic === undefined && this.#externalHead === this.#externalTail) {
      this.#xLogic = logic
      this.#xHandler = handler
      this.#xArg = arg
    } else {
      let ext = this.#external
      const t = this.#externalTail
      // two events at once is the common crowd: room for them, not the 17 slots a first write would make
      if (ext.length === 0) this.#external = ext = new Array(6)
      ext[t] = logic
      ext[t + 1] = handler
      ext[t + 2] = arg
      this.#externalTail = t + 3
    }
    if (!this.#running) this.materializer.executor.schedule(this)
  }


  /**
   * An outside event for `s` raised by a stage of this island while it runs: delivered at once
   * when `s` is idle (not running a handler, started, nesting allowed), like a direct push;
   * queued as an outside event otherwise.
   */
  deliverNow(s: GraphStageLogic, handler: (arg: any) => void, arg: unknown): void {
    if (!this.tryDeliverNow(s, handler, arg, s)) this.enqueueExternal(s, handler, arg)
  }

  /**
   * The direct part of {@link deliverNow}: runs `handler` on `self` as a handler of `s` (whose
   * failure it is if it throws) and answers true; answers false, doing nothing, when `s` is not idle.
   */
  tryDeliverNow(s: GraphStageLogic, handler: (arg: any) => void, arg: unknown, self: unknown): boolean {
    const cell = s._cell
    if (!cell.idle || this.depth >= MAX_DIRECT_DEPTH || !cell.started) return false
    const prev = this.activeStage
    this.activeStage = s
    cell.idle = false
    this.depth++
    try {
      handler.call(self, arg)
    } catch (e) {
      this.#reportStageError(e)
    }
    cell.idle = true
    this.depth--
    if (cell.portsOpen === 0 && !cell.keepGoing && !cell.finalized) this.#finalizeStage(s)
    this.activeStage = prev
    return true
  }

  /** Run at most `eventLimit` events; returns how many were run. */
  execute(eventLimit: number): number {
    if (this.finished) return 0
    this.#running = true
    let remaining = eventLimit
    try {
      if (!this.#started) this.#start()
      this.depth = 0
      while (remaining > 0) {
        try {
          remaining = this.#loop(remaining)
          break
        } catch (e) {
          this.#reportStageError(e)
          remaining--
        }
      }
    } finally {
      this.#running = false
      this.activeStage = null
      this.depth = MAX_DIRECT_DEPTH
    }
    return eventLimit - remaining
  }

  /**
   * Runs `callback` once after the island's current run — when the executor has run a small
   * batch of islands, or ends its turn (see `Executor.afterRun`). Outside a run: in a microtask.
   */
  afterRun(callback: (arg: unknown) => void, arg?: unknown): void {
    if (this.#running) this.materializer.executor.afterRun(callback, arg)
    else queueMicrotask(() => callback(arg))
  }

  #loop(limit: number): number {
    let remaining = limit
    // outside events that arrived before this slice go first, so that a busy island (whose
    // internal queue never empties) still hears kill switches, timers and callbacks
    let early = (this.#externalTail - this.#externalHead) / 3 + (this.#xLogic === undefined ? 0 : 1)
    while (remaining > 0) {
      if (early > 0 || (this.#q0 === undefined && this.#head === this.#tail)) {
        if (this.#xLogic === undefined && this.#externalHead === this.#externalTail) break
        early--
        if (this.#charged !== 0) {
          remaining -= this.#charged
          this.#charged = 0
          if (remaining <= 0) break
        }
        let s: GraphStageLogic
        let handler: (arg: unknown) => void
        let arg: unknown
        if (this.#xLogic !== undefined) {
          s = this.#xLogic
          handler = this.#xHandler!
          arg = this.#xArg
          this.#xLogic = this.#xHandler = this.#xArg = undefined
        } else {
          const ext = this.#external
          const h = this.#externalHead
          s = ext[h] as GraphStageLogic
          handler = ext[h + 1] as (arg: unknown) => void
          arg = ext[h + 2]
          ext[h] = ext[h + 1] = ext[h + 2] = undefined
          this.#externalHead = h + 3
          if (this.#externalHead === this.#externalTail) this.#externalHead = this.#externalTail = 0
        }
        const cell = s._cell
        if (!cell.finalized) {
          this.activeStage = s
          cell.idle = false
          handler.call(s, arg)
          cell.idle = true
          if (cell.portsOpen === 0 && !cell.keepGoing && !cell.finalized) this.#finalizeStage(s)
        }
      } else {
        let c = this.#q0
        if (c !== undefined) this.#q0 = undefined
        else {
          c = this.#queue[this.#head]!
          this.#queue[this.#head] = undefined
          this.#head = (this.#head + 1) & this.#mask
        }
        const cell = this.#processEvent(c)
        if (cell.portsOpen === 0 && !cell.keepGoing && !cell.finalized) this.#finalizeStage(cell.logic)
      }
      remaining--
    }
    return remaining
  }

  /** Runs the event of `c`; answers the cell of the stage that ran it. */
  #processEvent(c: Connection): StageCell {
    const code = c.state
    if ((code & (Pushing | InClosed | OutClosed)) === Pushing) {
      const t = c.inCell
      this.activeStage = c.inCell.logic
      c.state = code ^ PushEndFlip
      t.idle = false
      c.onPush.call(c.inHandler)
      t.idle = true
      return t
    }
    if ((code & (Pulling | OutClosed | InClosed)) === Pulling) {
      const t = c.outCell
      this.activeStage = c.outCell.logic
      c.state = code ^ PullEndFlip
      t.idle = false
      c.onPull.call(c.outHandler)
      t.idle = true
      return t
    }
    if ((code & (OutClosed | InClosed)) === InClosed) {
      // cancellation travelling upstream
      const owner = c.outCell.logic
      const t = c.outCell
      this.activeStage = owner
      c.state = code | OutClosed
      t.portsOpen--
      const cause = (c.slot as Cancelled).cause
      c.slot = EMPTY
      t.idle = false
      if (c.outHandler.onDownstreamFinish) c.outHandler.onDownstreamFinish(cause)
      else owner.cancelStage(cause)
      t.idle = true
      return t
    }
    if ((code & (OutClosed | InClosed)) !== OutClosed) return this.activeStage!._cell // both sides closed: nothing to deliver
    const owner = c.inCell.logic
    const t = c.inCell
    this.activeStage = owner
    if ((code & Pushing) === 0) {
      // completion or failure travelling downstream (no element pending)
      c.state = code | InClosed
      t.portsOpen--
      t.idle = false
      if ((code & InFailed) === 0) {
        if (c.inHandler.onUpstreamFinish) c.inHandler.onUpstreamFinish()
        else owner.completeStage()
      } else {
        const err = (c.slot as Failed).error
        if (c.inHandler.onUpstreamFailure) c.inHandler.onUpstreamFailure(err)
        else owner.failStage(err)
      }
      t.idle = true
    } else {
      // an element was pushed just before completion: deliver it first
      c.state = code ^ PushEndFlip
      this.enqueue(c)
      t.idle = false
      c.onPush.call(c.inHandler)
      t.idle = true
    }
    return t
  }

  /**
   * Deliver a push (`push: true`) or a pull to the stage of cell `t` now; the caller already
   * flipped the state with DirectFlip. An error thrown by its handler fails it, not the caller.
   */
  direct(c: Connection, t: StageCell, push: boolean): void {
    const prev = this.activeStage
    this.activeStage = t.logic
    t.idle = false
    this.depth++
    try {
      if (push) c.onPush.call(c.inHandler)
      else c.onPull.call(c.outHandler)
    } catch (e) {
      this.#reportStageError(e)
    }
    t.idle = true
    this.depth--
    if (t.portsOpen === 0 && !t.keepGoing && !t.finalized) this.#finalizeStage(t.logic)
    this.activeStage = prev
  }

  #start(): void {
    this.#started = true
    const size = Math.max(8, 1 << Math.ceil(Math.log2(this.#connections + 2)))
    if (size > this.#mask + 1) {
      this.#queue = NO_QUEUE // nothing is queued before the start
      this.#mask = size - 1
    }
    this.logics = this.logics.slice()
    this.#runningStages = this.logics.length
    for (const s of this.logics) {
      s._cell.portsOpen = s.shape.inlets.length + s.shape.outlets.length
    }
    for (const s of this.logics) this.#startStage(s)
  }

  #reportStageError(e: unknown): void {
    const s = this.activeStage
    if (s === null) throw e
    s._cell.idle = true
    if (!s._cell.finalized) {
      try {
        s.failStage(e)
      } catch (again) {
        this.materializer.logger.error(`stage ${s.toString()} failed while failing`, again)
      }
      if (s._cell.portsOpen === 0 && !s._cell.keepGoing && !s._cell.finalized) this.#finalizeStage(s)
    }
  }

  /** Called when a stage has closed all its ports (or gave up keep-going): runs its postStop. */
  finalizeStage(s: GraphStageLogic): void {
    if (!s._cell.finalized) this.#finalizeStage(s)
  }

  #finalizeStage(s: GraphStageLogic): void {
    s._cell.finalized = true
    this.#runningStages--
    if (s._attached) {
      // a sub-fused stage leaves the list (swap-remove), so the island does not grow with each sub-graph
      const last = this.logics.pop()!
      if (last !== s) {
        this.logics[s._stageId] = last
        last._stageId = s._stageId
      }
    }
    try {
      s._stop()
    } catch (e) {
      this.materializer.logger.error(`postStop of ${s.toString()} failed`, e)
    }
    if (this.#runningStages === 0) this.#finish()
  }

  #finish(): void {
    this.finished = true
    this.#external = []
    this.#externalHead = this.#externalTail = 0
    this.#xLogic = this.#xHandler = this.#xArg = undefined
    this.materializer._islandFinished(this)
  }

  /** Stop every stage now (materializer shutdown): fail outlets, cancel inlets, run postStop. */
  abort(error: unknown): void {
    if (this.finished) return
    if (!this.#started) {
      this.#started = true
      this.#runningStages = this.logics.length
    }
    for (const s of [...this.logics]) {
      if (s._cell.finalized) continue
      this.activeStage = s
      try {
        s.failStage(error)
      } catch {
        // failing is best effort during abort
      }
      this.#finalizeStage(s)
    }
    this.activeStage = null
  }

  toString(): string {
    return `GraphInterpreter(${this.logics.map((l) => l.toString()).join(', ')})`
  }
}

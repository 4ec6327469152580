/**
 * Operator fusion (micro-fusion): chains of simple synchronous operators run inside ONE stage
 * logic as plain function calls, instead of one stage each with an interpreter event per hop.
 *
 * A *fusable* operator (`FusableStage`) supplies an {@link Op}: one element in, at most one out,
 * synchronously (map, filter, collect, fold, take …). A *synchronous source* (`SyncSourceStage`)
 * supplies a {@link SyncSource} that can be polled (range, arrays, iterables, repeat …). At
 * materialization, consecutive fusable nodes joined by synchronous edges become one logic:
 *
 *   range → map → filter → fold → (sink)   ⇒   [range·map·filter·fold] → (sink)
 *
 * A chain headed by a sync source may also end in a *sync sink* (`SyncSinkStage`, e.g. the
 * sending side of an async boundary): then the whole chain is one port-less pump loop.
 *
 * Semantics are those of the separate stages: an element enters the chain only when downstream
 * demanded one (an op returning {@link SKIP} asks upstream for the next element on the same
 * demand, exactly as a filter pulls again); each op keeps its own attributes and supervision; an
 * op that is satisfied (take) ends the chain — upstream is cancelled with "no more elements
 * needed" and the ops after it see completion (a fold after a take still emits its result). A
 * fused source polls in bounded batches and yields to other work between batches.
 * The materializer setting `operatorFusion: false` turns fusion off (each operator then runs as
 * a one-op chain in its own stage).
 */
import { AbruptTerminationError, NoMoreElementsNeeded } from '../errors.js'
import { Attributes, type Decider } from './Attributes.js'
import { GraphStage } from './GraphStage.js'
import { GraphStageLogic, type AsyncCallback } from './GraphStageLogic.js'
import { FlowShape, Inlet, type Outlet, Shape, SinkShape, SourceShape } from './ports.js'
import { decide, LinearStage, SourceStage } from './linear.js'

/** Returned by an op (or a sync source's filter) for "no output for this input". */
export const SKIP: unique symbol = Symbol('weir.skip')
export type Skip = typeof SKIP
/** Returned by a sync source when it has no more elements. */
export const DONE: unique symbol = Symbol('weir.done')
export type Done = typeof DONE

/** One step of a composed chain: an element in, the chain's output (or SKIP) out. */
export type Step = (x: any) => unknown

/** Thrown through a composed chain when an op's decider says `stop`; the fused logic fails with `error`. */
class ChainStop {
  constructor(readonly error: unknown) {}
}

/** One fusable operator, created per materialization with the operator's own attributes. */
export abstract class Op<In, Out> {
  /** Set by the op when it needs no more input (e.g. `take` after n elements). */
  done = false
  constructor(readonly decider: Decider) {}
  /** The output for `x`, or SKIP. */
  abstract onElement(x: In): Out | Skip
  /** Upstream completed: a last element, or SKIP. */
  onFinish(): Out | Skip {
    return SKIP
  }
  /** Reset state after a `restart` supervision directive. */
  restart(): void {}

  /**
   * This op as a step in front of `next`. Ops on the hot path override it with a closure that
   * calls their user function directly (so the JIT can inline the whole chain); an op that sets
   * `done` must call `end()` after handing its element on.
   */
  compose(next: Step, end: () => void): Step {
    return (x) => {
      let y: Out | Skip
      try {
        y = this.onElement(x as In)
      } catch (e) {
        return this.fail(e)
      }
      const r = y === SKIP ? SKIP : next(y)
      if (this.done) end()
      return r
    }
  }

  /** Supervision of an error thrown by this op's user function: SKIP the element, or stop the chain. */
  protected fail(error: unknown): Skip {
    const d = decide(this.decider, error)
    if (d === 'stop') throw new ChainStop(error)
    if (d === 'restart') this.restart()
    return SKIP
  }
}

const identityStep: Step = (x) => x

/** Returned by a sync source that has no element right now but will call its `wake` when it has. */
export const PENDING: unique symbol = Symbol('weir.pending')
export type Pending = typeof PENDING

/** A source that is polled synchronously. */
export interface SyncSource<T> {
  /** The next element, DONE, or PENDING (only for sources that were given a `wake` in `start`). Throw to fail. */
  next(): T | Done | Pending
  /** True when the next `next()` would return DONE or throw (lets the chain end right after its last element). */
  exhausted?(): boolean
  /** Called once before the first `next`, with a function to call when a PENDING source has elements again. */
  start?(wake: () => void): void
  /** Release resources when downstream cancels before DONE. */
  close?(cause: unknown): void
}

/** An operator that can run inside a fused chain. */
export abstract class FusableStage<In, Out> extends LinearStage<In, Out> {
  abstract createOp(attributes: Attributes): Op<In, Out>
  createLogic(attributes: Attributes): GraphStageLogic {
    return new FusedFlowLogic(this.shape, [this.createOp(attributes)], attributes.name ?? this.name)
  }
}

/** A source that can head a fused chain. */
export abstract class SyncSourceStage<Out> extends SourceStage<Out> {
  abstract createSource(): SyncSource<Out>
  createLogic(attributes: Attributes): GraphStageLogic {
    return new FusedSourceLogic(this.shape, this.createSource(), [], attributes.name ?? this.name)
  }
}

/** A sink that takes elements synchronously while it has room (e.g. the sending side of an async boundary). */
export interface SyncSink<T> {
  /** Room for at least one more element now? */
  hasRoom(): boolean
  /** Take one element (only called when `hasRoom()`). */
  offer(x: T): void
  /**
   * Called once before the first offer: `wake` when there is room again after `hasRoom()` was
   * false, `cancel` when the sink needs no more elements.
   */
  start(wake: () => void, cancel: (cause: unknown) => void): void
  complete(): void
  fail(error: unknown): void
}

/** A sink that can end a fused chain headed by a sync source. */
export abstract class SyncSinkStage<In> extends GraphStage<SinkShape<In>> {
  readonly shape: SinkShape<In>
  readonly #attributes: Attributes
  constructor(readonly name: string) {
    super()
    this.shape = new SinkShape(new Inlet<In>(`${name}.in`))
    this.#attributes = Attributes.named(name)
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  abstract createSink(): SyncSink<In>
  createLogic(): GraphStageLogic {
    return new SyncSinkLogic(this.shape, this.createSink())
  }
}

/** Runs a SyncSink behind an ordinary inlet (when its upstream is not fused with it). */
class SyncSinkLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  constructor(
    shape: SinkShape<T>,
    readonly sink: SyncSink<T>,
  ) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
    const wake = this.getAsyncCallback(() => {
      if (this.sink.hasRoom()) this.tryPull(this.in)
    })
    const cancel = this.getAsyncCallback((cause: unknown) => this.cancelStage(cause))
    sink.start(
      () => wake.invoke(),
      (cause) => cancel.invoke(cause),
    )
  }
  override preStart(): void {
    if (this.sink.hasRoom()) this.pull(this.in)
  }
  onPush(): void {
    this.sink.offer(this.grab(this.in))
    if (this.sink.hasRoom()) this.pull(this.in)
  }
  onUpstreamFinish(): void {
    this.sink.complete()
    this.completeStage()
  }
  onUpstreamFailure(e: unknown): void {
    this.sink.fail(e)
    this.failStage(e)
  }
}

/** Elements a fused source may poll in one handler call without emitting before it yields. */
const POLL_BATCH = 1024

const NOT_RUNNING: unique symbol = Symbol('weir.chain-ended')

abstract class FusedLogic extends GraphStageLogic {
  readonly out: Outlet<unknown> | undefined
  readonly #step: Step
  /** Index of the first op that ended the chain while an element went through, or -1. */
  #doneAt = -1
  #ended = false
  constructor(
    shape: Shape,
    readonly ops: readonly Op<any, any>[],
  ) {
    super(shape)
    this.out = shape.outlets[0]
    let step = identityStep
    for (let i = ops.length - 1; i >= 0; i--) {
      const index = i
      step = ops[i]!.compose(step, () => {
        if (this.#doneAt < 0 || index < this.#doneAt) this.#doneAt = index
      })
    }
    this.#step = step
  }

  /** Stop taking input: cancel the inlet or close the source. */
  protected abstract stopUpstream(): void

  override preStart(): void {
    const ops = this.ops
    for (let i = 0; i < ops.length; i++) {
      if (ops[i]!.done) return this.endAt(i, [])
    }
  }

  /**
   * Run `x` through the ops: the value to push, SKIP (ask upstream again), or NOT_RUNNING when
   * the chain ended (failed, or an op finished and the tail is being emitted).
   */
  protected runChain(x: unknown): unknown {
    let y: unknown
    try {
      y = this.#step(x)
    } catch (e) {
      if (!(e instanceof ChainStop)) throw e
      this.abort(e.error)
      return NOT_RUNNING
    }
    if (this.#doneAt < 0) return y
    this.endAt(this.#doneAt, y === SKIP ? [] : [y])
    return NOT_RUNNING
  }

  /** Op `i` is satisfied; `output` already went through the whole chain: stop upstream and finish the ops after it. */
  protected endAt(i: number, output: unknown[]): void {
    this.stopUpstream()
    this.finishFrom(i + 1, [], output)
  }

  /**
   * Upstream is over for ops[start..]: feed them `pending`, then their completion, and emit
   * `output` (elements that already went through the chain) followed by the tail.
   */
  protected finishFrom(start: number, pending: unknown[], output: unknown[] = []): void {
    if (this.#ended) return
    this.#ended = true
    const ops = this.ops
    for (let j = start; j < ops.length; j++) {
      const op = ops[j]!
      const next: unknown[] = []
      for (const x of pending) {
        if (op.done) break
        let y: unknown
        try {
          y = op.onElement(x)
        } catch (e) {
          const d = decide(op.decider, e)
          if (d === 'stop') return this.abort(e)
          if (d === 'restart') op.restart()
          continue
        }
        if (y !== SKIP) next.push(y)
      }
      let last: unknown
      try {
        last = op.onFinish()
      } catch (e) {
        return this.abort(e)
      }
      if (last !== SKIP) next.push(last)
      pending = next
    }
    this.emitTail(output.length === 0 ? pending : output.concat(pending))
  }

  /** The chain failed. */
  protected abort(error: unknown): void {
    this.failStage(error)
  }

  /** The chain is over: emit its last elements, then complete. */
  protected emitTail(pending: unknown[]): void {
    if (pending.length === 0) this.completeStage()
    else this.emitMultiple(this.out!, pending, () => this.completeStage())
  }

  protected get ended(): boolean {
    return this.#ended
  }

  /** Set once a polled source is finished, failed or closed (so it is closed only once). */
  protected sourceClosed = false

  /**
   * Poll `src` once and run the element through the chain: the element to deliver, SKIP (poll
   * again), or NOT_RUNNING (stop polling: the source is pending, or the chain ended or failed).
   */
  protected pollOnce(src: SyncSource<unknown>): unknown {
    let x: unknown
    try {
      x = src.next()
    } catch (e) {
      this.sourceClosed = true
      this.abort(e)
      return NOT_RUNNING
    }
    if (x === DONE) {
      this.sourceClosed = true
      this.finishFrom(0, [])
      return NOT_RUNNING
    }
    if (x === PENDING) return NOT_RUNNING
    return this.ops.length === 0 ? x : this.runChain(x)
  }
}

export class FusedFlowLogic extends FusedLogic {
  readonly in: Inlet<unknown>
  constructor(shape: FlowShape<any, any>, ops: readonly Op<any, any>[], name: string) {
    super(shape, ops)
    this.in = shape.in
    this._name = name
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }
  onPull(): void {
    this.pull(this.in)
  }
  onPush(): void {
    const y = this.runChain(this.grab(this.in))
    if (y === SKIP) this.pull(this.in)
    else if (y !== NOT_RUNNING) this.push(this.out!, y)
  }
  onUpstreamFinish(): void {
    this.finishFrom(0, [])
  }
  protected stopUpstream(): void {
    this.cancel(this.in, NoMoreElementsNeeded)
  }
}

export class FusedSourceLogic extends FusedLogic {
  readonly #resume: AsyncCallback<void>
  constructor(
    shape: SourceShape<any>,
    readonly source: SyncSource<unknown>,
    ops: readonly Op<any, any>[],
    name: string,
  ) {
    super(shape, ops)
    this._name = name
    this.setHandler(shape.out, this)
    this.#resume = this.getAsyncCallback(() => {
      if (this.ended) return
      if (this.isAvailable(this.out!)) this.onPull()
      // completion and failure need no demand: a woken source that is over is finished now
      else if (this.source.exhausted?.() === true) this.pollOnce(this.source)
    })
  }
  override preStart(): void {
    this.source.start?.(() => this.#resume.invoke())
    super.preStart()
    // an exhausted source ends the chain at once: polling it yields DONE (or throws its failure)
    if (!this.ended && this.source.exhausted?.() === true) this.pollOnce(this.source)
  }
  onPull(): void {
    const src = this.source
    for (let budget = POLL_BATCH; budget > 0; budget--) {
      const y = this.pollOnce(src)
      if (y === NOT_RUNNING) return
      if (y !== SKIP) {
        this.push(this.out!, y)
        if (src.exhausted?.() === true) this.pollOnce(src)
        return
      }
    }
    // a batch polled without output: let other work run, then continue on the same demand
    this._interpreter!.charge(POLL_BATCH)
    this.#resume.invoke()
  }
  onDownstreamFinish(cause: unknown): void {
    this.#close(cause)
    this.cancelStage(cause)
  }
  protected stopUpstream(): void {
    this.#close(NoMoreElementsNeeded)
  }
  /** A failing chain cancels its source with the failure, as a failing stage cancels its inlets. */
  protected override abort(error: unknown): void {
    this.#close(error)
    this.failStage(error)
  }
  #close(cause: unknown): void {
    if (this.sourceClosed) return
    this.sourceClosed = true
    this.source.close?.(cause)
  }
  override postStop(): void {
    if (!this.sourceClosed) this.#close(new AbruptTerminationError(this.toString()))
  }
}

/**
 * A whole chain from a sync source through ops into a sync sink: no ports, no events per
 * element — a loop that polls while the sink has room, bounded per turn like a fused source.
 */
class FusedPumpLogic extends FusedLogic {
  readonly #resume: AsyncCallback<void>
  readonly #cancel: AsyncCallback<unknown>
  #tail: unknown[] | undefined = undefined
  constructor(
    readonly source: SyncSource<unknown>,
    ops: readonly Op<any, any>[],
    readonly sink: SyncSink<unknown>,
    name: string,
  ) {
    super(new Shape([], []), ops)
    this._name = name
    this.#resume = this.getAsyncCallback(() => this.#run())
    this.#cancel = this.getAsyncCallback((cause: unknown) => {
      this.#close(cause)
      this.setKeepGoing(false)
    })
  }
  override preStart(): void {
    this.setKeepGoing(true)
    const resume = (): void => {
      this.#resume.invoke()
    }
    this.source.start?.(resume)
    this.sink.start(resume, (cause) => this.#cancel.invoke(cause))
    super.preStart()
    if (!this.ended) this.#resume.invoke()
  }
  #run(): void {
    const { source, sink } = this
    if (this.#tail !== undefined) return this.#drainTail()
    if (this.ended) return
    for (let budget = POLL_BATCH; budget > 0; budget--) {
      if (!sink.hasRoom()) return
      const y = this.pollOnce(source)
      if (y === NOT_RUNNING) return
      if (y !== SKIP) sink.offer(y)
    }
    this._interpreter!.charge(POLL_BATCH)
    this.#resume.invoke()
  }
  protected override emitTail(pending: unknown[]): void {
    this.#tail = pending
    this.#drainTail()
  }
  #drainTail(): void {
    const tail = this.#tail!
    while (tail.length > 0 && this.sink.hasRoom()) this.sink.offer(tail.shift())
    if (tail.length > 0) return
    this.sink.complete()
    this.setKeepGoing(false)
  }
  protected override abort(error: unknown): void {
    this.#close(error)
    this.sink.fail(error)
    this.setKeepGoing(false)
  }
  protected stopUpstream(): void {
    this.#close(NoMoreElementsNeeded)
  }
  #close(cause: unknown): void {
    if (this.sourceClosed) return
    this.sourceClosed = true
    this.source.close?.(cause)
  }
  override postStop(): void {
    if (!this.sourceClosed) {
      const e = new AbruptTerminationError(this.toString())
      this.#close(e)
      this.sink.fail(e)
    }
  }
}

/** How a stage can take part in a fused chain, if at all. */
export function fusableKind(stage: unknown): 'source' | 'op' | 'sink' | undefined {
  if (stage instanceof FusableStage) return 'op'
  if (stage instanceof SyncSourceStage) return 'source'
  if (stage instanceof SyncSinkStage) return 'sink'
  return undefined
}

/** One logic for a chain of fusable stages (head first), each op with its own attributes. */
export function fuseChain(stages: readonly unknown[], attributes: readonly Attributes[]): GraphStageLogic {
  const head = stages[0]
  const last = stages[stages.length - 1] as LinearStage<any, any> | SourceStage<any> | SyncSinkStage<any>
  const name = stages.map((s, i) => attributes[i]!.name ?? String(s)).join('·')
  const ops: Op<any, any>[] = []
  const first = head instanceof SyncSourceStage ? 1 : 0
  const end = last instanceof SyncSinkStage ? stages.length - 1 : stages.length
  for (let i = first; i < end; i++) ops.push((stages[i] as FusableStage<any, any>).createOp(attributes[i]!))
  if (last instanceof SyncSinkStage) {
    return new FusedPumpLogic((head as SyncSourceStage<any>).createSource(), ops, last.createSink(), name)
  }
  if (head instanceof SyncSourceStage) {
    return new FusedSourceLogic(new SourceShape((last as LinearStage<any, any>).shape.out), head.createSource(), ops, name)
  }
  return new FusedFlowLogic(new FlowShape((head as FusableStage<any, any>).shape.in, (last as LinearStage<any, any>).shape.out), ops, name)
}

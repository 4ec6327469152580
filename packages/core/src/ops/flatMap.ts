/**
 * Flattening operators: flatMapConcat and flatMapMerge (one stage, `FlattenStage`, with a breadth)
 * and switchMap.
 *
 * Shared contract: each upstream element becomes an inner Source through `f` — supervised: `stop`
 * fails the stream, `resume`/`restart` drop the element. An inner source is materialized on the
 * stage's own materializer and read through a {@link SubSinkInlet}, one element ahead: it is pulled
 * once when it starts and again each time its element was emitted. (flatMapConcat/flatMapMerge
 * emit the elements of `Source.single`, `Source.from(array)` and `Source.empty` directly, without
 * running them: same elements, same order, far cheaper.) Nothing is pushed downstream
 * without demand. An inner failure fails the stage, an upstream failure fails it at once. Every
 * inner still running when the stage ends is cancelled with the cause of that end: downstream's
 * cancellation cause, or the failure.
 */
import { InvalidArgumentError, NonFailureCancellation } from '../errors.js'
import type { Source } from '../Source.js'
import type { Attributes, Decider } from '../stage/Attributes.js'
import { GraphStageLogic, type InHandler, type OutHandler } from '../stage/GraphStageLogic.js'
import { decide, LinearStage } from '../stage/linear.js'
import { EmptySource, IterableSource } from '../sources/basic.js'
import type { FlowShape, Inlet, Outlet } from '../stage/ports.js'
import { SubSinkInlet, type SubSinkInletHandler } from '../stage/substreams.js'
import { SlotSet, type Slotted } from '../internal/SlotSet.js'

/** The cancellation cause `switchMap` gives the inner source it leaves for a newer one (not a failure). */
export const SourceSwitched: NonFailureCancellation = new NonFailureCancellation('switched-to-next-source')

/** The logics below, as seen by their inner sources. */
interface InnerOwner<T> {
  _innerPushed(inner: Inner<T>): void
  _innerFinished(inner: Inner<T>): void
  _innerFailed(inner: Inner<T>, error: unknown): void
}

/** One running inner source: its sub-inlet, forwarding the sub-inlet's events to the owning logic. */
class Inner<T> implements SubSinkInletHandler, Slotted {
  /** @internal its index among its logic's running inners */
  _slot = -1
  readonly port: SubSinkInlet<T>
  constructor(
    readonly owner: InnerOwner<T> & GraphStageLogic,
    name: string,
  ) {
    this.port = new SubSinkInlet<T>(owner, name)
    this.port.setHandler(this)
  }
  onPush(): void {
    this.owner._innerPushed(this)
  }
  onUpstreamFinish(): void {
    this.owner._innerFinished(this)
  }
  onUpstreamFailure(error: unknown): void {
    this.owner._innerFailed(this, error)
  }
}

/** Materialize `source` into `inner`'s sub-sink and ask for its first element; the error, if materialization threw. */
function startInner<T>(source: Source<T, any>, inner: Inner<T>, logic: GraphStageLogic): unknown {
  try {
    source.to(inner.port.sink).run(logic.materializer)
  } catch (e) {
    return e
  }
  inner.port.pull()
  return undefined
}

/** An inner source whose elements are known without running it: emitted directly, one per demand. */
class StaticInner<T> {
  i = 0
  constructor(readonly elems: readonly T[]) {}
}

const NO_ELEMENTS: readonly never[] = []

/** The elements of a plain `Source.single`, `Source.from(array)` or `Source.empty` (nothing else: those must run). */
function staticElements<T>(source: Source<T, any>): readonly T[] | undefined {
  const m = source.module
  if (m.nodes.length !== 1 || m.mat.t !== 'atom') return undefined // a mapped materialized value has effects: run it
  const stage = m.nodes[0]!.stage
  if (stage instanceof IterableSource && Array.isArray(stage.iterable)) return stage.iterable as readonly T[]
  if (stage instanceof EmptySource) return NO_ELEMENTS
  return undefined
}

/** A FIFO that grows (the merge breadth may be unbounded). */
class Queue<T> {
  #items: (T | undefined)[] = []
  #head = 0
  get isEmpty(): boolean {
    return this.#head === this.#items.length
  }
  push(x: T): void {
    this.#items.push(x)
  }
  shift(): T {
    const x = this.#items[this.#head]!
    this.#items[this.#head++] = undefined
    if (this.#head === this.#items.length) {
      this.#items.length = 0
      this.#head = 0
    }
    return x
  }
}

// ================================================================================================
// flatMapConcat / flatMapMerge
// ================================================================================================

/**
 * Up to `breadth` inners run at once. Upstream is first pulled on downstream's first demand, then
 * whenever fewer than `breadth` inners run; inners whose element waits for demand queue in FIFO
 * order, so with breadth 1 the output is each inner's elements in turn.
 */
class FlattenLogic<In, T> extends GraphStageLogic implements InHandler, OutHandler, InnerOwner<T> {
  readonly in: Inlet<In>
  readonly out: Outlet<T>
  readonly decider: Decider
  /**
   * A long merge runs inners by the thousand, each reaching its sub-stream: in a `Set` they were
   * promoted to the old generation with it (see SlotSet; the owner's set of sub-ports in
   * substreams.ts did the same). The order only decides which inner is cancelled first when the
   * stage ends.
   */
  readonly #inners = new SlotSet<Inner<T>>()
  /** Inners with an element ready for demand, in arrival order. */
  readonly #ready = new Queue<Inner<T> | StaticInner<T>>()
  /** Static inners with elements left. */
  #statics = 0
  #started = false

  constructor(
    shape: FlowShape<In, T>,
    attributes: Attributes,
    readonly stage: FlattenStage<In, T>,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.decider = attributes.decider
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }

  onPull(): void {
    if (!this.#started) {
      this.#started = true
      this.tryPull(this.in)
    }
    if (!this.#ready.isEmpty) this.#emit(this.#ready.shift())
  }

  get #active(): number {
    return this.#inners.size + this.#statics
  }

  onPush(): void {
    const x = this.grab(this.in)
    let source: Source<T, any>
    try {
      source = this.stage.f(x)
    } catch (e) {
      if (decide(this.decider, e) === 'stop') return this.#failAll(e)
      return this.#pullIfRoom()
    }
    const elems = staticElements(source)
    if (elems !== undefined) {
      if (elems.length > 0) {
        this.#statics++
        const inner = new StaticInner(elems)
        if (this.isAvailable(this.out)) this.#emit(inner)
        else this.#ready.push(inner)
      }
      return this.#pullIfRoom()
    }
    const inner = new Inner<T>(this, `${this.toString()}.inner`)
    this.#inners.add(inner)
    const error = startInner(source, inner, this)
    if (error !== undefined) return this.#failAll(error)
    this.#pullIfRoom()
  }

  onUpstreamFinish(): void {
    if (this.#active === 0) this.completeStage()
  }

  onUpstreamFailure(error: unknown): void {
    this.#failAll(error)
  }

  onDownstreamFinish(cause: unknown): void {
    for (const inner of this.#inners) inner.port.cancel(cause)
    this.#inners.clear()
    this.cancelStage(cause)
  }

  _innerPushed(inner: Inner<T>): void {
    if (this.isAvailable(this.out)) {
      this.push(this.out, inner.port.grab())
      inner.port.pull()
    } else this.#ready.push(inner)
  }

  _innerFinished(inner: Inner<T>): void {
    // an element still waiting for demand is emitted first; the inner is removed then
    if (!inner.port.isAvailable) this.#remove(inner)
  }

  _innerFailed(inner: Inner<T>, error: unknown): void {
    this.#inners.delete(inner)
    this.#failAll(error)
  }

  #emit(inner: Inner<T> | StaticInner<T>): void {
    if (inner instanceof StaticInner) {
      this.push(this.out, inner.elems[inner.i++]!)
      if (inner.i < inner.elems.length) this.#ready.push(inner) // behind the others: merging stays fair
      else {
        this.#statics--
        this.#removed()
      }
    } else {
      this.push(this.out, inner.port.grab())
      if (inner.port.isClosed) this.#remove(inner)
      else inner.port.pull()
    }
  }

  #remove(inner: Inner<T>): void {
    this.#inners.delete(inner)
    this.#removed()
  }

  #removed(): void {
    if (this.isClosed(this.in)) {
      if (this.#active === 0) this.completeStage()
    } else this.#pullIfRoom()
  }

  #pullIfRoom(): void {
    if (this.#started && this.#active < this.stage.breadth) this.tryPull(this.in)
  }

  #failAll(error: unknown): void {
    for (const inner of this.#inners) inner.port.cancel(error)
    this.#inners.clear()
    this.failStage(error)
  }
}

/** flatMapConcat (breadth 1) and flatMapMerge (breadth n, or Infinity for sub-flows merged without a limit). */
export class FlattenStage<In, T> extends LinearStage<In, T> {
  constructor(
    readonly breadth: number,
    readonly f: (x: In) => Source<T, any>,
    name: string = breadth === 1 ? 'flatMapConcat' : 'flatMapMerge',
  ) {
    super(name)
    if (!(breadth >= 1) || (Number.isFinite(breadth) && !Number.isInteger(breadth))) {
      throw new InvalidArgumentError('breadth', breadth, 'a positive integer or Infinity')
    }
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new FlattenLogic<In, T>(this.shape, attributes, this)
  }
}

// ================================================================================================
// switchMap
// ================================================================================================

/**
 * Upstream is pulled at start and again after each element (never backpressured): each element
 * cancels the current inner (cause {@link SourceSwitched}, dropping an element of it that was
 * waiting for demand) and starts the next one.
 */
class SwitchMapLogic<In, T> extends GraphStageLogic implements InHandler, OutHandler, InnerOwner<T> {
  readonly in: Inlet<In>
  readonly out: Outlet<T>
  readonly decider: Decider
  #current: Inner<T> | undefined = undefined

  constructor(
    shape: FlowShape<In, T>,
    attributes: Attributes,
    readonly f: (x: In) => Source<T, any>,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.decider = attributes.decider
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }

  override preStart(): void {
    this.pull(this.in)
  }

  onPush(): void {
    const x = this.grab(this.in)
    let source: Source<T, any>
    try {
      source = this.f(x)
    } catch (e) {
      if (decide(this.decider, e) === 'stop') return this.#fail(e)
      return this.pull(this.in)
    }
    this.#current?.port.cancel(SourceSwitched)
    const inner = new Inner<T>(this, `${this.toString()}.inner`)
    this.#current = inner
    const error = startInner(source, inner, this)
    if (error !== undefined) return this.#fail(error)
    this.pull(this.in)
  }

  onPull(): void {
    const inner = this.#current
    if (inner !== undefined && inner.port.isAvailable) this.#emit(inner)
  }

  onUpstreamFinish(): void {
    if (this.#current === undefined) this.completeStage()
  }

  onUpstreamFailure(error: unknown): void {
    this.#fail(error)
  }

  onDownstreamFinish(cause: unknown): void {
    this.#current?.port.cancel(cause)
    this.#current = undefined
    this.cancelStage(cause)
  }

  _innerPushed(inner: Inner<T>): void {
    if (this.isAvailable(this.out)) this.#emit(inner)
  }

  _innerFinished(inner: Inner<T>): void {
    if (!inner.port.isAvailable) this.#finished()
  }

  _innerFailed(_inner: Inner<T>, error: unknown): void {
    this.#current = undefined
    this.#fail(error)
  }

  #emit(inner: Inner<T>): void {
    this.push(this.out, inner.port.grab())
    if (inner.port.isClosed) this.#finished()
    else inner.port.pull()
  }

  #finished(): void {
    this.#current = undefined
    if (this.isClosed(this.in)) this.completeStage()
  }

  #fail(error: unknown): void {
    this.#current?.port.cancel(error)
    this.#current = undefined
    this.failStage(error)
  }
}

export class SwitchMapStage<In, T> extends LinearStage<In, T> {
  constructor(readonly f: (x: In) => Source<T, any>) {
    super('switchMap')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new SwitchMapLogic<In, T>(this.shape, attributes, this.f)
  }
}

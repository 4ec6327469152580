/**
 * Element-wise operators: map, mapConcat, filter, collect, statefulMap, zipWithIndex.
 *
 * Shared contract: one element in, zero or more out, in order. They pull only when downstream
 * pulled (no element is pushed without demand), complete when upstream completes (after
 * emitting what is pending), cancel when downstream cancels. A user function that throws is
 * handled by the supervision decider: `stop` fails the stream, `resume` drops the element,
 * `restart` drops it and resets any state.
 *
 * Logic classes are defined once per module (never per materialization) so that the
 * interpreter's call sites stay monomorphic per operator.
 */
import { Attributes, type Decider } from '../stage/Attributes.js'
import { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape, Inlet, Outlet } from '../stage/ports.js'
import { decide, LinearStage } from '../stage/linear.js'

/** A one-in/one-out logic that pulls on pull and applies supervision to user-function errors. */
export abstract class SupervisedLogic<In, Out> extends GraphStageLogic {
  readonly in: Inlet<In>
  readonly out: Outlet<Out>
  readonly decider: Decider
  constructor(shape: FlowShape<In, Out>, attributes: Attributes) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.decider = attributes.decider
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }
  abstract onPush(): void
  onPull(): void {
    this.pull(this.in)
  }
  /** Apply supervision to an error thrown by the user function. */
  protected supervise(e: unknown): void {
    const d = decide(this.decider, e)
    if (d === 'stop') this.failStage(e)
    else {
      if (d === 'restart') this.restart()
      if (!this.hasBeenPulled(this.in) && !this.isClosed(this.in)) this.pull(this.in)
    }
  }
  protected restart(): void {}
}

class MapLogic<In, Out> extends SupervisedLogic<In, Out> {
  constructor(shape: FlowShape<In, Out>, attributes: Attributes, readonly f: (x: In) => Out) {
    super(shape, attributes)
  }
  onPush(): void {
    let y: Out
    try {
      y = this.f(this.grab(this.in))
    } catch (e) {
      return this.supervise(e)
    }
    this.push(this.out, y)
  }
}

export class MapStage<In, Out> extends LinearStage<In, Out> {
  constructor(readonly f: (x: In) => Out) {
    super('map')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new MapLogic(this.shape, attributes, this.f)
  }
}

class FilterLogic<T> extends SupervisedLogic<T, T> {
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly p: (x: T) => boolean) {
    super(shape, attributes)
  }
  onPush(): void {
    const x = this.grab(this.in)
    let ok: boolean
    try {
      ok = this.p(x)
    } catch (e) {
      return this.supervise(e)
    }
    if (ok) this.push(this.out, x)
    else this.pull(this.in)
  }
}

export class FilterStage<T> extends LinearStage<T, T> {
  constructor(readonly p: (x: T) => boolean, name = 'filter') {
    super(name)
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new FilterLogic(this.shape, attributes, this.p)
  }
}

class CollectLogic<In, Out> extends SupervisedLogic<In, Out> {
  constructor(shape: FlowShape<In, Out>, attributes: Attributes, readonly f: (x: In) => Out | undefined) {
    super(shape, attributes)
  }
  onPush(): void {
    let y: Out | undefined
    try {
      y = this.f(this.grab(this.in))
    } catch (e) {
      return this.supervise(e)
    }
    if (y !== undefined) this.push(this.out, y)
    else this.pull(this.in)
  }
}

export class CollectStage<In, Out> extends LinearStage<In, Out> {
  constructor(readonly f: (x: In) => Out | undefined) {
    super('collect')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new CollectLogic(this.shape, attributes, this.f)
  }
}

class MapConcatLogic<In, Out> extends SupervisedLogic<In, Out> {
  #it: Iterator<Out> | undefined = undefined
  #next: IteratorResult<Out> | undefined = undefined
  constructor(shape: FlowShape<In, Out>, attributes: Attributes, readonly f: (x: In) => Iterable<Out>) {
    super(shape, attributes)
  }
  onPush(): void {
    try {
      this.#it = this.f(this.grab(this.in))[Symbol.iterator]()
      this.#advance()
    } catch (e) {
      this.#it = undefined
      this.#next = undefined
      return this.supervise(e)
    }
    this.#emitOne()
  }
  override onPull(): void {
    if (this.#next !== undefined) this.#emitOne()
    else this.pull(this.in)
  }
  onUpstreamFinish(): void {
    if (this.#next === undefined) this.completeStage()
  }
  #advance(): void {
    const r = this.#it!.next()
    if (r.done) {
      this.#it = undefined
      this.#next = undefined
    } else this.#next = r
  }
  #emitOne(): void {
    if (this.#next === undefined) {
      if (this.isClosed(this.in)) this.completeStage()
      else this.pull(this.in)
      return
    }
    this.push(this.out, this.#next.value)
    try {
      this.#advance()
    } catch (e) {
      this.#it = undefined
      this.#next = undefined
      if (decide(this.decider, e) === 'stop') return this.failStage(e)
    }
    if (this.#next === undefined && this.isClosed(this.in)) this.completeStage()
  }
}

export class MapConcatStage<In, Out> extends LinearStage<In, Out> {
  constructor(readonly f: (x: In) => Iterable<Out>) {
    super('mapConcat')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new MapConcatLogic(this.shape, attributes, this.f)
  }
}

class StatefulMapLogic<S, In, Out> extends SupervisedLogic<In, Out> {
  #state: S
  constructor(shape: FlowShape<In, Out>, attributes: Attributes, readonly stage: StatefulMapStage<S, In, Out>) {
    super(shape, attributes)
    this.#state = stage.create()
  }
  onPush(): void {
    let r: readonly [S, Out]
    try {
      r = this.stage.f(this.#state, this.grab(this.in))
    } catch (e) {
      return this.supervise(e)
    }
    this.#state = r[0]
    this.push(this.out, r[1])
  }
  protected override restart(): void {
    this.#state = this.stage.create()
  }
  onUpstreamFinish(): void {
    const last = this.stage.onComplete(this.#state)
    if (last !== undefined) this.emit(this.out, last)
    this.completeStage()
  }
}

export class StatefulMapStage<S, In, Out> extends LinearStage<In, Out> {
  constructor(
    readonly create: () => S,
    readonly f: (state: S, x: In) => readonly [S, Out],
    readonly onComplete: (state: S) => Out | undefined,
  ) {
    super('statefulMap')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new StatefulMapLogic(this.shape, attributes, this)
  }
}

class ZipWithIndexLogic<T> extends SupervisedLogic<T, [T, number]> {
  #i = 0
  onPush(): void {
    this.push(this.out, [this.grab(this.in), this.#i++])
  }
}

export class ZipWithIndexStage<T> extends LinearStage<T, [T, number]> {
  constructor() {
    super('zipWithIndex')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new ZipWithIndexLogic(this.shape, attributes)
  }
}

const identityFn = <T>(x: T): T => x
const IDENTITY_ATTRIBUTES = Attributes.named('identity')

/** A pass-through stage, used where a graph needs a real node for the identity flow. */
export class IdentityStage<T> extends MapStage<T, T> {
  constructor() {
    super(identityFn)
  }
  override get initialAttributes(): Attributes {
    return IDENTITY_ATTRIBUTES
  }
}

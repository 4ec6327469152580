/**
 * Element-wise operators: map, filter, filterNot, collect, statefulMap, zipWithIndex (fusable),
 * and mapConcat.
 *
 * Shared contract: one element in, zero or more out, in order. Elements are requested from
 * upstream only on downstream demand (no element is pushed without demand); they complete when
 * upstream completes (after emitting what is pending) and cancel when downstream cancels. A user
 * function that throws is handled by the supervision decider: `stop` fails the stream, `resume`
 * drops the element, `restart` drops it and resets any state.
 */
import { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { FusableStage, Op, SKIP, type Skip, type Step } from '../stage/fusion.js'
import { decide, LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

export { SupervisedLogic }

class MapOp<In, Out> extends Op<In, Out> {
  constructor(attributes: Attributes, readonly f: (x: In) => Out) {
    super(attributes.decider)
  }
  onElement(x: In): Out {
    return this.f(x)
  }
  override compose(next: Step): Step {
    const f = this.f
    return (x) => {
      let y: Out
      try {
        y = f(x as In)
      } catch (e) {
        return this.fail(e)
      }
      return next(y)
    }
  }
}

export class MapStage<In, Out> extends FusableStage<In, Out> {
  constructor(readonly f: (x: In) => Out) {
    super('map')
  }
  createOp(attributes: Attributes): Op<In, Out> {
    return new MapOp(attributes, this.f)
  }
}

class FilterOp<T> extends Op<T, T> {
  constructor(attributes: Attributes, readonly p: (x: T) => boolean, readonly keep: boolean) {
    super(attributes.decider)
  }
  onElement(x: T): T | Skip {
    return this.p(x) === this.keep ? x : SKIP
  }
  override compose(next: Step): Step {
    const { p, keep } = this
    return (x) => {
      let ok: boolean
      try {
        ok = p(x as T)
      } catch (e) {
        return this.fail(e)
      }
      return ok === keep ? next(x) : SKIP
    }
  }
}

export class FilterStage<T> extends FusableStage<T, T> {
  /** `keep: false` makes it filterNot. */
  constructor(readonly p: (x: T) => boolean, readonly keep = true) {
    super(keep ? 'filter' : 'filterNot')
  }
  createOp(attributes: Attributes): Op<T, T> {
    return new FilterOp(attributes, this.p, this.keep)
  }
}

class CollectOp<In, Out> extends Op<In, Out> {
  constructor(attributes: Attributes, readonly f: (x: In) => Out | undefined) {
    super(attributes.decider)
  }
  onElement(x: In): Out | Skip {
    const y = this.f(x)
    return y === undefined ? SKIP : y
  }
  override compose(next: Step): Step {
    const f = this.f
    return (x) => {
      let y: Out | undefined
      try {
        y = f(x as In)
      } catch (e) {
        return this.fail(e)
      }
      return y === undefined ? SKIP : next(y)
    }
  }
}

export class CollectStage<In, Out> extends FusableStage<In, Out> {
  constructor(readonly f: (x: In) => Out | undefined) {
    super('collect')
  }
  createOp(attributes: Attributes): Op<In, Out> {
    return new CollectOp(attributes, this.f)
  }
}

class StatefulMapOp<S, In, Out> extends Op<In, Out> {
  #state: S
  constructor(attributes: Attributes, readonly stage: StatefulMapStage<S, In, Out>) {
    super(attributes.decider)
    this.#state = stage.create()
  }
  onElement(x: In): Out {
    const [s, y] = this.stage.f(this.#state, x)
    this.#state = s
    return y
  }
  override onFinish(): Out | Skip {
    const last = this.stage.onComplete(this.#state)
    return last === undefined ? SKIP : last
  }
  override restart(): void {
    this.#state = this.stage.create()
  }
}

export class StatefulMapStage<S, In, Out> extends FusableStage<In, Out> {
  constructor(
    readonly create: () => S,
    readonly f: (state: S, x: In) => readonly [S, Out],
    readonly onComplete: (state: S) => Out | undefined,
  ) {
    super('statefulMap')
  }
  createOp(attributes: Attributes): Op<In, Out> {
    return new StatefulMapOp(attributes, this)
  }
}

class ZipWithIndexOp<T> extends Op<T, [T, number]> {
  #i = 0
  onElement(x: T): [T, number] {
    return [x, this.#i++]
  }
}

export class ZipWithIndexStage<T> extends FusableStage<T, [T, number]> {
  constructor() {
    super('zipWithIndex')
  }
  createOp(attributes: Attributes): Op<T, [T, number]> {
    return new ZipWithIndexOp<T>(attributes.decider)
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

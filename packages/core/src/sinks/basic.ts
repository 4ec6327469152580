/**
 * Terminal sinks whose materialized value is a promise of the stream's outcome: seq, head,
 * headOption, last, lastOption, foreach, fold, reduce, ignore, cancelled, onComplete.
 *
 * Shared contract: they request elements one at a time (or cancel at once: `cancelled`, or after
 * the first element: `head`), settle the promise when upstream completes or fails, and reject it
 * with an abrupt-termination error if the stream is torn down first (settled in `postStop`).
 */
import * as O from 'fp-ts/lib/Option.js'
import { AbruptTerminationError, EmptyStreamError, NoMoreElementsNeeded } from '../errors.js'
import { deferred, type Deferred } from '../internal/deferred.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import { GraphStageLogic } from '../stage/GraphStageLogic.js'
import { Inlet, SinkShape } from '../stage/ports.js'
import { decide } from '../stage/linear.js'

/** What a sink does with each element and at the end; `step` returns false to stop early. */
interface SinkBehaviour<In, R> {
  onElement(x: In): boolean
  onFinish(): R
}

/** A sink built from a behaviour factory; the factory runs once per materialization. */
export class PromiseSink<In, R> extends GraphStageWithMaterializedValue<SinkShape<In>, Promise<R>> {
  readonly shape: SinkShape<In>
  readonly #attributes: Attributes
  constructor(
    readonly name: string,
    readonly behaviour: (attributes: Attributes) => SinkBehaviour<In, R>,
  ) {
    super()
    this.shape = new SinkShape(new Inlet<In>(`${name}.in`))
    this.#attributes = Attributes.named(name)
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  createLogicAndMaterializedValue(attributes: Attributes): readonly [GraphStageLogic, Promise<R>] {
    const d: Deferred<R> = deferred()
    return [new PromiseSinkLogic(this.shape, this.name, this.behaviour(attributes), d), d.promise]
  }
}

class PromiseSinkLogic<In, R> extends GraphStageLogic {
  readonly in: Inlet<In>
  constructor(
    shape: SinkShape<In>,
    readonly name: string,
    readonly b: SinkBehaviour<In, R>,
    readonly d: Deferred<R>,
  ) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
  }
  override preStart(): void {
    this.pull(this.in)
  }
  onPush(): void {
    let more: boolean
    try {
      more = this.b.onElement(this.grab(this.in))
    } catch (e) {
      this.d.reject(e)
      return this.failStage(e)
    }
    if (more) this.pull(this.in)
    else this.#finish(true)
  }
  onUpstreamFinish(): void {
    this.#finish(false)
  }
  #finish(early: boolean): void {
    try {
      this.d.resolve(this.b.onFinish())
    } catch (e) {
      this.d.reject(e)
    }
    if (early) this.cancel(this.in, NoMoreElementsNeeded)
    this.completeStage()
  }
  onUpstreamFailure(e: unknown): void {
    this.d.reject(e)
    this.failStage(e)
  }
  override postStop(): void {
    if (!this.d.settled) this.d.reject(new AbruptTerminationError(this.name))
  }
}

const NOTHING: unique symbol = Symbol('nothing')

export const sinks = {
  seq: <T>() =>
    new PromiseSink<T, T[]>('seq', () => {
      const xs: T[] = []
      return { onElement: (x) => (xs.push(x), true), onFinish: () => xs }
    }),
  head: <T>() =>
    new PromiseSink<T, T>('head', () => {
      let v: T | typeof NOTHING = NOTHING
      return {
        onElement: (x) => ((v = x), false),
        onFinish: () => {
          if (v === NOTHING) throw new EmptyStreamError('Sink.head')
          return v
        },
      }
    }),
  headOption: <T>() =>
    new PromiseSink<T, O.Option<T>>('headOption', () => {
      let v: O.Option<T> = O.none
      return { onElement: (x) => ((v = O.some(x)), false), onFinish: () => v }
    }),
  last: <T>() =>
    new PromiseSink<T, T>('last', () => {
      let v: T | typeof NOTHING = NOTHING
      return {
        onElement: (x) => ((v = x), true),
        onFinish: () => {
          if (v === NOTHING) throw new EmptyStreamError('Sink.last')
          return v
        },
      }
    }),
  lastOption: <T>() =>
    new PromiseSink<T, O.Option<T>>('lastOption', () => {
      let v: O.Option<T> = O.none
      return { onElement: (x) => ((v = O.some(x)), true), onFinish: () => v }
    }),
  ignore: <T>() => new PromiseSink<T, void>('ignore', () => ({ onElement: () => true, onFinish: () => undefined })),
  foreach: <T>(f: (x: T) => void) =>
    new PromiseSink<T, void>('foreach', (attrs) => ({
      onElement: (x) => {
        try {
          f(x)
        } catch (e) {
          if (decide(attrs.decider, e) === 'stop') throw e
        }
        return true
      },
      onFinish: () => undefined,
    })),
  fold: <T, S>(zero: S, f: (acc: S, x: T) => S) =>
    new PromiseSink<T, S>('fold', (attrs) => {
      let acc = zero
      return {
        onElement: (x) => {
          try {
            acc = f(acc, x)
          } catch (e) {
            const d = decide(attrs.decider, e)
            if (d === 'stop') throw e
            if (d === 'restart') acc = zero
          }
          return true
        },
        onFinish: () => acc,
      }
    }),
  reduce: <T>(f: (acc: T, x: T) => T) =>
    new PromiseSink<T, T>('reduce', () => {
      let acc: T | typeof NOTHING = NOTHING
      return {
        onElement: (x) => ((acc = acc === NOTHING ? x : f(acc, x)), true),
        onFinish: () => {
          if (acc === NOTHING) throw new EmptyStreamError('Sink.reduce')
          return acc
        },
      }
    }),
}

/** Cancels its upstream at once; the promise resolves when it did. */
export class CancelledSink<T> extends GraphStageWithMaterializedValue<SinkShape<T>, undefined> {
  readonly shape = new SinkShape(new Inlet<T>('cancelled.in'))
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, undefined] {
    return [new CancelledLogic(this.shape), undefined]
  }
}

class CancelledLogic<T> extends GraphStageLogic {
  constructor(readonly sinkShape: SinkShape<T>) {
    super(sinkShape)
    this.setHandler(sinkShape.in, this)
  }
  onPush(): void {}
  override preStart(): void {
    this.cancel(this.sinkShape.in, NoMoreElementsNeeded)
  }
}

/**
 * GraphStage: the immutable blueprint half of a stage. It names its ports in a shape and, each
 * time it is materialized, creates a fresh {@link GraphStageLogic} holding all mutable state, so
 * one stage can be materialized any number of times.
 *
 * Define the logic class once at module level (never a class expression inside `createLogic`:
 * a new class per materialization defeats the JIT).
 *
 * @example A user-written stage that passes on every n-th element
 * ```ts
 * class EveryNthLogic<T> extends GraphStageLogic {
 *   #seen = 0
 *   constructor(readonly s: FlowShape<T, T>, readonly n: number) {
 *     super(s)
 *     this.setHandlers(s.in, s.out, this)
 *   }
 *   onPush() {
 *     const x = this.grab(this.s.in)
 *     if (++this.#seen % this.n === 0) this.push(this.s.out, x)
 *     else this.pull(this.s.in)
 *   }
 *   onPull() {
 *     this.pull(this.s.in)
 *   }
 * }
 *
 * class EveryNth<T> extends GraphStage<FlowShape<T, T>> {
 *   readonly shape = new FlowShape(new Inlet<T>('EveryNth.in'), new Outlet<T>('EveryNth.out'))
 *   constructor(readonly n: number) {
 *     super()
 *   }
 *   createLogic() {
 *     return new EveryNthLogic(this.shape, this.n)
 *   }
 * }
 *
 * await Source.range(1, 10).via(Flow.fromGraph(new EveryNth<number>(3))).runWith(Sink.seq()) // [3, 6, 9]
 * ```
 */
import type { Graph, MatMarker } from '../graph/Graph.js'
import type { Materializer } from '../internal/materializer.js'
import { Module } from '../internal/module.js'
import { Attributes } from './Attributes.js'
import type { GraphStageLogic } from './GraphStageLogic.js'
import type { Shape } from './ports.js'

/** The materialized value of stages that have none worth returning. */
export type NotUsed = undefined
export const NotUsed: NotUsed = undefined

export abstract class GraphStageWithMaterializedValue<S extends Shape, M> implements Graph<S, M> {
  abstract readonly shape: S
  /** Type-level only: the materialized value (see {@link Graph}). */
  declare readonly _mat: MatMarker<M>
  /** @internal this stage alone, as a blueprint module (a stage is an atomic {@link Graph}). */
  toModule(): Module {
    return Module.atomic(this)
  }
  /** Attributes of the stage itself (e.g. its name); enclosing attributes apply where these are silent. */
  get initialAttributes(): Attributes {
    return Attributes.none
  }
  abstract createLogicAndMaterializedValue(attributes: Attributes, materializer: Materializer): readonly [GraphStageLogic, M]
  toString(): string {
    return this.initialAttributes.name ?? this.constructor.name
  }
}

export abstract class GraphStage<S extends Shape> extends GraphStageWithMaterializedValue<S, NotUsed> {
  abstract createLogic(attributes: Attributes, materializer: Materializer): GraphStageLogic
  createLogicAndMaterializedValue(attributes: Attributes, materializer: Materializer): readonly [GraphStageLogic, NotUsed] {
    return [this.createLogic(attributes, materializer), undefined]
  }
}

/** Any stage, whatever its shape and materialized value. */
export type AnyStage = GraphStageWithMaterializedValue<Shape, any>

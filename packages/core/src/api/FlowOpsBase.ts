/**
 * The root of the operator families: the blueprint plumbing every operator uses (`wrap`, `andThen`,
 * `viaModule`) and composition (`via`, `viaMat`, `async`, attributes).
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import type { Flow } from '../Flow.js'
import { Module } from '../internal/module.js'
import { Keep } from '../Keep.js'
import type { Source } from '../Source.js'
import { Attributes, type Decider } from '../stage/Attributes.js'
import type { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import type { FlowShape } from '../stage/ports.js'
import type { SubFlowOf } from '../SubFlow.js'

/** The blueprint type an operator returns, per kind of receiver. */
export interface Kinds<In, Out, Mat> {
  source: Source<Out, Mat>
  flow: Flow<In, Out, Mat>
  /** A sub-flow (`groupBy`, `splitWhen`, `splitAfter`): `In` records what it merges back into; it keeps its parent's materialized value. */
  subflow: SubFlowOf<In, Out>
}
export type Kind = keyof Kinds<unknown, unknown, unknown>
export type Repr<K extends Kind, In, Out, Mat> = Kinds<In, Out, Mat>[K]

export abstract class FlowOpsBase<K extends Kind, In, Out, Mat> {
  /** @internal the immutable graph behind this blueprint. */
  abstract readonly module: Module

  /** @internal the module to transform as a whole (a Flow makes its identity module concrete first). */
  protected concrete(): Module {
    return this.module
  }

  /** @internal a blueprint of the same kind around `module`. */
  protected abstract wrap<O2, M2>(module: Module): Repr<K, In, O2, M2>

  /** @internal append a one-in/one-out stage, keeping this blueprint's materialized value. */
  protected andThen<T>(stage: GraphStageWithMaterializedValue<FlowShape<Out, T>, any>): Repr<K, In, T, Mat> {
    return this.viaModule(Module.atomic(stage), Keep.left)
  }

  /** @internal append a flow-shaped module, combining materialized values with `combine`. */
  protected abstract viaModule<T, M2, M3>(module: Module, combine: (l: Mat, r: M2) => M3): Repr<K, In, T, M3>

  // ---- composition ----

  /** Connect this blueprint's output to `flow`, keeping this blueprint's materialized value. */
  via<T, M2>(flow: Flow<Out, T, M2>): Repr<K, In, T, Mat> {
    return this.viaModule(flow.module, Keep.left)
  }
  /** Like `via`, combining both materialized values with `combine` (see `Keep`). */
  viaMat<T, M2, M3>(flow: Flow<Out, T, M2>, combine: (l: Mat, r: M2) => M3): Repr<K, In, T, M3> {
    return this.viaModule(flow.module, combine)
  }
  /** Transform the materialized value. */
  mapMaterializedValue<M2>(f: (m: Mat) => M2): Repr<K, In, Out, M2> {
    return this.wrap(this.concrete().mapMat(f))
  }
  /** Put this blueprint in its own island: an async boundary with a bounded buffer on each side. */
  async(bufferSize?: number): Repr<K, In, Out, Mat> {
    const m = bufferSize === undefined ? this.concrete() : this.concrete().withAttributes(Attributes.inputBuffer(bufferSize, bufferSize))
    return this.wrap(m.async())
  }
  /** Attributes for every stage in this blueprint (a stage's own attributes still win). */
  withAttributes(attributes: Attributes): Repr<K, In, Out, Mat> {
    return this.wrap(this.concrete().withAttributes(attributes))
  }
  /** Name the stages of this blueprint (in logs and errors). */
  named(name: string): Repr<K, In, Out, Mat> {
    return this.wrap(this.concrete().withAttributes(Attributes.named(name)))
  }
  /** Supervision for the user functions of the operators in this blueprint. */
  withSupervision(decider: Decider): Repr<K, In, Out, Mat> {
    return this.wrap(this.concrete().withAttributes(Attributes.supervisionStrategy(decider)))
  }
}

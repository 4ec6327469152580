/**
 * BidiFlow: two flows in opposite directions, `in1 → out1` (outbound) and `in2 → out2`
 * (inbound) — the shape of a protocol layer. Layers stack with `atop` and close over a
 * transport with `join`:
 *
 * ```
 *        +------ codec ------+        +----- framing -----+
 *  in1 ~>|                   |~> ... ~>|                   |~> out1 ──┐
 *        |                   |        |                   |           transport
 * out2 <~|                   |<~ ... <~|                   |<~ in2  <──┘
 *        +-------------------+        +-------------------+
 * ```
 */
import { concreteFlowModule, Flow } from './Flow.js'
import { Keep } from './Keep.js'
import { Module } from './internal/module.js'
import { IdentityStage, MapStage } from './ops/map.js'
import { Attributes } from './stage/Attributes.js'
import type { NotUsed } from './stage/GraphStage.js'
import type { BidiShape } from './stage/ports.js'
import { graphModule, type Graph, type MatMarker } from './graph/Graph.js'
import { bidiShapeOf } from './graph/shapes.js'

export class BidiFlow<I1, O1, I2, O2, Mat = NotUsed> {
  declare readonly _types: [(x: I1) => void, () => O1, (x: I2) => void, () => O2]
  constructor(/** @internal open ports: inlets [in1, in2], outlets [out1, out2] */ readonly module: Module) {}

  /** A bidi flow from any graph of `BidiShape` (inlets [in1, in2], outlets [out1, out2]): a stage, or a graph built with `GraphDSL`. */
  static fromGraph<I1, O1, I2, O2, M>(graph: Graph<BidiShape<I1, O1, I2, O2>, M>): BidiFlow<I1, O1, I2, O2, M> {
    return new BidiFlow(graphModule(graph, 'bidi', 2, 2))
  }
  /** Two independent flows: `outbound` is `in1 → out1`, `inbound` is `in2 → out2`. */
  static fromFlows<I1, O1, I2, O2>(outbound: Flow<I1, O1, any>, inbound: Flow<I2, O2, any>): BidiFlow<I1, O1, I2, O2> {
    return BidiFlow.fromFlowsMat(outbound, inbound, Keep.none)
  }
  static fromFlowsMat<I1, O1, I2, O2, M1, M2, M3>(outbound: Flow<I1, O1, M1>, inbound: Flow<I2, O2, M2>, combine: (l: M1, r: M2) => M3): BidiFlow<I1, O1, I2, O2, M3> {
    return new BidiFlow(Module.juxtapose(concreteFlowModule(outbound.module), concreteFlowModule(inbound.module), combine))
  }
  /** Two functions, one per direction. */
  static fromFunctions<I1, O1, I2, O2>(outbound: (x: I1) => O1, inbound: (x: I2) => O2): BidiFlow<I1, O1, I2, O2> {
    return new BidiFlow(Module.juxtapose(Module.atomic(new MapStage(outbound)), Module.atomic(new MapStage(inbound)), Keep.none))
  }
  /** Pass both directions through unchanged. */
  static identity<A, B>(): BidiFlow<A, A, B, B> {
    return new BidiFlow(Module.juxtapose(Module.atomic(new IdentityStage()), Module.atomic(new IdentityStage()), Keep.none))
  }

  /** Stack `next` below this layer: this layer's out1 feeds next's in1, next's out2 feeds this layer's in2. */
  atop<O1b, I2b, M2>(next: BidiFlow<O1, O1b, I2b, I2, M2>): BidiFlow<I1, O1b, I2b, O2, Mat> {
    return this.atopMat(next, Keep.left)
  }
  atopMat<O1b, I2b, M2, M3>(next: BidiFlow<O1, O1b, I2b, I2, M2>, combine: (l: Mat, r: M2) => M3): BidiFlow<I1, O1b, I2b, O2, M3> {
    const m = Module.juxtapose(this.module, next.module, combine)
    const [aIn1, aIn2, bIn1, bIn2] = m.inlets
    const [aOut1, aOut2, bOut1, bOut2] = m.outlets
    return new BidiFlow(m.connect([[aOut1!, bIn1!], [bOut2!, aIn2!]], [aIn1!, bIn2!], [bOut1!, aOut2!]))
  }
  /** Close the bottom of this layer over `flow` (out1 → flow → in2): the result is `in1 → out2`. */
  join<M2>(flow: Flow<O1, I2, M2>): Flow<I1, O2, Mat> {
    return this.joinMat(flow, Keep.left)
  }
  joinMat<M2, M3>(flow: Flow<O1, I2, M2>, combine: (l: Mat, r: M2) => M3): Flow<I1, O2, M3> {
    const m = Module.juxtapose(this.module, concreteFlowModule(flow.module), combine)
    const [in1, in2, fIn] = m.inlets
    const [out1, out2, fOut] = m.outlets
    return new Flow(m.connect([[out1!, fIn!], [fOut!, in2!]], [in1!], [out2!]))
  }
  /** The same layer seen from the other side. */
  reversed(): BidiFlow<I2, O2, I1, O1, Mat> {
    const [in1, in2] = this.module.inlets
    const [out1, out2] = this.module.outlets
    return new BidiFlow(this.module.withPorts([in2!, in1!], [out2!, out1!]))
  }
  mapMaterializedValue<M2>(f: (m: Mat) => M2): BidiFlow<I1, O1, I2, O2, M2> {
    return new BidiFlow(this.module.mapMat(f))
  }
  withAttributes(attributes: Attributes): BidiFlow<I1, O1, I2, O2, Mat> {
    return new BidiFlow(this.module.withAttributes(attributes))
  }
  named(name: string): BidiFlow<I1, O1, I2, O2, Mat> {
    return this.withAttributes(Attributes.named(name))
  }
  async(): BidiFlow<I1, O1, I2, O2, Mat> {
    return new BidiFlow(this.module.async())
  }

  // ---- as a graph (for GraphDSL's `b.add`) ----
  /** Type-level only: the materialized value (a BidiFlow is a `Graph`). */
  declare readonly _mat: MatMarker<Mat>
  /** The open ports (fresh ports named after its stages' ports). */
  get shape(): BidiShape<I1, O1, I2, O2> {
    return bidiShapeOf(this.module)
  }
  /** @internal */
  toModule(): Module {
    return this.module
  }
}

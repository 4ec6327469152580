/**
 * Flow: a blueprint with one input and one output. `Flow.create<T>()` starts a reusable chain.
 *
 * @example
 * ```ts
 * const double = Flow.create<number>().map((x) => x * 2)
 * await Source.from([1, 2]).via(double).runWith(Sink.seq()) // [2, 4]
 * ```
 */
import { FlowOps } from './FlowOps.js'
import { Keep } from './Keep.js'
import { defaultMaterializer, type Materializer } from './internal/materializer.js'
import { Module } from './internal/module.js'
import { IdentityStage, MapStage } from './ops/map.js'
import { RunnableGraph } from './RunnableGraph.js'
import { Sink } from './Sink.js'
import type { Source } from './Source.js'
import type { NotUsed } from './stage/GraphStage.js'
import type { FlowShape } from './stage/ports.js'
import { DuplexFlow } from './interop/node.js'
import type { Duplex } from 'node:stream'
import { graphModule, type Graph } from './graph/Graph.js'

/** The module of a flow with at least one node (the identity flow becomes an identity stage). */
export function concreteFlowModule(m: Module): Module {
  return m.isIdentity ? Module.atomic(new IdentityStage()) : m
}

export class Flow<In, Out, Mat = NotUsed> extends FlowOps<'flow', In, Out, Mat> {
  declare readonly _in: (x: In) => void
  declare readonly _out: () => Out
  constructor(/** @internal */ readonly module: Module) {
    super()
  }
  protected override concrete(): Module {
    return concreteFlowModule(this.module)
  }
  protected wrap<O2, M2>(module: Module): Flow<In, O2, M2> {
    return new Flow(module)
  }
  protected viaModule<T, M2, M3>(module: Module, combine: (l: Mat, r: M2) => M3): Flow<In, T, M3> {
    return new Flow(Module.linear(this.module, module, combine))
  }

  /** The identity flow: the start of a reusable chain of operators. */
  static create<T>(): Flow<T, T> {
    return new Flow(Module.identity)
  }
  /** A flow from any graph with one open inlet and one open outlet: a stage, or a graph built with `GraphDSL`. */
  static fromGraph<I, O, M>(graph: Graph<FlowShape<I, O>, M>): Flow<I, O, M> {
    return new Flow(graphModule(graph, 'flow', 1, 1))
  }
  /** A flow applying `f` to each element. */
  static fromFunction<I, O>(f: (x: I) => O): Flow<I, O> {
    return Flow.fromGraph(new MapStage(f))
  }
  /** A flow whose input goes into `sink` and whose output comes from `source`; the two are not coupled. */
  static fromSinkAndSource<I, O>(sink: Sink<I, any>, source: Source<O, any>): Flow<I, O> {
    return Flow.fromSinkAndSourceMat(sink, source, Keep.none)
  }
  static fromSinkAndSourceMat<I, O, M1, M2, M3>(sink: Sink<I, M1>, source: Source<O, M2>, combine: (l: M1, r: M2) => M3): Flow<I, O, M3> {
    return new Flow(Module.juxtapose(sink.module, source.module, combine))
  }

  // @@section interop (fromDuplex, …)
  /**
   * A flow through a Node `Duplex` made by `create` per materialization: elements are written into it (only while
   * `write()` returns true, else after 'drain') and what it reads out is emitted (one `read()` per pull).
   * - Emits when: downstream pulls and the Duplex has data to read
   * - Backpressures when: downstream backpressures, or the Duplex's writable side asked to wait for 'drain'
   * - Completes when: the readable side ends (upstream completion ends the writable side: a half-close); fails on 'error'
   * - Cancels when: downstream cancels (the Duplex is destroyed), or the writable side finished by itself
   * @example `Source.from(chunks).via(Flow.fromDuplex(() => createGzip())).runWith(Sink.toWritable(() => createWriteStream(path)))`
   */
  static fromDuplex<I, O>(create: () => Duplex): Flow<I, O> {
    return Flow.fromGraph(new DuplexFlow<I, O>(create))
  }
  // @@end interop

  /** Connect to a sink: the result is a sink that keeps this flow's materialized value. */
  to<M2>(sink: Sink<Out, M2>): Sink<In, Mat> {
    return new Sink(Module.linear(concreteFlowModule(this.module), sink.module, Keep.left))
  }
  toMat<M2, M3>(sink: Sink<Out, M2>, combine: (l: Mat, r: M2) => M3): Sink<In, M3> {
    return new Sink(Module.linear(concreteFlowModule(this.module), sink.module, combine))
  }
  /** Connect this flow's output to `other`'s input and `other`'s output to this flow's input. */
  join<M2>(other: Flow<Out, In, M2>): RunnableGraph<Mat> {
    return this.joinMat(other, Keep.left)
  }
  joinMat<M2, M3>(other: Flow<Out, In, M2>, combine: (l: Mat, r: M2) => M3): RunnableGraph<M3> {
    const m = Module.juxtapose(concreteFlowModule(this.module), concreteFlowModule(other.module), combine)
    const [aIn, bIn] = m.inlets
    const [aOut, bOut] = m.outlets
    return new RunnableGraph(m.connect([[aOut!, bIn!], [bOut!, aIn!]], [], []))
  }
  /** Run `source` through this flow into `sink`; returns both of their materialized values. */
  runWith<M1, M2>(source: Source<In, M1>, sink: Sink<Out, M2>, materializer: Materializer = defaultMaterializer()): [M1, M2] {
    const m = Module.linear(Module.linear(source.module, this.module, Keep.left), sink.module, Keep.both)
    return materializer.materialize<[M1, M2]>(m)
  }
}

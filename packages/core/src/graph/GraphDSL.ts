/**
 * GraphDSL: build a graph with junctions by wiring typed ports.
 *
 * ```
 *   Source.range(1, 3) ──▶ bcast ──▶ map(x + 1) ──▶ merge ──▶ (open outlet: a Source)
 *                              └──────────────────────▲
 * ```
 * ```ts
 * const g = GraphDSL.create((b) => {
 *   const bcast = b.add(Broadcast.create<number>(2))
 *   const merge = b.add(Merge.create<number>(2))
 *   b.from(Source.range(1, 3)).to(bcast.in)
 *   b.from(bcast.out(0)).via(Flow.create<number>().map((x) => x + 1)).to(merge.in(0))
 *   b.from(bcast.out(1)).to(merge.in(1))
 *   return new SourceShape(merge.out)
 * })
 * await Source.fromGraph(g).runWith(Sink.seq()) // 1, 2, 3 and 2, 3, 4, interleaved
 * ```
 *
 * Contract: `b.add(graph)` adds a copy of any graph (a stage, a Source/Flow/Sink/BidiFlow, another
 * built graph) and returns fresh ports for it, so one blueprint can be added any number of times;
 * the added graph's materialized value is dropped (keep it with `createWithMat`). Ports are wired
 * with `b.from(outlet).via(flow).to(inlet)` or `b.connect(outlet, inlet)`. The build function
 * returns the shape of the result: its ports stay open, every other port must be connected exactly
 * once. Anything else is rejected when the graph is built, with a {@link GraphBuildError} naming
 * the ports. Cycles are allowed; they are live only if something in them can move without waiting
 * for itself (a buffer, a `MergePreferred`, an initial element from a `Concat`).
 */
import { InvalidArgumentError } from '../errors.js'
import { Keep } from '../Keep.js'
import { Module, type PortRef } from '../internal/module.js'
import { Attributes } from '../stage/Attributes.js'
import type { NotUsed } from '../stage/GraphStage.js'
import type { Shape} from '../stage/ports.js';
import { FlowShape, Inlet, Outlet, SinkShape, type SourceShape } from '../stage/ports.js'
import { GraphBuildError } from './errors.js'
import type { Graph, MatMarker, MatOf, ShapeOf } from './Graph.js'
import { copyShape } from './shapes.js'

const EMPTY_MODULE = new Module([], [], [], [], { t: 'const', v: undefined })

type Port = Inlet<any> | Outlet<any>

/** The result of `GraphDSL.create`: a reusable, immutable graph of shape `S` materializing `M`. */
export class GraphBlueprint<S extends Shape, M> implements Graph<S, M> {
  declare readonly _mat: MatMarker<M>
  constructor(
    readonly shape: S,
    /** @internal */ readonly module: Module,
  ) {}
  /** @internal */
  toModule(): Module {
    return this.module
  }
  mapMaterializedValue<M2>(f: (m: M) => M2): GraphBlueprint<S, M2> {
    return new GraphBlueprint(this.shape, this.module.mapMat(f))
  }
  /** Attributes for every stage inside (a stage's own attributes still win). */
  withAttributes(attributes: Attributes): GraphBlueprint<S, M> {
    return new GraphBlueprint(this.shape, this.module.withAttributes(attributes))
  }
  named(name: string): GraphBlueprint<S, M> {
    return this.withAttributes(Attributes.named(name))
  }
  /** Put this graph in its own island: every edge later attached to its open ports is async. */
  async(): GraphBlueprint<S, M> {
    return new GraphBlueprint(this.shape, this.module.async())
  }
}

/** The outlet a wiring chain has reached: continue it with `via` or end it with `to`. */
export class PortOps<T> {
  constructor(
    readonly builder: GraphBuilder,
    /** The open outlet at the end of the chain (return it in a shape to leave it open). */
    readonly outlet: Outlet<T>,
  ) {}
  /** Connect to a flow (added afresh) or to the ports of a flow already added; continue from its outlet. */
  via<U>(flow: Graph<FlowShape<T, U>, any> | FlowShape<T, U>): PortOps<U> {
    const shape = flow instanceof FlowShape ? flow : this.builder.add(flow)
    this.builder.connect(this.outlet, shape.in)
    return new PortOps(this.builder, shape.out)
  }
  /** End the chain: connect to an inlet, to a sink (added afresh) or to the ports of a sink already added. */
  to(sink: Inlet<T> | Graph<SinkShape<T>, any> | SinkShape<T>): void {
    const inlet = sink instanceof Inlet ? sink : sink instanceof SinkShape ? sink.in : this.builder.add(sink).in
    this.builder.connect(this.outlet, inlet)
  }
}

/** The builder handed to `GraphDSL.create`'s build function. */
export class GraphBuilder {
  #module: Module = EMPTY_MODULE
  readonly #inlets = new Map<Inlet<any>, PortRef>()
  readonly #outlets = new Map<Outlet<any>, PortRef>()
  /** Every port this builder handed out, in order (for the final checks). */
  readonly #ports: Port[] = []
  readonly #connected = new Set<Port>()
  readonly #pairs: (readonly [PortRef, PortRef])[] = []
  readonly #twice: string[] = []
  readonly #foreign: string[] = []
  #sealed = false

  /** Add a copy of `graph`; returns fresh ports for it (its materialized value is dropped). */
  add<S extends Shape>(graph: Graph<S, any>): S {
    return this._addModule(graph.toModule(), graph.shape, Keep.left)
  }

  /** Start a wiring chain at an outlet already added, or at a source (added afresh). */
  from<T>(source: Outlet<T> | Graph<SourceShape<T>, any>): PortOps<T> {
    const outlet = source instanceof Outlet ? source : this.add(source).out
    return new PortOps(this, outlet)
  }

  /** Connect `from` to `to`; each port may be connected once. */
  connect<T>(from: Outlet<T>, to: Inlet<T>): void {
    this.#checkOpen()
    const o = this.#ref(this.#outlets, from)
    const i = this.#ref(this.#inlets, to)
    if (o !== undefined && i !== undefined) this.#pairs.push([o, i])
  }

  /** @internal add a module whose open ports are `shape`'s; `combine` merges the materialized values. */
  _addModule<S extends Shape>(m: Module, shape: S, combine: (l: any, r: any) => unknown): S {
    this.#checkOpen()
    if (m.inlets.length !== shape.inlets.length || m.outlets.length !== shape.outlets.length) {
      const open = `${m.inlets.length} open inlet(s) and ${m.outlets.length} open outlet(s)`
      throw new InvalidArgumentError('graph', open, `as many open ports as its shape (${shape.inlets.length} inlet(s), ${shape.outlets.length} outlet(s))`)
    }
    const ports = copyShape(shape)
    const before = this.#module
    const all = Module.juxtapose(before, m, combine)
    ports.inlets.forEach((p, k) => {
      this.#inlets.set(p, all.inlets[before.inlets.length + k]!)
      this.#ports.push(p)
    })
    ports.outlets.forEach((p, k) => {
      this.#outlets.set(p, all.outlets[before.outlets.length + k]!)
      this.#ports.push(p)
    })
    this.#module = all
    return ports
  }

  /** @internal */
  _mapMat(f: (m: any) => unknown): void {
    this.#module = this.#module.mapMat(f)
  }

  /** @internal check the wiring against the returned shape and seal the builder. */
  _result<S extends Shape, M>(shape: S): GraphBlueprint<S, M> {
    this.#checkOpen()
    this.#sealed = true
    const exposed = new Set<Port>()
    const inRefs = shape.inlets.map((p) => this.#exposed(this.#inlets, p, exposed))
    const outRefs = shape.outlets.map((p) => this.#exposed(this.#outlets, p, exposed))
    const unconnected = this.#ports.filter((p) => !this.#connected.has(p) && !exposed.has(p)).map((p) => p.name)
    if (unconnected.length > 0 || this.#twice.length > 0 || this.#foreign.length > 0) {
      throw new GraphBuildError({ unconnected, connectedTwice: this.#twice, foreign: this.#foreign })
    }
    return new GraphBlueprint(shape, this.#module.connect(this.#pairs, inRefs as PortRef[], outRefs as PortRef[]))
  }

  #exposed<P extends Port>(refs: Map<P, PortRef>, p: P, exposed: Set<Port>): PortRef | undefined {
    const ref = refs.get(p)
    if (ref === undefined) this.#foreign.push(p.name)
    else if (this.#connected.has(p) || exposed.has(p)) this.#twice.push(p.name)
    exposed.add(p)
    return ref
  }

  #ref<P extends Port>(refs: Map<P, PortRef>, p: P): PortRef | undefined {
    const ref = refs.get(p)
    if (ref === undefined) {
      this.#foreign.push(p.name)
      return undefined
    }
    if (this.#connected.has(p)) {
      this.#twice.push(p.name)
      return undefined
    }
    this.#connected.add(p)
    return ref
  }

  #checkOpen(): void {
    if (this.#sealed) throw new GraphBuildError({ sealed: true })
  }
}

type Mats<Gs extends readonly unknown[]> = { [K in keyof Gs]: MatOf<Gs[K]> }
type Shapes<Gs extends readonly unknown[]> = { [K in keyof Gs]: ShapeOf<Gs[K]> }

export const GraphDSL = {
  /**
   * Build a graph: `build` adds graphs and wires their ports, and returns the shape of the result
   * (its open ports). The result materializes `NotUsed`.
   */
  create<S extends Shape>(build: (b: GraphBuilder) => S): GraphBlueprint<S, NotUsed> {
    const b = new GraphBuilder()
    return b._result<S, NotUsed>(build(b))
  },

  /**
   * Like `create`, keeping the materialized values of `graphs`: they are added first, their fresh
   * ports are passed to `build` after the builder, and the result materializes
   * `combine(...their materialized values)`.
   *
   * @example
   * ```ts
   * const g = GraphDSL.createWithMat([Sink.seq<number>(), Sink.seq<number>()], (evens, odds) => ({ evens, odds }), (b, evens, odds) => {
   *   const part = b.add(Partition.create<number>(2, (x) => x % 2))
   *   b.from(part.out(0)).to(evens)
   *   b.from(part.out(1)).to(odds)
   *   return new SinkShape(part.in)
   * })
   * const { evens, odds } = Source.range(1, 6).runWith(Sink.fromGraph(g)) // [2, 4, 6] and [1, 3, 5]
   * ```
   */
  createWithMat<const Gs extends readonly Graph<any, any>[], S extends Shape, M>(
    graphs: Gs,
    combine: (...mats: Mats<Gs>) => M,
    build: (b: GraphBuilder, ...shapes: Shapes<Gs>) => S,
  ): GraphBlueprint<S, M> {
    const b = new GraphBuilder()
    const shapes = graphs.map((g, i) => b._addModule(g.toModule(), g.shape, i === 0 ? (_l: unknown, r: unknown) => [r] : (l: unknown[], r: unknown) => [...l, r]))
    b._mapMat(graphs.length === 0 ? () => (combine as () => M)() : (ms: unknown[]) => (combine as (...xs: unknown[]) => M)(...ms))
    return b._result<S, M>((build as (b: GraphBuilder, ...shapes: Shape[]) => S)(b, ...shapes))
  },
}

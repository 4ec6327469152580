/**
 * Shapes of junctions and composite graphs, and the copying of a shape's ports.
 *
 * Shared contract: a shape lists its ports in order (`inlets`, `outlets`) and may name them in
 * fields of its own (`in`, `out`, `ins`, `preferred` …); every port of those fields is one of
 * the listed ports. Junction shapes give typed access by index: `merge.in(0)`, `bcast.out(1)`,
 * `zip.in(1)` (typed per input for heterogeneous junctions such as Zip). Shapes keep their ports
 * in plain own fields (no `#private` state), so that {@link copyShape} can copy any shape.
 */
import { InvalidArgumentError } from '../errors.js'
import type { Module, PortRef } from '../internal/module.js'
import { BidiShape, FanInShape, FanOutShape, FlowShape, Inlet, Outlet, Shape, SinkShape, SourceShape } from '../stage/ports.js'

/** The shape of a graph with no open port: a `RunnableGraph`. */
export class ClosedShape extends Shape {
  /** Type-level brand: shapes with ports are not closed. */
  declare readonly _closed: true
  constructor() {
    super([], [])
  }
  static readonly instance: ClosedShape = new ClosedShape()
}

/** Any number of inputs, typed per position (`Ins` is a tuple, or `T[]` for uniform inputs), and one output. */
export class FanInShapeN<Ins extends readonly unknown[], Out> extends FanInShape<Out> {
  constructor(ins: readonly Inlet<any>[], out: Outlet<Out>) {
    super(ins, out)
  }
  /** Input `i` (from 0). */
  in<K extends number>(i: K): Inlet<Ins[K]> {
    const p = this.ins[i]
    if (p === undefined) throw new InvalidArgumentError('inlet index', i, `an integer from 0 to ${this.ins.length - 1}`)
    return p
  }
}

/** One input and any number of outputs, typed per position (`Outs` is a tuple, or `T[]` for uniform outputs). */
export class FanOutShapeN<In, Outs extends readonly unknown[]> extends FanOutShape<In> {
  constructor(inlet: Inlet<In>, outs: readonly Outlet<any>[]) {
    super(inlet, outs)
  }
  /** Output `i` (from 0). */
  out<K extends number>(i: K): Outlet<Outs[K]> {
    const p = this.outs[i]
    if (p === undefined) throw new InvalidArgumentError('outlet index', i, `an integer from 0 to ${this.outs.length - 1}`)
    return p
  }
}

/** Inputs of one type `T` (merge-like junctions). */
export type UniformFanInShape<T, Out> = FanInShapeN<T[], Out>
/** Outputs of one type `T` (broadcast-like junctions). */
export type UniformFanOutShape<In, T> = FanOutShapeN<In, T[]>

/** A uniform fan-in whose last inlet, `preferred`, wins when several inputs have an element; `in(i)` are the secondary inputs. */
export class MergePreferredShape<T> extends FanInShapeN<T[], T> {
  readonly preferred: Inlet<T>
  constructor(secondaries: readonly Inlet<T>[], preferred: Inlet<T>, out: Outlet<T>) {
    super([...secondaries, preferred], out)
    this.preferred = preferred
  }
}

/** Ports named `<prefix>.in0` … and `<prefix>.out` for an `n`-input junction. */
export function fanInPorts<Out>(prefix: string, n: number): [Inlet<any>[], Outlet<Out>] {
  const ins: Inlet<any>[] = []
  for (let i = 0; i < n; i++) ins.push(new Inlet(`${prefix}.in${i}`))
  return [ins, new Outlet<Out>(`${prefix}.out`)]
}

/** Ports named `<prefix>.in` and `<prefix>.out0` … for an `n`-output junction. */
export function fanOutPorts<In>(prefix: string, n: number): [Inlet<In>, Outlet<any>[]] {
  const outs: Outlet<any>[] = []
  for (let i = 0; i < n; i++) outs.push(new Outlet(`${prefix}.out${i}`))
  return [new Inlet<In>(`${prefix}.in`), outs]
}

type Port = Inlet<any> | Outlet<any>

const isPort = (x: unknown): x is Port => x instanceof Inlet || x instanceof Outlet

/**
 * A copy of `shape` (same class, same fields) in which every port is replaced by a fresh port of
 * the same name — the same port everywhere it appears. The graph builder hands out such copies,
 * so a blueprint added twice yields two distinct sets of ports.
 */
export function copyShape<S extends Shape>(shape: S): S {
  const fresh = new Map<Port, Port>()
  const copyPort = (p: Port): Port => {
    let f = fresh.get(p)
    if (f === undefined) {
      f = p instanceof Inlet ? new Inlet(p.name) : new Outlet(p.name)
      fresh.set(p, f)
    }
    return f
  }
  const copyValue = (v: unknown): unknown => {
    if (isPort(v)) return copyPort(v)
    if (Array.isArray(v)) return v.map((x: unknown) => (isPort(x) ? copyPort(x) : x))
    return v
  }
  const copy = Object.create(Object.getPrototypeOf(shape) as object) as Record<string, unknown>
  for (const key of Object.keys(shape)) copy[key] = copyValue((shape as unknown as Record<string, unknown>)[key])
  const result = copy as unknown as S
  result.inlets.forEach((p, i) => {
    p._index = i
  })
  result.outlets.forEach((p, i) => {
    p._index = i
  })
  return result
}

// ---- shapes describing the open ports of a module (for Source, Flow, Sink … seen as graphs) ----

function inletOf(m: Module, ref: PortRef): Inlet<any> {
  return new Inlet(m.nodes[ref.node]!.stage.shape.inlets[ref.port]!.name)
}
function outletOf(m: Module, ref: PortRef): Outlet<any> {
  return new Outlet(m.nodes[ref.node]!.stage.shape.outlets[ref.port]!.name)
}

/** Fresh ports named after the open ports of a source-shaped module. */
export function sourceShapeOf<T>(m: Module): SourceShape<T> {
  return new SourceShape(outletOf(m, m.outlets[0]!))
}
/** Fresh ports named after the open ports of a flow-shaped module. */
export function flowShapeOf<I, O>(m: Module): FlowShape<I, O> {
  return new FlowShape(inletOf(m, m.inlets[0]!), outletOf(m, m.outlets[0]!))
}
/** Fresh ports named after the open port of a sink-shaped module. */
export function sinkShapeOf<T>(m: Module): SinkShape<T> {
  return new SinkShape(inletOf(m, m.inlets[0]!))
}
/** Fresh ports named after the open ports of a bidi-shaped module (inlets [in1, in2], outlets [out1, out2]). */
export function bidiShapeOf<I1, O1, I2, O2>(m: Module): BidiShape<I1, O1, I2, O2> {
  return new BidiShape(inletOf(m, m.inlets[0]!), outletOf(m, m.outlets[0]!), inletOf(m, m.inlets[1]!), outletOf(m, m.outlets[1]!))
}

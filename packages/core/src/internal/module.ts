/**
 * The immutable representation of a blueprint: a flat list of stage nodes, the edges between
 * their ports, the ports left open (the blueprint's shape), and an expression computing the
 * materialized value from the stages' own values.
 *
 * Composition concatenates node lists (the right side's indices shifted) and adds edges, so the
 * same blueprint may appear any number of times in a graph without copying ports. A port marked
 * `async` (by `.async()`) turns every edge later attached to it into an island boundary.
 */
import { isKeep, Keep } from '../Keep.js'
import { Attributes } from '../stage/Attributes.js'
import type { AnyStage } from '../stage/GraphStage.js'

export interface StageNode {
  readonly stage: AnyStage
  readonly attributes: Attributes
}
export interface PortRef {
  readonly node: number
  readonly port: number
  readonly async: boolean
}
export interface Edge {
  readonly from: number
  readonly fromPort: number
  readonly to: number
  readonly toPort: number
  readonly async: boolean
}

export type MatExpr =
  | { readonly t: 'atom'; readonly i: number }
  | { readonly t: 'const'; readonly v: unknown }
  | { readonly t: 'shift'; readonly by: number; readonly e: MatExpr }
  | { readonly t: 'pair'; readonly l: MatExpr; readonly r: MatExpr; readonly f: (l: any, r: any) => unknown }
  | { readonly t: 'map'; readonly e: MatExpr; readonly f: (m: any) => unknown }

const NOT_USED: MatExpr = { t: 'const', v: undefined }

function pure(e: MatExpr): boolean {
  switch (e.t) {
    case 'atom':
    case 'const':
      return true
    case 'shift':
      return pure(e.e)
    case 'pair':
      return isKeep(e.f) && pure(e.l) && pure(e.r)
    case 'map':
      return false
  }
}

function shift(e: MatExpr, by: number): MatExpr {
  if (by === 0 || e.t === 'const') return e
  if (e.t === 'shift') return { t: 'shift', by: e.by + by, e: e.e }
  return { t: 'shift', by, e }
}

/** Combine two materialized-value expressions; a side that `Keep` drops is skipped when it has no effects. */
export function combineMat(l: MatExpr, r: MatExpr, f: (l: any, r: any) => unknown): MatExpr {
  if (f === Keep.left && pure(r)) return l
  if (f === Keep.right && pure(l)) return r
  if (f === Keep.none && pure(l) && pure(r)) return NOT_USED
  return { t: 'pair', l, r, f }
}

export function evalMat(e: MatExpr, mats: readonly unknown[], base = 0): unknown {
  switch (e.t) {
    case 'atom':
      return mats[base + e.i]
    case 'const':
      return e.v
    case 'shift':
      return evalMat(e.e, mats, base + e.by)
    case 'pair':
      return e.f(evalMat(e.l, mats, base), evalMat(e.r, mats, base))
    case 'map':
      return e.f(evalMat(e.e, mats, base))
  }
}

const shiftPort = (p: PortRef, by: number): PortRef => (by === 0 ? p : { node: p.node + by, port: p.port, async: p.async })

export class Module {
  constructor(
    readonly nodes: readonly StageNode[],
    readonly edges: readonly Edge[],
    readonly inlets: readonly PortRef[],
    readonly outlets: readonly PortRef[],
    readonly mat: MatExpr,
  ) {}

  /** The identity flow: no stage, its inlet is its outlet. Only `Flow.create()` makes one. */
  static readonly identity: Module = new Module([], [], [], [], NOT_USED)

  get isIdentity(): boolean {
    return this === Module.identity
  }

  static atomic(stage: AnyStage, attributes: Attributes = stage.initialAttributes): Module {
    const { inlets, outlets } = stage.shape
    return new Module(
      [{ stage, attributes }],
      [],
      inlets.map((_, i) => ({ node: 0, port: i, async: false })),
      outlets.map((_, i) => ({ node: 0, port: i, async: false })),
      { t: 'atom', i: 0 },
    )
  }

  /** Both modules side by side: `a`'s open ports first, then `b`'s. */
  static juxtapose(a: Module, b: Module, f: (l: any, r: any) => unknown): Module {
    const by = a.nodes.length
    return new Module(
      a.nodes.concat(b.nodes),
      by === 0 ? b.edges : a.edges.concat(b.edges.map((e) => ({ ...e, from: e.from + by, to: e.to + by }))),
      a.inlets.concat(b.inlets.map((p) => shiftPort(p, by))),
      a.outlets.concat(b.outlets.map((p) => shiftPort(p, by))),
      combineMat(a.mat, shift(b.mat, by), f),
    )
  }

  /** Connect open outlet `o` to open inlet `i` (indices into `outlets` and `inlets`); both stop being open. */
  wire(o: number, i: number): Module {
    const out = this.outlets[o]!
    const inl = this.inlets[i]!
    const edge: Edge = { from: out.node, fromPort: out.port, to: inl.node, toPort: inl.port, async: out.async || inl.async }
    return new Module(
      this.nodes,
      this.edges.concat([edge]),
      this.inlets.filter((_, k) => k !== i),
      this.outlets.filter((_, k) => k !== o),
      this.mat,
    )
  }

  /** `a`'s only outlet into `b`'s first inlet (the linear composition behind `via` and `to`). */
  static linear(a: Module, b: Module, f: (l: any, r: any) => unknown): Module {
    if (b.isIdentity) return a.mapMat((m) => f(m, undefined), f === Keep.left)
    if (a.isIdentity) return b.mapMat((m) => f(undefined, m), f === Keep.right)
    return Module.juxtapose(a, b, f).wire(a.outlets.length - 1, a.inlets.length)
  }

  mapMat(f: (m: any) => unknown, isIdentity = false): Module {
    if (isIdentity) return this
    return new Module(this.nodes, this.edges, this.inlets, this.outlets, { t: 'map', e: this.mat, f })
  }

  /** Attributes for every stage inside; a stage's own attributes still win. */
  withAttributes(attrs: Attributes): Module {
    if (attrs === Attributes.none) return this
    return new Module(
      this.nodes.map((n) => ({ stage: n.stage, attributes: attrs.and(n.attributes) })),
      this.edges,
      this.inlets,
      this.outlets,
      this.mat,
    )
  }

  /** Put this module in its own island: every edge later attached to its open ports is async. */
  async(): Module {
    const mark = (p: PortRef): PortRef => (p.async ? p : { ...p, async: true })
    return new Module(this.nodes, this.edges, this.inlets.map(mark), this.outlets.map(mark), this.mat)
  }

  /**
   * Connect pairs of open ports (`[outlet, inlet]`, taken from this module's `outlets` and
   * `inlets`), then expose exactly `inlets` and `outlets`, in that order.
   */
  connect(pairs: readonly (readonly [PortRef, PortRef])[], inlets: readonly PortRef[], outlets: readonly PortRef[]): Module {
    const edges = pairs.map(([o, i]): Edge => ({ from: o.node, fromPort: o.port, to: i.node, toPort: i.port, async: o.async || i.async }))
    return new Module(this.nodes, this.edges.concat(edges), inlets, outlets, this.mat)
  }

  /** Reorder (or select) open ports. */
  withPorts(inlets: readonly PortRef[], outlets: readonly PortRef[]): Module {
    return new Module(this.nodes, this.edges, inlets, outlets, this.mat)
  }
}

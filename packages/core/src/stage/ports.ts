/**
 * Ports and shapes: the named inputs and outputs of a stage. Ports are part of a stage's
 * blueprint (immutable, shared by all materializations); a shape assigns each port its index.
 * Name ports after their stage: `new Inlet('IdleTimeout.in')`.
 */

/** An input port of a stage. */
export class Inlet<T = unknown> {
  declare readonly _in: (x: T) => void
  /** @internal index in the owning shape's inlets, assigned by the shape. */
  _index = -1
  constructor(readonly name: string) {}
  toString(): string {
    return this.name
  }
}

/** An output port of a stage. */
export class Outlet<T = unknown> {
  declare readonly _out: () => T
  /** @internal index in the owning shape's outlets, assigned by the shape. */
  _index = -1
  constructor(readonly name: string) {}
  toString(): string {
    return this.name
  }
}

/** The ports of a stage, in order. */
export class Shape {
  constructor(readonly inlets: readonly Inlet<any>[], readonly outlets: readonly Outlet<any>[]) {
    inlets.forEach((p, i) => {
      p._index = i
    })
    outlets.forEach((p, i) => {
      p._index = i
    })
  }
}

export class SourceShape<Out> extends Shape {
  constructor(readonly out: Outlet<Out>) {
    super([], [out])
  }
}

export class FlowShape<In, Out> extends Shape {
  readonly in: Inlet<In>
  constructor(inlet: Inlet<In>, readonly out: Outlet<Out>) {
    super([inlet], [out])
    this.in = inlet
  }
}

export class SinkShape<In> extends Shape {
  readonly in: Inlet<In>
  constructor(inlet: Inlet<In>) {
    super([inlet], [])
    this.in = inlet
  }
}

/** Two flows running in opposite directions: `in1 → out1` and `in2 → out2`. */
export class BidiShape<In1, Out1, In2, Out2> extends Shape {
  constructor(readonly in1: Inlet<In1>, readonly out1: Outlet<Out1>, readonly in2: Inlet<In2>, readonly out2: Outlet<Out2>) {
    super([in1, in2], [out1, out2])
  }
}

/** A shape with any number of inlets and one outlet (merge-like junctions). */
export class FanInShape<Out> extends Shape {
  constructor(readonly ins: readonly Inlet<any>[], readonly out: Outlet<Out>) {
    super(ins, [out])
  }
}

/** A shape with one inlet and any number of outlets (broadcast-like junctions). */
export class FanOutShape<In> extends Shape {
  readonly in: Inlet<In>
  constructor(inlet: Inlet<In>, readonly outs: readonly Outlet<any>[]) {
    super([inlet], outs)
    this.in = inlet
  }
}

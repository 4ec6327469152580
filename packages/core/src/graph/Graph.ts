/**
 * Graph: anything that can become a piece of blueprint with the open ports of a shape — a stage
 * (atomic), a Source, Flow, Sink, BidiFlow or RunnableGraph, or a composite made by `GraphDSL`.
 *
 * Contract: `toModule()` returns an immutable module whose open inlets are, in order, the ports of
 * `shape.inlets` and whose open outlets are those of `shape.outlets`. The ports in `shape` only
 * describe the graph (names and order); whoever composes the graph (the builder, `fromGraph`)
 * works on the module, so one graph may be used any number of times.
 */
import { InvalidArgumentError } from '../errors.js'
import type { Module } from '../internal/module.js'
import type { Shape } from '../stage/ports.js'

export interface Graph<S extends Shape, M> {
  /** The open ports, in the order of the module's open inlets and outlets. */
  readonly shape: S
  /** @internal the blueprint behind this graph. */
  toModule(): Module
  /** @internal type-level only: the materialized value (no such property exists at run time). */
  readonly _mat: MatMarker<M>
}

/**
 * The type of the phantom `_mat` member: a method-parameter position, so materialized values are
 * compared as loosely as the rest of the blueprint API compares them (`Source<T, void>` still
 * passes for `Source<T>`), while `M` can still be inferred from a graph.
 */
export type MatMarker<M> = { marker(mat: M): void }['marker']

/** The shape of a graph type. */
export type ShapeOf<G> = G extends Graph<infer S, any> ? S : never
/** The materialized value of a graph type. */
export type MatOf<G> = G extends Graph<any, infer M> ? M : never

/**
 * The module of `graph`, checked to have `inlets` open inlets and `outlets` open outlets (shapes
 * are structural types: a flow-shaped graph also type-checks where a source-shaped one is expected).
 */
export function graphModule(graph: Graph<Shape, unknown>, kind: string, inlets: number, outlets: number): Module {
  const m = graph.toModule()
  if (m.inlets.length !== inlets || m.outlets.length !== outlets) {
    throw new InvalidArgumentError(
      'graph',
      `a graph with ${m.inlets.length} open inlet(s) and ${m.outlets.length} open outlet(s)`,
      `${kind}-shaped (${inlets} open inlet(s), ${outlets} open outlet(s))`,
    )
  }
  return m
}

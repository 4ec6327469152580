/**
 * Modules around a junction, for the fluent forms and the `combine` factories: a flow whose extra
 * outputs feed sinks (`alsoTo`, `wireTap`, `divertTo`), a source fed by several sources through a
 * fan-in junction (`Source.combine`), a sink feeding several sinks through a fan-out junction
 * (`Sink.combine`). The sources and sinks are materialized together with the result.
 */
import { InvalidArgumentError } from '../errors.js'
import { Keep } from '../Keep.js'
import { Module, type PortRef } from '../internal/module.js'
import type { AnyStage } from '../stage/GraphStage.js'
import type { Shape } from '../stage/ports.js'
import type { Graph } from './Graph.js'

/**
 * A flow-shaped module: the fan-out `stage`'s inlet is the flow's input, its outlet `open` the
 * flow's output, and its other outlets feed `sinks` in outlet order. Its materialized value is the
 * sinks' values combined left to right with `combine` (with one sink, that sink's value).
 */
export function fanOutFlow(stage: AnyStage, open: number, sinks: readonly Module[], combine: (l: any, r: any) => unknown = Keep.both): Module {
  const n = stage.shape.outlets.length
  if (sinks.length !== n - 1 || open < 0 || open >= n || stage.shape.inlets.length !== 1) {
    throw new Error(`fanOutFlow: ${stage.toString()} needs ${n - 1} sinks and one inlet (open outlet ${open})`)
  }
  let all = Module.atomic(stage)
  sinks.forEach((sink, i) => {
    if (sink.inlets.length !== 1 || sink.outlets.length !== 0) throw new Error(`fanOutFlow: sink ${i} is not sink-shaped`)
    all = Module.juxtapose(all, sink, i === 0 ? Keep.right : combine)
  })
  // inlets: the stage's one, then one per sink; outlets: the stage's n
  const pairs: (readonly [PortRef, PortRef])[] = []
  let next = 0
  for (let i = 0; i < n; i++) {
    if (i === open) continue
    pairs.push([all.outlets[i]!, all.inlets[1 + next]!])
    next++
  }
  return all.connect(pairs, [all.inlets[0]!], [all.outlets[open]!])
}

function junctionModule(junction: Graph<Shape, unknown>, inlets: number, outlets: number, role: string): Module {
  const m = junction.toModule()
  if (m.inlets.length !== inlets || m.outlets.length !== outlets) {
    throw new InvalidArgumentError(
      'strategy',
      `a junction with ${m.inlets.length} inlet(s) and ${m.outlets.length} outlet(s)`,
      `a ${role} junction with ${inlets} inlet(s) and ${outlets} outlet(s)`,
    )
  }
  return m
}

/**
 * A source-shaped module: source i feeds inlet i of the fan-in `junction`. The materialized value
 * is `combine(first source's, second source's)`; the other values are dropped.
 */
export function combineSources(sources: readonly Module[], junction: Graph<Shape, unknown>, combine: (l: any, r: any) => unknown): Module {
  const n = sources.length
  const j = junctionModule(junction, n, 1, 'fan-in')
  let all = sources[0]!
  for (let i = 1; i < n; i++) all = Module.juxtapose(all, sources[i]!, i === 1 ? combine : Keep.left)
  all = Module.juxtapose(all, j, Keep.left)
  // outlets: one per source, then the junction's; inlets: the junction's n
  const pairs: (readonly [PortRef, PortRef])[] = []
  for (let i = 0; i < n; i++) pairs.push([all.outlets[i]!, all.inlets[i]!])
  return all.connect(pairs, [], [all.outlets[n]!])
}

/**
 * A sink-shaped module: outlet i of the fan-out `junction` feeds sink i. The materialized value
 * is `combine(first sink's, second sink's)`; the other values are dropped.
 */
export function combineSinks(sinks: readonly Module[], junction: Graph<Shape, unknown>, combine: (l: any, r: any) => unknown): Module {
  const n = sinks.length
  const j = junctionModule(junction, 1, n, 'fan-out')
  let all = sinks[0]!
  for (let i = 1; i < n; i++) all = Module.juxtapose(all, sinks[i]!, i === 1 ? combine : Keep.left)
  all = Module.juxtapose(all, j, Keep.left)
  // inlets: one per sink, then the junction's; outlets: the junction's n
  const pairs: (readonly [PortRef, PortRef])[] = []
  for (let i = 0; i < n; i++) pairs.push([all.outlets[i]!, all.inlets[i]!])
  return all.connect(pairs, [all.inlets[n]!], [])
}

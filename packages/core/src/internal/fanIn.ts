/**
 * Flow-shaped modules around a fan-in stage: one inlet of the stage becomes the flow's input,
 * the other inlets are fed by sources that are materialized together with the flow. This is
 * how `concat`, `prepend` and `orElse` attach a second `Source` to a running chain.
 */
import { Keep } from '../Keep.js'
import type { AnyStage } from '../stage/GraphStage.js'
import { Module, type PortRef } from './module.js'

/**
 * A flow-shaped module: inlet `open` of the fan-in `stage` is the flow's input, the stage's other
 * inlets are fed by `sources` in inlet order, the stage's (only) outlet is the flow's output.
 * Its materialized value is the sources' values combined left to right with `combine` (the
 * stage's own value is dropped); with one source, that source's value.
 */
export function fanInFlow(
  stage: AnyStage,
  open: number,
  sources: readonly Module[],
  combine: (l: any, r: any) => unknown = Keep.both,
): Module {
  const n = stage.shape.inlets.length
  if (sources.length !== n - 1 || open < 0 || open >= n || stage.shape.outlets.length !== 1) {
    throw new Error(`fanInFlow: ${stage.toString()} needs ${n - 1} sources and one outlet (open inlet ${open})`)
  }
  let all = Module.atomic(stage)
  sources.forEach((src, i) => {
    if (src.inlets.length !== 0 || src.outlets.length !== 1) throw new Error(`fanInFlow: source ${i} is not source-shaped`)
    all = Module.juxtapose(all, src, i === 0 ? Keep.right : combine)
  })
  // inlets: the stage's n inlets (sources have none); outlets: the stage's, then one per source
  const pairs: (readonly [PortRef, PortRef])[] = []
  let next = 0
  for (let i = 0; i < n; i++) {
    if (i === open) continue
    pairs.push([all.outlets[1 + next]!, all.inlets[i]!])
    next++
  }
  return all.connect(pairs, [all.inlets[open]!], [all.outlets[0]!])
}

/**
 * Specification of Module, the immutable graph behind every blueprint.
 *
 * Shared contract: composition never mutates its operands (a module can appear many times in a
 * graph); juxtaposition shifts the right side's node indices, ports and materialized-value
 * atoms; wiring consumes exactly the two ports it connects; an edge is async when either port
 * was marked by `async()`; composite attributes apply under a node's own; a `Keep` side that has
 * no effects is skipped, while a side with a user function (`mapMat`) is always evaluated.
 */
import { describe, expect, it } from 'vitest'
import { Keep } from '../Keep.js'
import { MapStage } from '../ops/map.js'
import { IterableSource } from '../sources/basic.js'
import { sinks } from '../sinks/basic.js'
import { Attributes, Supervision } from '../stage/Attributes.js'
import { combineMat, evalMat, Module, type MatExpr } from './module.js'

const source = () => Module.atomic(new IterableSource([1]))
const map = () => Module.atomic(new MapStage((x: number) => x))
const sink = () => Module.atomic(sinks.seq())

describe('Module.atomic', () => {
  it('holds one node whose ports are all open, and whose value is the stage’s own', () => {
    const m = map()
    expect(m.nodes).toHaveLength(1)
    expect(m.inlets).toEqual([{ node: 0, port: 0, async: false }])
    expect(m.outlets).toEqual([{ node: 0, port: 0, async: false }])
    expect(m.edges).toEqual([])
    expect(evalMat(m.mat, ['own'])).toBe('own')
  })

  it('takes the stage’s initial attributes', () => {
    expect(map().nodes[0]!.attributes.name).toBe('map')
  })
})

describe('Module.juxtapose', () => {
  it('puts the left side’s ports first and shifts the right side’s node indices', () => {
    const m = Module.juxtapose(map(), map(), Keep.none)
    expect(m.nodes).toHaveLength(2)
    expect(m.inlets.map((p) => p.node)).toEqual([0, 1])
    expect(m.outlets.map((p) => p.node)).toEqual([0, 1])
  })

  it('shifts the right side’s edges and materialized-value atoms', () => {
    const right = Module.linear(map(), sink(), Keep.right)
    const m = Module.juxtapose(source(), right, Keep.both)
    expect(m.edges).toEqual([{ from: 1, fromPort: 0, to: 2, toPort: 0, async: false }])
    expect(evalMat(m.mat, ['src', 'map', 'sink'])).toEqual(['src', 'sink'])
  })

  it('does not change its operands', () => {
    const a = map()
    const b = map()
    Module.juxtapose(a, b, Keep.both).wire(0, 1)
    expect(a.inlets).toHaveLength(1)
    expect(a.edges).toEqual([])
    expect(b.nodes).toHaveLength(1)
  })
})

describe('wire', () => {
  it('connects one outlet to one inlet, which stop being open', () => {
    const m = Module.juxtapose(source(), sink(), Keep.both).wire(0, 0)
    expect(m.inlets).toEqual([])
    expect(m.outlets).toEqual([])
    expect(m.edges).toEqual([{ from: 0, fromPort: 0, to: 1, toPort: 0, async: false }])
  })

  it('makes the edge async when either port was marked async', () => {
    expect(Module.juxtapose(source().async(), sink(), Keep.none).wire(0, 0).edges[0]!.async).toBe(true)
    expect(Module.juxtapose(source(), sink().async(), Keep.none).wire(0, 0).edges[0]!.async).toBe(true)
  })
})

describe('Module.linear', () => {
  it('wires the left module’s outlet into the right module’s inlet', () => {
    const m = Module.linear(Module.linear(source(), map(), Keep.left), sink(), Keep.right)
    expect(m.inlets).toEqual([])
    expect(m.outlets).toEqual([])
    expect(m.edges.map((e) => [e.from, e.to])).toEqual([
      [0, 1],
      [1, 2],
    ])
    expect(evalMat(m.mat, ['src', 'map', 'sink'])).toBe('sink')
  })

  it('returns the other side itself when one side is the identity and Keep picks the other', () => {
    const m = map()
    expect(Module.linear(m, Module.identity, Keep.left)).toBe(m)
    expect(Module.linear(Module.identity, m, Keep.right)).toBe(m)
  })

  it('keeps an identity side’s value (undefined) for any other combine', () => {
    const m = Module.linear(Module.identity, map(), Keep.both)
    expect(evalMat(m.mat, ['map'])).toEqual([undefined, 'map'])
  })
})

describe('materialized-value expressions', () => {
  const atom = (i: number): MatExpr => ({ t: 'atom', i })

  it('skip a side that Keep drops when it has no effects', () => {
    expect(combineMat(atom(0), atom(1), Keep.left)).toEqual(atom(0))
    expect(combineMat(atom(0), atom(1), Keep.right)).toEqual(atom(1))
    expect(combineMat(atom(0), atom(1), Keep.none)).toEqual({ t: 'const', v: undefined })
  })

  it('still evaluate a dropped side that runs a user function', () => {
    let runs = 0
    const effect: MatExpr = { t: 'map', e: atom(1), f: (m) => (runs++, m) }
    const e = combineMat(atom(0), effect, Keep.left)
    expect(evalMat(e, ['a', 'b'])).toBe('a')
    expect(runs).toBe(1)
  })

  it('call a custom combine with both values', () => {
    expect(evalMat(combineMat(atom(0), atom(1), (l: string, r: string) => l + r), ['a', 'b'])).toBe('ab')
  })

  it('evaluate mapMat on the module’s value', () => {
    expect(evalMat(map().mapMat((m: string) => m.toUpperCase()).mat, ['own'])).toBe('OWN')
  })
})

describe('withAttributes', () => {
  it('applies to every node, under the node’s own attributes', () => {
    const m = Module.linear(source(), map(), Keep.left).withAttributes(
      Attributes.of({ name: 'outer', supervision: Supervision.resumingDecider }),
    )
    expect(m.nodes.map((n) => n.attributes.name)).toEqual(['from', 'map'])
    for (const n of m.nodes) expect(n.attributes.decider).toBe(Supervision.resumingDecider)
  })

  it('lets an inner composite’s attributes win over an outer one’s', () => {
    const inner = map().withAttributes(Attributes.supervisionStrategy(Supervision.restartingDecider))
    const outer = Module.linear(source(), inner, Keep.left).withAttributes(Attributes.supervisionStrategy(Supervision.resumingDecider))
    expect(outer.nodes[0]!.attributes.decider).toBe(Supervision.resumingDecider)
    expect(outer.nodes[1]!.attributes.decider).toBe(Supervision.restartingDecider)
  })

  it('returns the module itself for Attributes.none', () => {
    const m = map()
    expect(m.withAttributes(Attributes.none)).toBe(m)
  })
})

describe('async, connect and withPorts', () => {
  it('async marks the open ports only; edges already inside stay synchronous', () => {
    const m = Module.linear(map(), map(), Keep.left).async()
    expect(m.edges[0]!.async).toBe(false)
    expect(m.inlets[0]!.async).toBe(true)
    expect(m.outlets[0]!.async).toBe(true)
  })

  it('connect wires pairs and exposes exactly the ports given, in order', () => {
    const m = Module.juxtapose(map(), map(), Keep.none)
    const [a, b] = m.outlets
    const [c, d] = m.inlets
    const closed = m.connect([[a!, d!]], [c!], [b!])
    expect(closed.edges).toEqual([{ from: 0, fromPort: 0, to: 1, toPort: 0, async: false }])
    expect(closed.inlets).toEqual([c])
    expect(closed.outlets).toEqual([b])
  })

  it('withPorts reorders the open ports without adding edges', () => {
    const m = Module.juxtapose(map(), map(), Keep.none)
    const swapped = m.withPorts([m.inlets[1]!, m.inlets[0]!], [m.outlets[1]!, m.outlets[0]!])
    expect(swapped.inlets.map((p) => p.node)).toEqual([1, 0])
    expect(swapped.edges).toEqual([])
  })
})

describe('Module.identity', () => {
  it('is the only identity module', () => {
    expect(Module.identity.isIdentity).toBe(true)
    expect(map().isIdentity).toBe(false)
  })
})

/**
 * Materialization plans: what `Materializer.materialize` decides from a closed module's structure
 * alone — where the async boundaries go, which operator chains fuse, which stages share an island,
 * in which order logics join their islands and which ports are connected. A plan is computed once
 * per module (and materializer settings) and replayed for every materialization of that module,
 * e.g. the one connection blueprint of a server, materialized once per accepted connection.
 *
 * Replaying creates everything that belongs to one run afresh — the logics (and their
 * materialized values), the stages of every async boundary (each pair shares its own buffer) and
 * the interpreters — so two runs of one plan share no state. The order in which logics are
 * created, added to islands and connected is the order a fresh analysis would use.
 */
import { fusableKind, fuseChain } from '../stage/fusion.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { Attributes } from '../stage/Attributes.js'
import { boundaryPair, type BoundaryOut } from './boundary.js'
import { GraphInterpreter } from './interpreter.js'
import type { Materializer } from './materializer.js'
import { evalMat, type Edge, type Module, type StageNode } from './module.js'

/** One async boundary: its buffer size and the attributes of its two stages. */
interface BoundarySpec {
  readonly size: number
  readonly outAttributes: Attributes
  readonly inAttributes: Attributes
}

/** The structural decisions of one materialization, replayable. */
export interface MaterializationPlan {
  /** Nodes of the module; boundary stages follow them, two per boundary. */
  readonly moduleNodes: number
  readonly boundaries: readonly BoundarySpec[]
  /** Fused chains (node indices, head first), in the order their shared logic is created. */
  readonly chains: readonly (readonly number[])[]
  /** Nodes in the order their logic joins its island (a chain joins once, at its lowest index). */
  readonly addOrder: Int32Array
  /** The island index of every node. */
  readonly islandOf: Int32Array
  readonly islands: number
  /** Ports to connect, four numbers each (from, fromPort, to, toPort), chain-internal edges left out. */
  readonly connects: Int32Array
  /** The name of each module node's logic (its stages are the same in every run: named once). */
  readonly names: readonly string[]
}

/**
 * Analyse a closed module whose async edges were already replaced by boundary pairs (`nodes` and
 * `edges` are the module's, with the pairs appended after its own nodes).
 */
export function buildPlan(module: Module, nodes: readonly StageNode[], edges: readonly Edge[], operatorFusion: boolean): MaterializationPlan {
  const n = nodes.length
  const moduleNodes = module.nodes.length
  const boundaries: BoundarySpec[] = []
  for (let i = moduleNodes; i < n; i += 2) {
    boundaries.push({
      size: (nodes[i]!.stage as BoundaryOut).channel.size,
      outAttributes: nodes[i]!.attributes,
      inAttributes: nodes[i + 1]!.attributes,
    })
  }

  // operator fusion: chains of fusable nodes joined by synchronous edges share one logic
  const chains: number[][] = []
  const chainOf = new Int32Array(n).fill(-1)
  const chainNext = operatorFusion ? new Int32Array(n).fill(-1) : undefined
  if (chainNext !== undefined) {
    const hasPrev = new Uint8Array(n)
    const sinkAfter = new Int32Array(n).fill(-1)
    for (const e of edges) {
      const fromKind = fusableKind(nodes[e.from]!.stage)
      const toKind = fusableKind(nodes[e.to]!.stage)
      if (fromKind === undefined || fromKind === 'sink') continue
      if (toKind === 'op') {
        chainNext[e.from] = e.to
        hasPrev[e.to] = 1
      } else if (toKind === 'sink') sinkAfter[e.from] = e.to
    }
    for (let i = 0; i < n; i++) {
      if (hasPrev[i] === 1 || fusableKind(nodes[i]!.stage) === 'sink') continue
      const members: number[] = []
      for (let j = i; j !== -1; j = chainNext[j]!) members.push(j)
      // a chain headed by a sync source also takes the sync sink it feeds
      const tail = members[members.length - 1]!
      if (fusableKind(nodes[i]!.stage) === 'source' && sinkAfter[tail] !== -1) {
        chainNext[tail] = sinkAfter[tail]!
        members.push(sinkAfter[tail]!)
      }
      if (members.length === 1) continue
      for (const m of members) chainOf[m] = chains.length
      chains.push(members)
    }
  }

  // islands: components over synchronous edges, numbered in the order their first logic is added
  const parent = new Int32Array(n)
  for (let i = 0; i < n; i++) parent[i] = i
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!
      x = parent[x]!
    }
    return x
  }
  for (const e of edges) if (!e.async) parent[find(e.from)] = find(e.to)
  const islandOfRoot = new Map<number, number>()
  const islandOf = new Int32Array(n)
  const addOrder: number[] = []
  const chainAdded = new Uint8Array(chains.length)
  for (let i = 0; i < n; i++) {
    const root = find(i)
    let island = islandOfRoot.get(root)
    if (island === undefined) {
      island = islandOfRoot.size
      islandOfRoot.set(root, island)
    }
    islandOf[i] = island
    const chain = chainOf[i]!
    if (chain !== -1) {
      if (chainAdded[chain] === 1) continue
      chainAdded[chain] = 1
    }
    addOrder.push(i)
  }
  const connects: number[] = []
  for (const e of edges) {
    // fused chain members use port 0 of the shared logic, which is their own port 0
    if (chainNext !== undefined && chainNext[e.from] === e.to) continue
    connects.push(e.from, e.fromPort, e.to, e.toPort)
  }
  return {
    moduleNodes,
    boundaries,
    chains,
    addOrder: Int32Array.from(addOrder),
    islandOf,
    islands: islandOfRoot.size,
    connects: Int32Array.from(connects),
    names: module.nodes.map((node) => node.attributes.name ?? node.stage.toString()),
  }
}

/**
 * One materialization of `module` by its plan: fresh boundary stages, logics and interpreters;
 * returns the materialized value and the islands to hand to the executor (none started yet).
 * With `host` (sub-fusing), the island of the module's last node is `host`, a running island:
 * it is not returned, and the logics added to it are (to be attached by the caller).
 */
export function runPlan(plan: MaterializationPlan, module: Module, materializer: Materializer, host?: GraphInterpreter): [unknown, GraphInterpreter[], GraphStageLogic[]] {
  let nodes: readonly StageNode[] = module.nodes
  if (plan.boundaries.length > 0) {
    const all = module.nodes.slice()
    for (const b of plan.boundaries) {
      const [bo, bi] = boundaryPair(b.size)
      all.push({ stage: bo, attributes: b.outAttributes }, { stage: bi, attributes: b.inAttributes })
    }
    nodes = all
  }
  const n = nodes.length
  const logicOf: GraphStageLogic[] = new Array(n)
  const mats: unknown[] = new Array(n)
  for (const members of plan.chains) {
    const logic = fuseChain(
      members.map((m) => nodes[m]!.stage),
      members.map((m) => nodes[m]!.attributes),
    )
    for (const m of members) logicOf[m] = logic
  }
  for (let i = 0; i < n; i++) {
    if (logicOf[i] !== undefined) continue
    const node = nodes[i]!
    const [logic, mat] = node.stage.createLogicAndMaterializedValue(node.attributes, materializer)
    if (logic._name === '') logic._name = i < plan.moduleNodes ? plan.names[i]! : (node.attributes.name ?? node.stage.toString())
    logicOf[i] = logic
    mats[i] = mat
  }
  const islands: GraphInterpreter[] = new Array(plan.islands)
  const hostIsland = host === undefined ? -1 : plan.islandOf[plan.moduleNodes - 1]!
  for (let k = 0; k < plan.islands; k++) islands[k] = k === hostIsland ? host! : new GraphInterpreter(materializer)
  const firstAttached = host?.logics.length ?? 0
  const islandOf = plan.islandOf
  const addOrder = plan.addOrder
  for (let k = 0; k < addOrder.length; k++) {
    const i = addOrder[k]!
    islands[islandOf[i]!]!.addLogic(logicOf[i]!)
  }
  const c = plan.connects
  for (let k = 0; k < c.length; k += 4) {
    const from = c[k]!
    islands[islandOf[from]!]!.connect(logicOf[from]!, c[k + 1]!, logicOf[c[k + 2]!]!, c[k + 3]!)
  }
  const mat = evalMat(module.mat, mats)
  if (host === undefined) return [mat, islands, NONE]
  // addLogic appends, and nothing stops in between: the host's logics from `firstAttached` are this run's
  return [mat, islands.filter((it) => it !== host), host.logics.slice(firstAttached)]
}

const NONE: GraphStageLogic[] = []

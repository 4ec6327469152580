/**
 * Errors of graphs and junctions: a graph built wrongly (ports left open or wired twice) is
 * rejected when it is built, with the names of the offending ports; a partitioner that picks an
 * output that does not exist fails its stream.
 */
import { WeirError } from '../errors.js'

/** What is wrong with a graph, port by port (names as `stage.port`, e.g. `merge.in1`). */
export interface GraphBuildProblems {
  /** Ports neither connected nor part of the returned shape. */
  readonly unconnected: readonly string[]
  /** Ports connected more than once, or connected and also exposed in the returned shape. */
  readonly connectedTwice: readonly string[]
  /** Ports that were not handed out by this builder (another builder's, or a stage's own ports). */
  readonly foreign: readonly string[]
  /** True when the builder was used after its graph was built. */
  readonly sealed: boolean
}

/** A graph built with `GraphDSL` is not well formed. */
export class GraphBuildError extends WeirError implements GraphBuildProblems {
  readonly unconnected: readonly string[]
  readonly connectedTwice: readonly string[]
  readonly foreign: readonly string[]
  readonly sealed: boolean
  constructor(problems: Partial<GraphBuildProblems>) {
    const unconnected = problems.unconnected ?? []
    const connectedTwice = problems.connectedTwice ?? []
    const foreign = problems.foreign ?? []
    const sealed = problems.sealed ?? false
    const parts: string[] = []
    if (unconnected.length > 0) parts.push(`ports neither connected nor in the returned shape: ${unconnected.join(', ')}`)
    if (connectedTwice.length > 0) parts.push(`ports connected more than once: ${connectedTwice.join(', ')}`)
    if (foreign.length > 0) parts.push(`ports not added through this builder: ${foreign.join(', ')}`)
    if (sealed) parts.push('the builder was used after its graph was built')
    super('WEIR_CORE_GRAPH_BUILD', `Invalid graph: ${parts.join('; ')}`)
    this.unconnected = unconnected
    this.connectedTwice = connectedTwice
    this.foreign = foreign
    this.sealed = sealed
  }
}

/** A `Partition`'s partitioner returned an output index that does not exist. */
export class PartitionOutOfBoundsError extends WeirError {
  constructor(readonly index: unknown, readonly outputs: number) {
    super('WEIR_CORE_PARTITION_OUT_OF_BOUNDS', `Partitioner returned ${String(index)}, expected an integer from 0 to ${outputs - 1}`)
  }
}

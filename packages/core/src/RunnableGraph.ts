/**
 * RunnableGraph: a closed blueprint (every port connected), ready to run. Running it
 * materializes a fresh set of stages and returns the materialized value; the same graph can run
 * any number of times.
 */
import { defaultMaterializer, type Materializer } from './internal/materializer.js'
import type { Module } from './internal/module.js'
import { Attributes } from './stage/Attributes.js'
import { graphModule, type Graph, type MatMarker } from './graph/Graph.js'
import { ClosedShape } from './graph/shapes.js'

export class RunnableGraph<Mat> {
  constructor(/** @internal */ readonly module: Module) {}

  /** A runnable graph from any closed graph (every port connected), e.g. one built with `GraphDSL` returning `ClosedShape`. */
  static fromGraph<M>(graph: Graph<ClosedShape, M>): RunnableGraph<M> {
    return new RunnableGraph(graphModule(graph, 'closed', 0, 0))
  }

  /** Start the stream on `materializer` (default: the process-wide one); returns the materialized value. */
  run(materializer: Materializer = defaultMaterializer()): Mat {
    return materializer.materialize<Mat>(this.module)
  }
  mapMaterializedValue<M2>(f: (m: Mat) => M2): RunnableGraph<M2> {
    return new RunnableGraph(this.module.mapMat(f))
  }
  withAttributes(attributes: Attributes): RunnableGraph<Mat> {
    return new RunnableGraph(this.module.withAttributes(attributes))
  }
  named(name: string): RunnableGraph<Mat> {
    return this.withAttributes(Attributes.named(name))
  }

  // ---- as a graph (for GraphDSL's `b.add`) ----
  /** Type-level only: the materialized value (a RunnableGraph is a `Graph`). */
  declare readonly _mat: MatMarker<Mat>
  get shape(): ClosedShape {
    return ClosedShape.instance
  }
  /** @internal */
  toModule(): Module {
    return this.module
  }
}

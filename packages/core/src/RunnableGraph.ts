/**
 * RunnableGraph: a closed blueprint (every port connected), ready to run. Running it
 * materializes a fresh set of stages and returns the materialized value; the same graph can run
 * any number of times.
 */
import { defaultMaterializer, type Materializer } from './internal/materializer.js'
import type { Module } from './internal/module.js'
import { Attributes } from './stage/Attributes.js'

export class RunnableGraph<Mat> {
  constructor(/** @internal */ readonly module: Module) {}

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
}

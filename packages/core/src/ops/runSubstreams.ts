/**
 * The sink behind `SubFlow.to(sink)`: it receives the sub-streams of a `groupBy`/`splitWhen`/
 * `splitAfter` and runs each one at once, through the sub-flow's operators, into its own
 * materialization of the user's sink.
 *
 * Contract: sub-streams are requested one at a time but eagerly (a sub-stream is cheap to take;
 * its elements are backpressured by its own sink). The stage completes when upstream completes
 * and fails when it fails; the sub-streams it started run on independently (the operator that
 * emitted them ends them). A sub-stream that cannot be materialized fails the stage.
 */
import type { RunnableGraph } from '../RunnableGraph.js'
import type { Source } from '../Source.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStage, type NotUsed } from '../stage/GraphStage.js'
import { GraphStageLogic, type InHandler } from '../stage/GraphStageLogic.js'
import { Inlet, SinkShape } from '../stage/ports.js'

class RunSubstreamsLogic<T> extends GraphStageLogic implements InHandler {
  readonly in: Inlet<Source<T, NotUsed>>
  constructor(
    shape: SinkShape<Source<T, NotUsed>>,
    readonly graphOf: (source: Source<T, NotUsed>) => RunnableGraph<unknown>,
  ) {
    super(shape)
    this.in = shape.in
    this.setHandler(shape.in, this)
  }
  override preStart(): void {
    this.pull(this.in)
  }
  onPush(): void {
    const source = this.grab(this.in)
    try {
      this.graphOf(source).run(this.materializer)
    } catch (e) {
      return this.failStage(e)
    }
    this.pull(this.in)
  }
}

export class RunSubstreamsStage<T> extends GraphStage<SinkShape<Source<T, NotUsed>>> {
  readonly shape = new SinkShape(new Inlet<Source<T, NotUsed>>('substreams.in'))
  constructor(readonly graphOf: (source: Source<T, NotUsed>) => RunnableGraph<unknown>) {
    super()
  }
  override get initialAttributes(): Attributes {
    return ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new RunSubstreamsLogic<T>(this.shape, this.graphOf)
  }
}

const ATTRIBUTES = Attributes.named('substreams')

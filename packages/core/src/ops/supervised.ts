/**
 * A base for one-in/one-out operator logics that are not fusable (they emit on pull, or emit
 * several elements per input): pulls on pull, and applies the supervision decider to errors
 * thrown by the user function (`stop` fails, `resume` drops the element, `restart` also resets
 * state via `restart()`).
 */
import type { Attributes, Decider } from '../stage/Attributes.js'
import { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape, Inlet, Outlet } from '../stage/ports.js'
import { decide } from '../stage/linear.js'

export abstract class SupervisedLogic<In, Out> extends GraphStageLogic {
  readonly in: Inlet<In>
  readonly out: Outlet<Out>
  readonly decider: Decider
  constructor(shape: FlowShape<In, Out>, attributes: Attributes) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.decider = attributes.decider
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }
  abstract onPush(): void
  onPull(): void {
    this.pull(this.in)
  }
  protected supervise(e: unknown): void {
    const d = decide(this.decider, e)
    if (d === 'stop') this.failStage(e)
    else {
      if (d === 'restart') this.restart()
      if (!this.hasBeenPulled(this.in) && !this.isClosed(this.in)) this.pull(this.in)
    }
  }
  protected restart(): void {}
}

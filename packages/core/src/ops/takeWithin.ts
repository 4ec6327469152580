/**
 * takeWithin: pass elements until a duration has elapsed since materialization, then complete.
 *
 * Contract: elements pass through unchanged and only on demand. When the duration elapses the
 * stage completes downstream and cancels upstream with the non-failure cause
 * `NoMoreElementsNeeded`. An infinite duration schedules nothing. Completion, failure and
 * cancellation that come first pass through and cancel the timer.
 */
import { toMillis, type Duration } from '../duration.js'
import { NoMoreElementsNeeded } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

const ELAPSED = 'takeWithin'

class TakeWithinLogic<T> extends SupervisedLogic<T, T> {
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly durationMs: number) {
    super(shape, attributes)
  }
  override preStart(): void {
    if (this.durationMs !== Infinity) this.scheduleOnce(ELAPSED, this.durationMs)
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
  }
  protected override onTimer(): void {
    this.cancel(this.in, NoMoreElementsNeeded)
    this.complete(this.out)
  }
}

export class TakeWithinStage<T> extends LinearStage<T, T> {
  readonly durationMs: number
  constructor(duration: Duration) {
    super('takeWithin')
    this.durationMs = toMillis(duration, 'duration')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new TakeWithinLogic<T>(this.shape, attributes, this.durationMs)
  }
}

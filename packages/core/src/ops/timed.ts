/**
 * Operators gated by the time since materialization: initialDelay, dropWithin.
 *
 * Shared contract: elements pass through unchanged and upstream is pulled only on downstream
 * demand. `initialDelay(d)` does not pull before `d` has elapsed (so the first element is
 * delayed by at least `d`; one timer, none once open). `dropWithin(d)` drops the elements that
 * arrive before `d` has elapsed (asking upstream for a replacement, without demand from
 * downstream) and passes the later ones; it reads the clock per element until `d` has elapsed
 * and needs no timer. The windows are half-open: an element arriving exactly at `d` passes, so
 * `dropWithin(d)` is the complement of `takeWithin(d)`. Completion, failure and cancellation
 * pass through at once.
 */
import { toMillis, type Duration } from '../duration.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

// ---- initialDelay ----

const OPEN = 'initialDelay'

class InitialDelayLogic<T> extends SupervisedLogic<T, T> {
  #open: boolean
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly delayMs: number) {
    super(shape, attributes)
    this.#open = delayMs === 0
  }
  override preStart(): void {
    if (!this.#open && this.delayMs !== Infinity) this.scheduleOnce(OPEN, this.delayMs)
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
  }
  override onPull(): void {
    if (this.#open) this.pull(this.in)
  }
  protected override onTimer(): void {
    this.#open = true
    if (this.isAvailable(this.out)) this.pull(this.in)
  }
}

export class InitialDelayStage<T> extends LinearStage<T, T> {
  readonly delayMs: number
  constructor(delay: Duration) {
    super('initialDelay')
    this.delayMs = toMillis(delay, 'delay')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new InitialDelayLogic<T>(this.shape, attributes, this.delayMs)
  }
}

// ---- dropWithin ----

class DropWithinLogic<T> extends SupervisedLogic<T, T> {
  #openAt = 0
  #open: boolean
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly durationMs: number) {
    super(shape, attributes)
    this.#open = durationMs === 0
  }
  override preStart(): void {
    this.#openAt = this.now() + this.durationMs
  }
  onPush(): void {
    const x = this.grab(this.in)
    if (!this.#open) {
      if (this.now() < this.#openAt) return this.pull(this.in)
      this.#open = true
    }
    this.push(this.out, x)
  }
}

export class DropWithinStage<T> extends LinearStage<T, T> {
  readonly durationMs: number
  constructor(duration: Duration) {
    super('dropWithin')
    this.durationMs = toMillis(duration, 'duration')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new DropWithinLogic<T>(this.shape, attributes, this.durationMs)
  }
}

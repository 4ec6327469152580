/**
 * keepAlive: inject an element when downstream has waited `maxIdle` for one and upstream gave none.
 *
 * Contract: upstream elements pass through unchanged; upstream is pulled only when downstream
 * pulls. An injected element is pushed only into outstanding demand (never without demand), so
 * injections do not accumulate while downstream backpressures. The idle time is measured from the
 * moment downstream started waiting: with a downstream that pulls right after each element this
 * is the time since the last element passed; a downstream that pulls late first gives upstream
 * `maxIdle` to answer. An upstream element that arrives after an injection waits for the next
 * pull. The deadline is exact (one timer, re-armed for the remaining time, no polling). A throwing
 * `inject` is supervised: `stop` fails the stream, `resume`/`restart` skip that injection.
 */
import { toMillis, type Duration } from '../duration.js'
import { InvalidArgumentError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { decide, LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

const IDLE = 'keepAlive'

class KeepAliveLogic<T, U> extends SupervisedLogic<T, T | U> {
  /** When downstream's outstanding pull arrived. */
  #waitingSince = 0
  constructor(
    shape: FlowShape<T, T | U>,
    attributes: Attributes,
    readonly maxIdleMs: number,
    readonly inject: () => U,
  ) {
    super(shape, attributes)
  }
  onPush(): void {
    // after an injection the element waits in the inlet until downstream pulls again
    if (this.isAvailable(this.out)) this.push(this.out, this.grab(this.in))
  }
  override onPull(): void {
    if (this.isAvailable(this.in)) {
      this.push(this.out, this.grab(this.in))
      if (this.isClosed(this.in)) this.completeStage()
      return
    }
    this.#waitingSince = this.now()
    this.tryPull(this.in)
    if (!this.isTimerActive(IDLE)) this.#arm(this.maxIdleMs)
  }
  onUpstreamFinish(): void {
    // an element still waiting for demand is delivered first (see onPull)
    if (!this.isAvailable(this.in)) this.completeStage()
  }
  protected override onTimer(): void {
    if (!this.isAvailable(this.out)) return // downstream is not waiting: its next pull re-arms
    const now = this.now()
    const left = this.#waitingSince + this.maxIdleMs - now
    if (left > 0) return this.#arm(left)
    let elem: U
    try {
      elem = this.inject()
    } catch (e) {
      if (decide(this.decider, e) === 'stop') return this.failStage(e)
      this.#waitingSince = now
      return this.#arm(this.maxIdleMs)
    }
    this.push(this.out, elem)
  }
  #arm(delayMs: number): void {
    if (this.maxIdleMs !== Infinity) this.scheduleOnce(IDLE, delayMs)
  }
}

export class KeepAliveStage<T, U> extends LinearStage<T, T | U> {
  readonly maxIdleMs: number
  constructor(
    maxIdle: Duration,
    readonly inject: () => U,
  ) {
    super('keepAlive')
    const ms = toMillis(maxIdle, 'maxIdle')
    if (ms === 0) throw new InvalidArgumentError('maxIdle', ms, 'a positive duration')
    this.maxIdleMs = ms
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new KeepAliveLogic<T, U>(this.shape, attributes, this.maxIdleMs, this.inject)
  }
}

/**
 * Timeout operators: idleTimeout, initialTimeout, completionTimeout, backpressureTimeout.
 *
 * Shared contract: elements pass through unchanged and only on demand (each operator pulls
 * when downstream pulls and pushes what upstream emitted). When its condition is violated, the
 * operator fails downstream and cancels upstream with a {@link StreamTimeoutError} subclass
 * carrying `timeoutMs`. Deadlines are exact: the scheduler fires a timer at the deadline (or, when
 * the deadline moved since the timer was set, re-arms it for the time that remains); nothing is
 * polled and no timer is replaced per element. An infinite timeout schedules nothing (the
 * operator only passes elements). Completion, failure and cancellation pass through; the
 * stage's timers are cancelled when it stops.
 */
import { toMillis, type Duration } from '../duration.js'
import { BackpressureTimeoutError, CompletionTimeoutError, IdleTimeoutError, InitialTimeoutError } from '../errors.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import type { Attributes } from '../stage/Attributes.js'
import { SupervisedLogic } from './supervised.js'

/** The key of the single timer each timeout logic owns. */
const TIMEOUT = 'timeout'

/** A pass-through logic with one timeout, in ms (finite, or `Infinity` for none). */
abstract class TimeoutLogic<T> extends SupervisedLogic<T, T> {
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly timeoutMs: number) {
    super(shape, attributes)
  }
  /** Arm the timer `delayMs` from now, unless the timeout is infinite. */
  protected arm(delayMs: number): void {
    if (this.timeoutMs !== Infinity) this.scheduleOnce(TIMEOUT, delayMs)
  }
}

// ---- idleTimeout ----

class IdleTimeoutLogic<T> extends TimeoutLogic<T> {
  /** When the last element passed (or the stage started). */
  #last = 0
  override preStart(): void {
    this.#last = this.now()
    this.arm(this.timeoutMs)
  }
  onPush(): void {
    this.#last = this.now()
    this.push(this.out, this.grab(this.in))
  }
  protected override onTimer(): void {
    const left = this.#last + this.timeoutMs - this.now()
    if (left <= 0) this.failStage(new IdleTimeoutError(this.timeoutMs))
    else this.arm(left)
  }
}

export class IdleTimeoutStage<T> extends LinearStage<T, T> {
  readonly timeoutMs: number
  constructor(timeout: Duration) {
    super('idleTimeout')
    this.timeoutMs = toMillis(timeout, 'timeout')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new IdleTimeoutLogic<T>(this.shape, attributes, this.timeoutMs)
  }
}

// ---- initialTimeout ----

class InitialTimeoutLogic<T> extends TimeoutLogic<T> {
  override preStart(): void {
    this.arm(this.timeoutMs)
  }
  onPush(): void {
    this.cancelTimer(TIMEOUT)
    this.push(this.out, this.grab(this.in))
  }
  protected override onTimer(): void {
    this.failStage(new InitialTimeoutError(this.timeoutMs))
  }
}

export class InitialTimeoutStage<T> extends LinearStage<T, T> {
  readonly timeoutMs: number
  constructor(timeout: Duration) {
    super('initialTimeout')
    this.timeoutMs = toMillis(timeout, 'timeout')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new InitialTimeoutLogic<T>(this.shape, attributes, this.timeoutMs)
  }
}

// ---- completionTimeout ----

class CompletionTimeoutLogic<T> extends TimeoutLogic<T> {
  override preStart(): void {
    this.arm(this.timeoutMs)
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
  }
  protected override onTimer(): void {
    this.failStage(new CompletionTimeoutError(this.timeoutMs))
  }
}

export class CompletionTimeoutStage<T> extends LinearStage<T, T> {
  readonly timeoutMs: number
  constructor(timeout: Duration) {
    super('completionTimeout')
    this.timeoutMs = toMillis(timeout, 'timeout')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new CompletionTimeoutLogic<T>(this.shape, attributes, this.timeoutMs)
  }
}

// ---- backpressureTimeout ----

/**
 * Measures from each push to the next pull. The timer is armed by a push when it is not already
 * running; when it fires it fails if downstream still has not pulled since the last push and
 * that push is `timeoutMs` old, re-arms for the rest if the push is younger, and disarms if
 * downstream is pulling (the next push arms it again).
 */
class BackpressureTimeoutLogic<T> extends TimeoutLogic<T> {
  /** When the last element was pushed. */
  #pushedAt = 0
  /** True from a push until downstream pulls again. */
  #awaitingDemand = false
  onPush(): void {
    this.#pushedAt = this.now()
    this.#awaitingDemand = true
    this.push(this.out, this.grab(this.in))
    if (!this.isTimerActive(TIMEOUT)) this.arm(this.timeoutMs)
  }
  override onPull(): void {
    this.#awaitingDemand = false
    this.pull(this.in)
  }
  protected override onTimer(): void {
    if (!this.#awaitingDemand) return
    const left = this.#pushedAt + this.timeoutMs - this.now()
    if (left <= 0) this.failStage(new BackpressureTimeoutError(this.timeoutMs))
    else this.arm(left)
  }
}

export class BackpressureTimeoutStage<T> extends LinearStage<T, T> {
  readonly timeoutMs: number
  constructor(timeout: Duration) {
    super('backpressureTimeout')
    this.timeoutMs = toMillis(timeout, 'timeout')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new BackpressureTimeoutLogic<T>(this.shape, attributes, this.timeoutMs)
  }
}

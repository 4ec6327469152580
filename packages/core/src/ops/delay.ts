/**
 * delay: shift every element in time by a fixed duration.
 *
 * Contract: each element becomes due `d` after it arrived and is pushed once it is due and
 * downstream has pulled — never without demand, always in arrival order. The stage starts pulling
 * on the first downstream pull and then pulls eagerly while its buffer (`bufferSize` elements)
 * has room; when an element arrives and the buffer is full the overflow strategy decides (as for
 * `buffer`: `backpressure` stops pulling instead, `dropHead`/`dropTail`/`dropBuffer`/`dropNew`
 * drop, `fail` fails with {@link BufferOverflowError}). One timer at most, armed only while
 * downstream waits for an element that is not yet due, at that element's exact deadline. On
 * upstream completion the buffered elements are still emitted at their deadlines, then the stage
 * completes; upstream failure and downstream cancellation stop at once, dropping the buffer.
 */
import { toMillis, type Duration } from '../duration.js'
import { BufferOverflowError, InvalidArgumentError } from '../errors.js'
import { RingBuffer } from '../internal/RingBuffer.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import type { OverflowStrategy } from './buffer.js'
import { SupervisedLogic } from './supervised.js'

/** The buffer size of `delay` when none is given (Pekko's default input buffer). */
export const DEFAULT_DELAY_BUFFER_SIZE = 16

const STRATEGIES: readonly OverflowStrategy[] = ['backpressure', 'dropHead', 'dropTail', 'dropBuffer', 'dropNew', 'fail']
const DUE = 'delay'

/** Elements and their deadlines in two parallel rings (no object per element). */
class DelayLogic<T> extends SupervisedLogic<T, T> {
  readonly #elements: RingBuffer<T>
  readonly #deadlines: RingBuffer<number>
  /** The deadline the timer is armed for (meaningful while it is active). */
  #armedFor = 0
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly stage: DelayStage<T>) {
    super(shape, attributes)
    this.#elements = new RingBuffer(stage.bufferSize)
    this.#deadlines = new RingBuffer(stage.bufferSize)
  }

  onPush(): void {
    const x = this.grab(this.in)
    const elements = this.#elements
    const deadlines = this.#deadlines
    const deadline = this.now() + this.stage.delayMs
    if (elements.isFull) {
      switch (this.stage.overflowStrategy) {
        case 'dropHead':
          elements.shift()
          deadlines.shift()
          break
        case 'dropTail':
          elements.pop()
          deadlines.pop()
          break
        case 'dropBuffer':
          elements.clear()
          deadlines.clear()
          break
        case 'dropNew':
          this.pull(this.in)
          return
        case 'fail':
          return this.failStage(new BufferOverflowError(this.stage.bufferSize))
        case 'backpressure':
          // unreachable: a full backpressuring buffer does not pull
          throw new Error('Cannot receive an element in state full (backpressure)')
      }
    }
    elements.push(x)
    deadlines.push(deadline)
    if (this.#mayPull()) this.pull(this.in)
    if (this.isAvailable(this.out)) this.#offer()
  }

  override onPull(): void {
    this.#offer()
    if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in) && this.#mayPull()) this.pull(this.in)
  }

  onUpstreamFinish(): void {
    if (this.#elements.isEmpty) this.completeStage()
  }

  protected override onTimer(): void {
    // armed only while downstream waits, for the head's deadline (re-armed when the head changes)
    if (this.isAvailable(this.out) && !this.#elements.isEmpty) this.#pushHead()
  }

  override postStop(): void {
    this.#elements.clear()
    this.#deadlines.clear()
  }

  #mayPull(): boolean {
    return this.stage.overflowStrategy !== 'backpressure' || !this.#elements.isFull
  }

  /** Downstream waits: push the head if due, otherwise make sure the timer is armed for it. */
  #offer(): void {
    const deadlines = this.#deadlines
    if (deadlines.isEmpty) return
    const head = deadlines.peek()
    const left = head - this.now()
    if (left <= 0) this.#pushHead()
    else if (!this.isTimerActive(DUE) || this.#armedFor !== head) {
      this.#armedFor = head
      this.scheduleOnce(DUE, left)
    }
  }

  #pushHead(): void {
    this.cancelTimer(DUE)
    this.#deadlines.shift()
    this.push(this.out, this.#elements.shift())
    if (this.isClosed(this.in)) {
      if (this.#elements.isEmpty) this.completeStage()
    } else if (!this.hasBeenPulled(this.in) && this.#mayPull()) this.pull(this.in)
  }
}

export class DelayStage<T> extends LinearStage<T, T> {
  readonly delayMs: number
  constructor(delay: Duration, readonly overflowStrategy: OverflowStrategy = 'dropTail', readonly bufferSize: number = DEFAULT_DELAY_BUFFER_SIZE) {
    super('delay')
    const ms = toMillis(delay, 'delay')
    if (ms === Infinity) throw new InvalidArgumentError('delay', ms, 'a finite duration')
    this.delayMs = ms
    if (!(Number.isInteger(bufferSize) && bufferSize >= 1)) throw new InvalidArgumentError('bufferSize', bufferSize, 'an integer of at least 1')
    if (!STRATEGIES.includes(overflowStrategy)) {
      throw new InvalidArgumentError('overflowStrategy', overflowStrategy, `one of ${STRATEGIES.join(', ')}`)
    }
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new DelayLogic<T>(this.shape, attributes, this)
  }
}

/**
 * `buffer(size, overflowStrategy)`: a bounded queue that decouples upstream from downstream.
 *
 * Contract: the buffer pulls upstream eagerly while it has room (that is its purpose) and pushes
 * the oldest buffered element when downstream pulls — never without demand. When an element
 * arrives and the buffer is full, the overflow strategy decides: `backpressure` never gets there
 * (it stops pulling when full), `dropHead` drops the oldest buffered element, `dropTail` the
 * newest buffered one, `dropBuffer` clears the buffer, `dropNew` drops the incoming element, and
 * `fail` fails the stream with {@link BufferOverflowError}. On upstream completion the buffered
 * elements are still emitted; upstream failure and downstream cancellation stop at once.
 */
import { BufferOverflowError, InvalidArgumentError } from '../errors.js'
import { RingBuffer, makeRoom } from '../internal/RingBuffer.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

/** What `buffer` does when an element arrives and the buffer is full. */
export type OverflowStrategy = 'backpressure' | 'dropHead' | 'dropTail' | 'dropBuffer' | 'dropNew' | 'fail'

const STRATEGIES: readonly OverflowStrategy[] = ['backpressure', 'dropHead', 'dropTail', 'dropBuffer', 'dropNew', 'fail']

class BufferLogic<T> extends SupervisedLogic<T, T> {
  readonly #buffer: RingBuffer<T>
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly stage: BufferStage<T>) {
    super(shape, attributes)
    this.#buffer = new RingBuffer(stage.size)
  }

  override preStart(): void {
    this.pull(this.in)
  }

  onPush(): void {
    const x = this.grab(this.in)
    const buffer = this.#buffer
    // downstream waits only while the buffer is empty: hand the element over directly
    if (this.isAvailable(this.out)) {
      this.push(this.out, x)
      return this.pull(this.in)
    }
    if (!buffer.isFull) {
      buffer.push(x)
      if (!buffer.isFull || this.stage.overflowStrategy !== 'backpressure') this.pull(this.in)
      return
    }
    const strategy = this.stage.overflowStrategy
    // a full backpressuring buffer does not pull, so no element can arrive here
    if (strategy === 'backpressure') throw new Error('Cannot receive an element in state full (backpressure)')
    const room = makeRoom(buffer, strategy)
    if (room === 'fail') return this.failStage(new BufferOverflowError(this.stage.size))
    if (room === 'room') buffer.push(x)
    this.pull(this.in)
  }

  override onPull(): void {
    const buffer = this.#buffer
    if (!buffer.isEmpty) this.push(this.out, buffer.shift())
    if (this.isClosed(this.in)) {
      if (buffer.isEmpty) this.completeStage()
    } else if (!this.hasBeenPulled(this.in)) this.pull(this.in)
  }

  onUpstreamFinish(): void {
    if (this.#buffer.isEmpty) this.completeStage()
  }

  override postStop(): void {
    this.#buffer.clear()
  }
}

export class BufferStage<T> extends LinearStage<T, T> {
  constructor(readonly size: number, readonly overflowStrategy: OverflowStrategy) {
    super('buffer')
    if (!(Number.isInteger(size) && size >= 1)) throw new InvalidArgumentError('size', size, 'an integer of at least 1')
    if (!STRATEGIES.includes(overflowStrategy)) {
      throw new InvalidArgumentError('overflowStrategy', overflowStrategy, `one of ${STRATEGIES.join(', ')}`)
    }
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new BufferLogic(this.shape, attributes, this)
  }
}

/**
 * Junctions that route each element to exactly one output: Balance (to whichever output asks
 * first) and Partition (to the output a function chooses).
 *
 * Shared contract: the input is pulled only when an element can go somewhere (an output waits),
 * so nothing is buffered beyond the one element in hand. Elements for an output that cancelled
 * are not delivered (Partition drops them). The junction completes when its input completes (after
 * the element in hand was delivered) and fails when it fails. It cancels its input when every
 * output has cancelled (with the last cause) or, with `eagerCancel`, when the first one cancels.
 */
import { InvalidArgumentError } from '../errors.js'
import { Attributes, type Decider } from '../stage/Attributes.js'
import { GraphStage } from '../stage/GraphStage.js'
import { GraphStageLogic, type InHandler } from '../stage/GraphStageLogic.js'
import { decide } from '../stage/linear.js'
import type { Inlet, Outlet } from '../stage/ports.js'
import type { FanOutOptions } from './broadcast.js'
import { PartitionOutOfBoundsError } from './errors.js'
import { FanOutPort, IndexQueue, type FanOutLogic } from './handlers.js'
import { FanOutShapeN, fanOutPorts, type UniformFanOutShape } from './shapes.js'

/** Options of {@link Balance}. */
export interface BalanceOptions extends FanOutOptions {
  /** Emit nothing until every output has pulled once (default false). */
  readonly waitForAllDownstreams?: boolean
}

function checkOutputs(n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError('outputs', n, 'an integer of at least 1')
}

class BalanceLogic<T> extends GraphStageLogic implements InHandler, FanOutLogic {
  readonly in: Inlet<T>
  readonly outs: readonly Outlet<T>[]
  readonly eagerCancel: boolean
  /** Outputs that pulled and wait for an element, in the order they pulled. */
  readonly #waiting: IndexQueue
  readonly #hasPulled: Uint8Array
  /** Outputs that still have to pull once before anything is emitted (waitForAllDownstreams). */
  #needPulls: number
  #running: number
  constructor(shape: UniformFanOutShape<T, T>, waitForAll: boolean, eagerCancel: boolean) {
    super(shape)
    this.in = shape.in
    this.outs = shape.outs
    this.eagerCancel = eagerCancel
    this.#waiting = new IndexQueue(shape.outs.length)
    this.#hasPulled = new Uint8Array(shape.outs.length)
    this.#needPulls = waitForAll ? shape.outs.length : 0
    this.#running = shape.outs.length
    this.setHandler(shape.in, this)
    for (let i = 0; i < shape.outs.length; i++) this.setHandler(shape.outs[i]!, new FanOutPort(this, i))
  }
  onPush(): void {
    this.#dispatch()
  }
  onOutputPull(i: number): void {
    this.#countFirstPull(i)
    this.#waiting.enqueue(i)
    this.#pullIfReady()
  }
  onOutputCancel(i: number, cause: unknown): void {
    if (this.eagerCancel || --this.#running === 0) {
      this.cancelStage(cause)
      return
    }
    // a queued entry of i is skipped when its turn comes; i no longer holds back the first pull
    this.#countFirstPull(i)
    this.#pullIfReady()
  }
  #countFirstPull(i: number): void {
    if (this.#hasPulled[i] === 1) return
    this.#hasPulled[i] = 1
    if (this.#needPulls > 0) this.#needPulls--
  }
  #pullIfReady(): void {
    if (this.#needPulls > 0 || this.#waiting.isEmpty) return
    if (this.isAvailable(this.in)) this.#dispatch()
    else if (!this.hasBeenPulled(this.in) && !this.isClosed(this.in)) this.pull(this.in)
  }
  /** Hand the element in hand to the first waiting output still open. */
  #dispatch(): void {
    for (;;) {
      const i = this.#waiting.dequeue()
      if (i === -1) return // every waiting output cancelled: keep the element for the next pull
      const out = this.outs[i]!
      if (this.isClosed(out)) continue
      this.push(out, this.grab(this.in))
      if (!this.#waiting.isEmpty && !this.isClosed(this.in)) this.pull(this.in)
      return
    }
  }
}

/**
 * Emit each element to one of `outputs` outputs: the one that pulled first among those waiting.
 * - Emits when: any output has pulled (with `waitForAllDownstreams`: and every output pulled once)
 * - Backpressures when: no output is waiting
 * - Completes when: the input completes
 * - Cancels when: every output cancelled (`eagerCancel`: any output cancelled)
 *
 * @example
 * ```ts
 * const balance = b.add(Balance.create<Job>(3))
 * for (let i = 0; i < 3; i++) b.from(balance.out(i)).via(worker).to(merge.in(i))
 * ```
 */
export class Balance<T> extends GraphStage<UniformFanOutShape<T, T>> {
  readonly shape: UniformFanOutShape<T, T>
  readonly waitForAllDownstreams: boolean
  readonly eagerCancel: boolean
  constructor(readonly outputs: number, options: BalanceOptions = {}) {
    super()
    checkOutputs(outputs)
    const [inlet, outs] = fanOutPorts<T>('balance', outputs)
    this.shape = new FanOutShapeN(inlet, outs)
    this.waitForAllDownstreams = options.waitForAllDownstreams ?? false
    this.eagerCancel = options.eagerCancel ?? false
  }
  static create<T>(outputs: number, options?: BalanceOptions): Balance<T> {
    return new Balance<T>(outputs, options)
  }
  override get initialAttributes(): Attributes {
    return BALANCE_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new BalanceLogic<T>(this.shape, this.waitForAllDownstreams, this.eagerCancel)
  }
}
const BALANCE_ATTRIBUTES = Attributes.named('balance')

class PartitionLogic<T> extends GraphStageLogic implements InHandler, FanOutLogic {
  readonly in: Inlet<T>
  readonly outs: readonly Outlet<T>[]
  readonly partitioner: (x: T) => number
  readonly eagerCancel: boolean
  readonly decider: Decider
  /** The output the element in hand waits for, or -1. */
  #pendingIndex = -1
  #pendingElem: T | undefined = undefined
  #running: number
  constructor(shape: UniformFanOutShape<T, T>, partitioner: (x: T) => number, eagerCancel: boolean, attributes: Attributes) {
    super(shape)
    this.in = shape.in
    this.outs = shape.outs
    this.partitioner = partitioner
    this.eagerCancel = eagerCancel
    this.decider = attributes.decider
    this.#running = shape.outs.length
    this.setHandler(shape.in, this)
    for (let i = 0; i < shape.outs.length; i++) this.setHandler(shape.outs[i]!, new FanOutPort(this, i))
  }
  onPush(): void {
    const x = this.grab(this.in)
    let i: number
    try {
      i = this.partitioner(x)
    } catch (e) {
      if (decide(this.decider, e) === 'stop') this.failStage(e)
      else this.#pullIfWanted() // the element is dropped
      return
    }
    const n = this.outs.length
    if (!(Number.isInteger(i) && i >= 0 && i < n)) {
      this.failStage(new PartitionOutOfBoundsError(i, n))
      return
    }
    const out = this.outs[i]!
    if (this.isClosed(out)) this.#pullIfWanted() // its output cancelled: dropped
    else if (this.isAvailable(out)) {
      this.push(out, x)
      this.#pullIfWanted()
    } else {
      this.#pendingIndex = i
      this.#pendingElem = x
    }
  }
  onUpstreamFinish(): void {
    if (this.#pendingIndex === -1) this.completeStage()
  }
  onOutputPull(i: number): void {
    if (this.#pendingIndex === -1) {
      if (!this.hasBeenPulled(this.in) && !this.isClosed(this.in)) this.pull(this.in)
    } else if (i === this.#pendingIndex) {
      const x = this.#pendingElem as T
      this.#clearPending()
      this.push(this.outs[i]!, x)
      if (this.isClosed(this.in)) this.completeStage()
      else this.#pullIfWanted()
    }
  }
  onOutputCancel(i: number, cause: unknown): void {
    if (this.eagerCancel || --this.#running === 0) {
      this.cancelStage(cause)
      return
    }
    if (i !== this.#pendingIndex) return
    this.#clearPending() // the element waited for this output: dropped
    if (this.isClosed(this.in)) this.completeStage()
    else this.#pullIfWanted()
  }
  #clearPending(): void {
    this.#pendingIndex = -1
    this.#pendingElem = undefined
  }
  /** Pull when some open output waits for an element. */
  #pullIfWanted(): void {
    if (this.hasBeenPulled(this.in) || this.isClosed(this.in)) return
    for (const out of this.outs) {
      if (this.isAvailable(out)) {
        this.pull(this.in)
        return
      }
    }
  }
}

/**
 * Emit each element to the output `partitioner(element)` chooses (an index from 0 to `outputs - 1`;
 * another value fails the stage with `PartitionOutOfBoundsError`). Elements for a cancelled output
 * are dropped; `partitioner` is supervised (`resume`/`restart` drop the element).
 * - Emits when: the chosen output has pulled
 * - Backpressures when: the chosen output backpressures
 * - Completes when: the input completes and the element in hand was delivered
 * - Cancels when: every output cancelled (`eagerCancel`: any output cancelled)
 *
 * @example
 * ```ts
 * const byParity = b.add(Partition.create<number>(2, (x) => x % 2))
 * b.from(byParity.out(0)).to(evens)
 * b.from(byParity.out(1)).to(odds)
 * ```
 */
export class Partition<T> extends GraphStage<UniformFanOutShape<T, T>> {
  readonly shape: UniformFanOutShape<T, T>
  readonly eagerCancel: boolean
  constructor(
    readonly outputs: number,
    readonly partitioner: (x: T) => number,
    options: FanOutOptions = {},
  ) {
    super()
    checkOutputs(outputs)
    const [inlet, outs] = fanOutPorts<T>('partition', outputs)
    this.shape = new FanOutShapeN(inlet, outs)
    this.eagerCancel = options.eagerCancel ?? false
  }
  static create<T>(outputs: number, partitioner: (x: T) => number, options?: FanOutOptions): Partition<T> {
    return new Partition<T>(outputs, partitioner, options)
  }
  override get initialAttributes(): Attributes {
    return PARTITION_ATTRIBUTES
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new PartitionLogic<T>(this.shape, this.partitioner, this.eagerCancel, attributes)
  }
}
const PARTITION_ATTRIBUTES = Attributes.named('partition')

/**
 * Asynchronous mapping: `mapAsync` (results in input order) and `mapAsyncUnordered` (results as
 * they complete).
 *
 * Shared contract: the function may return a promise (or any thenable) or a plain value. At most
 * `parallelism` elements are held at once — being computed, or computed and waiting for demand —
 * and upstream is pulled only while fewer are held, so the bound covers memory as well as
 * concurrency. Results come back into the stream through an async callback; nothing is pushed
 * without demand. A function that throws or a promise that rejects is supervised: `stop` fails
 * the stream at once, `resume` and `restart` drop that element. Upstream completion waits until
 * every held element was emitted; upstream failure and downstream cancellation stop the stage at
 * once, and results that arrive afterwards are dropped.
 */
import { InvalidArgumentError } from '../errors.js'
import { RingBuffer } from '../internal/RingBuffer.js'
import type { Attributes } from '../stage/Attributes.js'
import type { AsyncCallback, GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { decide, LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

/** True when `x` looks like a promise: its result must be awaited. */
function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as PromiseLike<unknown>).then === 'function'
}

function checkParallelism(parallelism: number): void {
  if (!(Number.isInteger(parallelism) && parallelism >= 1)) {
    throw new InvalidArgumentError('parallelism', parallelism, 'an integer of at least 1')
  }
}

// ---- mapAsync: ordered ----

const PENDING = 0
const READY = 1
const DROPPED = 2

/** One element's result slot, queued in input order. `state` changes only inside the stage. */
class Slot<T> {
  state: typeof PENDING | typeof READY | typeof DROPPED = PENDING
  ok = true
  value: T | undefined = undefined
  error: unknown = undefined
}

class MapAsyncLogic<In, Out> extends SupervisedLogic<In, Out> {
  readonly #slots: RingBuffer<Slot<Out>>
  constructor(shape: FlowShape<In, Out>, attributes: Attributes, readonly stage: MapAsyncStage<In, Out>) {
    super(shape, attributes)
    this.#slots = new RingBuffer(stage.parallelism, 2) // most of the time one element is in flight
  }

  onPush(): void {
    const x = this.grab(this.in)
    let r: Out | PromiseLike<Out>
    try {
      r = this.stage.f(x)
    } catch (e) {
      return this.supervise(e)
    }
    if (!isThenable(r)) {
      // a plain value: emit at once when nothing is ahead of it and downstream waits
      if (this.#slots.isEmpty && this.isAvailable(this.out)) this.push(this.out, r)
      else {
        const slot = new Slot<Out>()
        slot.value = r
        slot.state = READY
        this.#slots.push(slot)
      }
    } else {
      const slot = new Slot<Out>()
      this.#slots.push(slot)
      // settled results arrive as outside events of this stage (as an async callback's would)
      Promise.resolve(r).then(
        (v) => {
          slot.value = v
          this._invokeExternal(this.#settled, slot)
        },
        (e: unknown) => {
          slot.ok = false
          slot.error = e
          this._invokeExternal(this.#settled, slot)
        },
      )
    }
    this.#pullIfRoom()
  }

  override onPull(): void {
    this.#drain()
  }

  onUpstreamFinish(): void {
    if (this.#slots.isEmpty) this.completeStage()
  }

  #settled(slot: Slot<Out>): void {
    if (slot.ok) slot.state = READY
    else {
      if (decide(this.decider, slot.error) === 'stop') return this.failStage(slot.error)
      slot.state = DROPPED
    }
    this.#drain()
  }

  /** Emit the head result if it is ready and demanded; skip dropped heads; complete or pull. */
  #drain(): void {
    const slots = this.#slots
    while (!slots.isEmpty) {
      const head = slots.peek()
      if (head.state === PENDING) break
      if (head.state === READY) {
        if (!this.isAvailable(this.out)) break
        slots.shift()
        this.push(this.out, head.value as Out)
      } else slots.shift()
    }
    if (slots.isEmpty && this.isClosed(this.in)) this.completeStage()
    else this.#pullIfRoom()
  }

  #pullIfRoom(): void {
    if (this.#slots.length < this.stage.parallelism && !this.hasBeenPulled(this.in) && !this.isClosed(this.in)) this.pull(this.in)
  }
}

export class MapAsyncStage<In, Out> extends LinearStage<In, Out> {
  constructor(readonly parallelism: number, readonly f: (x: In) => Out | PromiseLike<Out>) {
    super('mapAsync')
    checkParallelism(parallelism)
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new MapAsyncLogic(this.shape, attributes, this)
  }
}

// ---- mapAsyncUnordered ----

class MapAsyncUnorderedLogic<In, Out> extends SupervisedLogic<In, Out> {
  /** Results computed and waiting for demand. */
  readonly #done: RingBuffer<Out>
  #inFlight = 0
  readonly #onValue: AsyncCallback<Out>
  readonly #onError: AsyncCallback<unknown>
  // one pair of continuations per materialization, shared by every element
  readonly #resolve: (v: Out) => void
  readonly #reject: (e: unknown) => void
  constructor(shape: FlowShape<In, Out>, attributes: Attributes, readonly stage: MapAsyncUnorderedStage<In, Out>) {
    super(shape, attributes)
    this.#done = new RingBuffer(stage.parallelism)
    this.#onValue = this.getAsyncCallback((v: Out) => this.#succeeded(v))
    this.#onError = this.getAsyncCallback((e: unknown) => this.#failed(e))
    this.#resolve = (v) => void this.#onValue.invoke(v)
    this.#reject = (e) => void this.#onError.invoke(e)
  }

  onPush(): void {
    const x = this.grab(this.in)
    let r: Out | PromiseLike<Out>
    try {
      r = this.stage.f(x)
    } catch (e) {
      return this.supervise(e)
    }
    if (isThenable(r)) {
      this.#inFlight++
      Promise.resolve(r).then(this.#resolve, this.#reject)
    } else this.#deliver(r)
    this.#pullIfRoom()
  }

  override onPull(): void {
    if (!this.#done.isEmpty) this.push(this.out, this.#done.shift())
    this.#completeOrPull()
  }

  onUpstreamFinish(): void {
    if (this.#inFlight === 0 && this.#done.isEmpty) this.completeStage()
  }

  #succeeded(v: Out): void {
    this.#inFlight--
    this.#deliver(v)
    this.#completeOrPull()
  }

  #failed(e: unknown): void {
    this.#inFlight--
    if (decide(this.decider, e) === 'stop') return this.failStage(e)
    this.#completeOrPull()
  }

  /** Push when downstream waits (then nothing is queued), else queue: room was reserved on pull. */
  #deliver(v: Out): void {
    if (this.isAvailable(this.out)) this.push(this.out, v)
    else this.#done.push(v)
  }

  #completeOrPull(): void {
    if (this.isClosed(this.in)) {
      if (this.#inFlight === 0 && this.#done.isEmpty) this.completeStage()
    } else this.#pullIfRoom()
  }

  #pullIfRoom(): void {
    if (this.#inFlight + this.#done.length < this.stage.parallelism && !this.hasBeenPulled(this.in) && !this.isClosed(this.in)) {
      this.pull(this.in)
    }
  }
}

export class MapAsyncUnorderedStage<In, Out> extends LinearStage<In, Out> {
  constructor(readonly parallelism: number, readonly f: (x: In) => Out | PromiseLike<Out>) {
    super('mapAsyncUnordered')
    checkParallelism(parallelism)
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new MapAsyncUnorderedLogic(this.shape, attributes, this)
  }
}

/**
 * Time-windowed grouping: groupedWithin, groupedWeightedWithin.
 *
 * Shared contract: elements are collected into a group (a fresh array downstream may keep) that
 * is emitted when it is full — `n` elements, or `maxWeight` total weight — or when its time
 * window ended, whichever comes first; empty groups are never emitted. Windows are `d` long and
 * follow one another from materialization; a group emitted because it was full starts a new
 * window at once (as Pekko restarts its timer). A group that became due while downstream
 * backpressures is emitted on the next pull. The stage pulls upstream eagerly (it does not wait
 * for demand) and backpressures only when a complete group and one more element are held: that
 * element (one that does not fit, by count or weight) starts the next group. An element heavier
 * than `maxWeight` forms a group of its own. The timer runs only while a group is open (one exact
 * deadline, no per-element timer, none while idle). On upstream completion the open group (and a
 * held element, as a last group) is emitted, then the stage completes; upstream failure fails at
 * once, dropping what is held; downstream cancellation cancels upstream with the same cause. The
 * cost function is not supervised: a throw or a negative weight fails the stream.
 */
import { toMillis, type Duration } from '../duration.js'
import { InvalidArgumentError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

const WINDOW = 'groupedWithin'
const NONE: unique symbol = Symbol('weir.groupedWithin.none')

class GroupedWithinLogic<T> extends SupervisedLogic<T, T[]> {
  #group: T[] = []
  #weight = 0
  /** An element that did not fit the complete group: it starts the next one. */
  #pending: T | typeof NONE = NONE
  #pendingWeight = 0
  /** The group is complete (full, or its window ended) and waits for a pull. */
  #due = false
  /** Windows are [anchor + k·d, anchor + (k+1)·d); a full group re-anchors the grid at its emission. */
  #anchor = 0
  /** End of the open group's window (the timer's deadline). */
  #windowEnd = 0
  constructor(shape: FlowShape<T, T[]>, attributes: Attributes, readonly stage: GroupedWithinStage<T>) {
    super(shape, attributes)
  }

  override preStart(): void {
    this.#anchor = this.now()
    this.pull(this.in)
  }

  onPush(): void {
    this.#add(this.grab(this.in))
  }

  override onPull(): void {
    if (this.#due) this.#emit()
  }

  onUpstreamFinish(): void {
    if (this.#group.length === 0) return this.completeStage()
    if (this.isAvailable(this.out)) return this.#emit()
    this.cancelTimer(WINDOW)
    this.#due = true
  }

  protected override onTimer(): void {
    this.#anchor = this.#windowEnd
    if (this.#group.length === 0 || this.#due) return
    if (this.isAvailable(this.out)) this.#emit()
    else this.#due = true
  }

  override postStop(): void {
    this.#group = []
    this.#pending = NONE
  }

  #add(x: T): void {
    const { maxNumber, maxWeight, cost: costFn } = this.stage
    const cost = costFn === undefined ? 1 : costFn(x)
    if (!(cost >= 0)) return this.failStage(new InvalidArgumentError('cost', cost, 'a non-negative number'))
    const group = this.#group
    if (group.length === 0) this.#openWindow()
    if (group.length < maxNumber && this.#weight + cost <= maxWeight) {
      group.push(x)
      this.#weight += cost
      if (group.length < maxNumber && this.#weight < maxWeight) return this.pull(this.in)
    } else if (group.length === 0) {
      // heavier than maxWeight on its own: a group of one
      group.push(x)
      this.#weight = cost
    } else {
      this.#pending = x
      this.#pendingWeight = cost
    }
    this.#close()
  }

  /** The group is full: emit it now, or hold it (and fetch one more element) until downstream pulls. */
  #close(): void {
    this.cancelTimer(WINDOW)
    if (this.isAvailable(this.out)) return this.#emit()
    this.#due = true
    if (this.#pending === NONE) this.tryPull(this.in)
  }

  #emit(): void {
    const { maxNumber, maxWeight } = this.stage
    const group = this.#group
    const full = this.#pending !== NONE || group.length >= maxNumber || this.#weight >= maxWeight
    this.#group = []
    this.#weight = 0
    this.#due = false
    this.cancelTimer(WINDOW)
    this.push(this.out, group)
    if (full) this.#anchor = this.now()
    const pending = this.#pending
    this.#pending = NONE
    if (this.isClosed(this.in)) {
      if (pending !== NONE) this.emit(this.out, [pending])
      return this.completeStage()
    }
    if (pending === NONE) return this.tryPull(this.in)
    this.#group.push(pending)
    this.#weight = this.#pendingWeight
    this.#openWindow()
    if (this.#group.length < maxNumber && this.#weight < maxWeight) this.tryPull(this.in)
    else this.#close()
  }

  /** Arm the timer for the end of the window the current instant falls in. */
  #openWindow(): void {
    const d = this.stage.intervalMs
    if (d === Infinity) return
    const now = this.now()
    let anchor = this.#anchor
    if (now - anchor >= d) {
      anchor += Math.floor((now - anchor) / d) * d
      this.#anchor = anchor
    }
    this.#windowEnd = anchor + d
    this.scheduleOnce(WINDOW, this.#windowEnd - now)
  }
}

export class GroupedWithinStage<T> extends LinearStage<T, T[]> {
  readonly intervalMs: number
  /**
   * @param maxNumber elements per group (an integer ≥ 1, or Infinity)
   * @param maxWeight total weight per group (positive, or Infinity); weights come from `cost` (default 1)
   */
  constructor(
    name: string,
    readonly maxNumber: number,
    readonly maxWeight: number,
    interval: Duration,
    readonly cost?: (x: T) => number,
  ) {
    super(name)
    if (!((Number.isInteger(maxNumber) && maxNumber >= 1) || maxNumber === Infinity)) {
      throw new InvalidArgumentError('n', maxNumber, 'an integer of at least 1')
    }
    if (!(maxWeight > 0)) throw new InvalidArgumentError('maxWeight', maxWeight, 'a positive number')
    const ms = toMillis(interval, 'interval')
    if (!(ms > 0)) throw new InvalidArgumentError('interval', ms, 'a positive duration')
    this.intervalMs = ms
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new GroupedWithinLogic<T>(this.shape, attributes, this)
  }
}

/**
 * Port handlers shared by the junction logics: one small handler object per port that forwards
 * the event to the logic with the port's index, so a logic handles "input i pushed" or "output i
 * cancelled" in one method. An input handler has no failure method, so an upstream failure takes
 * the default path (the whole stage fails with that error, cancelling the other inputs).
 */
import type { InHandler, OutHandler } from '../stage/GraphStageLogic.js'

/** A logic with several inputs. */
export interface FanInLogic {
  onInputPush(index: number): void
  onInputFinish(index: number): void
}

/** A logic with several outputs. */
export interface FanOutLogic {
  onOutputPull(index: number): void
  onOutputCancel(index: number, cause: unknown): void
}

export class FanInPort implements InHandler {
  constructor(
    readonly logic: FanInLogic,
    readonly index: number,
  ) {}
  onPush(): void {
    this.logic.onInputPush(this.index)
  }
  onUpstreamFinish(): void {
    this.logic.onInputFinish(this.index)
  }
}

export class FanOutPort implements OutHandler {
  constructor(
    readonly logic: FanOutLogic,
    readonly index: number,
  ) {}
  onPull(): void {
    this.logic.onOutputPull(this.index)
  }
  onDownstreamFinish(cause: unknown): void {
    this.logic.onOutputCancel(this.index, cause)
  }
}

/** A FIFO of port indices, each present at most once (so `capacity` = number of ports suffices). */
export class IndexQueue {
  readonly #ring: Int32Array
  #head = 0
  #size = 0
  constructor(capacity: number) {
    this.#ring = new Int32Array(capacity)
  }
  get isEmpty(): boolean {
    return this.#size === 0
  }
  enqueue(i: number): void {
    const ring = this.#ring
    ring[(this.#head + this.#size) % ring.length] = i
    this.#size++
  }
  /** The oldest index, or -1 when empty. */
  dequeue(): number {
    if (this.#size === 0) return -1
    const i = this.#ring[this.#head]!
    this.#head = (this.#head + 1) % this.#ring.length
    this.#size--
    return i
  }
}

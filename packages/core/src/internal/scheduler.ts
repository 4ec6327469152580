/**
 * Time for streams. Stages never read the wall clock or start raw timers: they ask the
 * materializer's {@link Scheduler}, which tests replace with virtual time. This file holds the
 * interface and the one real implementation over Node's timers.
 */

/** A scheduled task that can be cancelled; `cancel()` returns false when it already ran or was cancelled. */
export interface Cancellable {
  cancel(): boolean
}

/** A clock and a one-shot timer service. Periodic timers are built on `scheduleOnce` at exact deadlines. */
export interface Scheduler {
  /** Monotonic milliseconds (fractional allowed). */
  now(): number
  /** Run `task` once, `delayMs` from now (0 or less: as soon as possible, after I/O; Infinity: never). */
  scheduleOnce(delayMs: number, task: () => void): Cancellable
}

/** Node fires any longer `setTimeout` after 1 ms; longer delays are reached in steps of this size. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

class TimeoutTask implements Cancellable {
  #handle: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined
  #immediate: boolean
  constructor(delayMs: number, task: () => void) {
    this.#immediate = delayMs <= 0
    if (this.#immediate) this.#handle = setImmediate(() => this.#run(task))
    else if (delayMs === Infinity) this.#handle = undefined
    else this.#arm(performance.now() + delayMs, task)
  }
  #arm(deadline: number, task: () => void): void {
    const left = deadline - performance.now()
    if (left > MAX_TIMEOUT_MS) this.#handle = setTimeout(() => this.#arm(deadline, task), MAX_TIMEOUT_MS)
    // whole milliseconds: Node keeps one timer list per distinct duration, so fractional delays
    // would give every timer a list of its own (and a priority-queue insertion) instead of O(1)
    else this.#handle = setTimeout(() => this.#run(task), Math.max(1, Math.ceil(left)))
  }
  #run(task: () => void): void {
    this.#handle = undefined
    task()
  }
  cancel(): boolean {
    const h = this.#handle
    if (h === undefined) return false
    this.#handle = undefined
    if (this.#immediate) clearImmediate(h as ReturnType<typeof setImmediate>)
    else clearTimeout(h as ReturnType<typeof setTimeout>)
    return true
  }
}

/** The scheduler over Node's timers and `performance.now()`. */
export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  scheduleOnce: (delayMs, task) => new TimeoutTask(delayMs, task),
}

/**
 * Real elapsed time in ms, whatever scheduler the streams use: the executor slices its work by it,
 * so that the event loop gets its turn every few milliseconds (virtual time does not advance while work runs).
 */
export const realTimeNow = (): number => performance.now()

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
  /** Run `task` once, `delayMs` from now (0 or less: as soon as possible, after I/O). */
  scheduleOnce(delayMs: number, task: () => void): Cancellable
}

class TimeoutTask implements Cancellable {
  #handle: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined
  readonly #immediate: boolean
  constructor(delayMs: number, task: () => void) {
    const run = (): void => {
      this.#handle = undefined
      task()
    }
    this.#immediate = delayMs <= 0
    this.#handle = this.#immediate ? setImmediate(run) : setTimeout(run, delayMs)
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

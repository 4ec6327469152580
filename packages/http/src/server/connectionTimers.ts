/**
 * The first timer of every connection of one server, on one scheduler timer.
 *
 * A connection arms its timeouts once when it starts, for the shortest of the server's timeouts
 * (see the connection stage), so every connection of a server arms the same delay and the
 * deadlines come in the order they were armed. A queue — a doubly linked list through the entries
 * themselves — then does the work of a timer per connection: adding is an append, and a
 * connection that ends before its deadline (most do) unlinks its entry at no cost. When the
 * head's deadline comes, every entry due is told, in the order it was armed, and the one timer is
 * armed for the next head. Nothing is armed while the queue is empty.
 *
 * Entries are told outside any stage: an entry delivers the news into its stage itself (an async
 * callback).
 */
import type { Cancellable, Scheduler } from '@weir/core'
import type { ServerSettings } from './ServerSettings.js'

/** A connection's place in the queue. */
export interface TimerEntry {
  /** @internal */ _prev: TimerEntry | undefined
  /** @internal */ _next: TimerEntry | undefined
  /** @internal the deadline while queued; Infinity otherwise */ _at: number
  /** The deadline `at` came (called from the scheduler, outside the stage). */
  timerDue(at: number): void
}

/** The delay every connection of a server with `settings` arms first: its shortest timeout. */
export function firstTimeout(settings: ServerSettings): number {
  return Math.min(settings.idleTimeout, settings.headerReadTimeout, settings.lingerTimeout, settings.requestTimeout)
}

export class ConnectionTimers {
  #head: TimerEntry | undefined = undefined
  #tail: TimerEntry | undefined = undefined
  #task: Cancellable | undefined = undefined
  #armedFor = Infinity

  constructor(
    readonly scheduler: Scheduler,
    /** The one delay entries are added with (finite). */
    readonly delay: number,
  ) {}

  /** Queue `e` for `delay` from now; returns its deadline. */
  add(e: TimerEntry): number {
    const at = this.scheduler.now() + this.delay
    e._at = at
    e._prev = this.#tail
    e._next = undefined
    if (this.#tail === undefined) this.#head = e
    else this.#tail._next = e
    this.#tail = e
    if (this.#task === undefined) this.#arm(at)
    return at
  }

  /** Take `e` out of the queue (nothing happens if it is not queued). */
  remove(e: TimerEntry): void {
    if (e._at === Infinity) return
    this.#unlink(e)
    if (this.#head === undefined && this.#task !== undefined) {
      this.#task.cancel()
      this.#task = undefined
    }
  }

  #unlink(e: TimerEntry): void {
    const { _prev: prev, _next: next } = e
    if (prev === undefined) this.#head = next
    else prev._next = next
    if (next === undefined) this.#tail = prev
    else next._prev = prev
    e._prev = undefined
    e._next = undefined
    e._at = Infinity
  }

  #arm(at: number): void {
    this.#armedFor = at
    this.#task = this.scheduler.scheduleOnce(Math.max(0, at - this.scheduler.now()), this.#fire)
  }

  readonly #fire = (): void => {
    this.#task = undefined
    const firedFor = this.#armedFor
    for (let e = this.#head; e !== undefined && e._at <= firedFor; e = this.#head) {
      const at = e._at
      this.#unlink(e)
      e.timerDue(at)
    }
    if (this.#head !== undefined && this.#task === undefined) this.#arm(this.#head._at)
  }
}

/**
 * The executor runs islands (interpreters) that have work, round robin, in bounded slices.
 *
 * A run starts in a microtask when work arrives (low latency, no timer), and every island runs at
 * most `sliceEvents` events before the next island gets its turn. Across one macrotask the
 * executor runs at most `turnEvents` events; past that it waits for `setImmediate`, so a busy
 * stream never starves I/O or timers — not even one fed by already-resolved promises.
 */
import type { GraphInterpreter } from './interpreter.js'
import { realTimeNow } from './scheduler.js'

export interface ExecutorLimits {
  /** Events one island runs before the next island's turn. */
  readonly sliceEvents: number
  /** Events run between two yields to the event loop. */
  readonly turnEvents: number
  /** Milliseconds of work between two yields to the event loop, whatever the number of events. */
  readonly turnMs: number
}

/**
 * A run starts in a microtask queued through a resolved promise: Node's `queueMicrotask` makes an
 * async resource and a bound function per call (about 100 ns, against 40), and a run starts once
 * per burst of outside events — once per request for a keep-alive connection. Islands catch their
 * stages' failures and `#runAfter` its callbacks'; anything else escaping a run (a bug) becomes an
 * unhandled rejection, which Node treats as an uncaught exception, as it would have been.
 */
const RESOLVED = Promise.resolve()

/** How many callbacks deferred with `afterRun` (typically socket flushes) are run together. */
const AFTER_RUN_BATCH = 32

export class Executor {
  /**
   * Islands waiting for their turn, in `#ready[#readyHead…#readyTail)`. The array is kept, not
   * emptied, between turns: a broadcast to 10 000 subscribers schedules 10 000 islands every
   * time, and growing the queue anew (and copying what is left after every yield) made a few MB
   * of garbage per second, some of it promoted when a young collection came mid-broadcast.
   */
  readonly #ready: (GraphInterpreter | undefined)[] = []
  #readyTail = 0
  /** Deferred callbacks and their arguments, in pairs; `#spare` is the other array, reused. */
  #after: unknown[] = []
  #spare: unknown[] = []
  #readyHead = 0
  #running = false
  #microPending = false
  #markerPending = false
  #used = 0
  #idleWaiters: (() => void)[] = []

  constructor(
    readonly limits: ExecutorLimits,
    readonly onError: (error: unknown) => void = (e) => console.error('[weir] a callback after an island run failed', e),
  ) {}

  schedule(it: GraphInterpreter): void {
    if (it.scheduled) return
    it.scheduled = true
    this.#ready[this.#readyTail++] = it
    if (this.#running || this.#microPending) return
    if (this.#used < this.limits.turnEvents) {
      this.#microPending = true
      void RESOLVED.then(this.#runMicro)
    } else this.#ensureMarker()
  }

  /**
   * Runs `callback` after the island that is running now, together with those of a few more
   * islands: socket writes deferred this way leave close together (cheaper for the kernel than
   * writes spread between islands' work) and soon (not only at the end of a long turn).
   */
  afterRun(callback: (arg: unknown) => void, arg?: unknown): void {
    this.#after.push(callback, arg)
  }

  #runAfter(): void {
    const after = this.#after
    // a callback may defer another one: it goes into the other array, run with the next batch
    this.#after = this.#spare
    for (let i = 0; i < after.length; i += 2) {
      try {
        ;(after[i] as (arg: unknown) => void)(after[i + 1])
      } catch (e) {
        this.onError(e)
      }
    }
    after.length = 0
    this.#spare = after
  }

  /** True when no island has pending work. */
  get isIdle(): boolean {
    return !this.#running && this.#readyHead === this.#readyTail
  }

  /** Resolves once no island has pending work (it may get new work later). */
  whenIdle(): Promise<void> {
    if (this.isIdle) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  #runMicro = (): void => {
    this.#microPending = false
    this.#run()
  }

  #ensureMarker(): void {
    if (this.#markerPending) return
    this.#markerPending = true
    setImmediate(this.#onMarker)
  }

  #onMarker = (): void => {
    this.#markerPending = false
    this.#used = 0
    if (!this.#running && this.#readyHead < this.#readyTail) this.#run()
  }

  #run(): void {
    if (this.#running) return
    this.#ensureMarker()
    this.#running = true
    const { sliceEvents, turnEvents, turnMs } = this.limits
    const deadline = realTimeNow() + turnMs
    let islands = 0
    try {
      while (this.#readyHead < this.#readyTail && this.#used < turnEvents) {
        const it = this.#ready[this.#readyHead]!
        this.#ready[this.#readyHead++] = undefined
        it.scheduled = false
        const ran = it.execute(sliceEvents)
        this.#used += ran + 1
        if (!it.finished && it.hasPendingWork()) {
          it.scheduled = true
          this.#ready[this.#readyTail++] = it
        }
        if (this.#after.length >= 2 * AFTER_RUN_BATCH) this.#runAfter()
        // a long turn (a fan-out to thousands of subscribers) lets I/O in every few milliseconds:
        // a listening socket accepts one connection per loop iteration. The clock is read after
        // every 8th island, or after an island that ran more than a few events
        if ((++islands & 7) === 0 || ran > 16) {
          if (realTimeNow() < deadline) continue
          this.#used = turnEvents
          break
        }
      }
    } finally {
      if (this.#after.length > 0) this.#runAfter()
      this.#running = false
      const head = this.#readyHead
      const tail = this.#readyTail
      if (head === tail) this.#readyHead = this.#readyTail = 0
      else if (head > 1024 && head * 2 >= tail) {
        // mostly consumed: move the rest to the front, in place (each island moves at most once per time the queue halves)
        const ready = this.#ready
        ready.copyWithin(0, head, tail)
        ready.fill(undefined, tail - head, tail)
        this.#readyHead = 0
        this.#readyTail = tail - head
      }
    }
    if (this.#readyHead < this.#readyTail) return // the marker resumes after I/O
    const waiters = this.#idleWaiters
    if (waiters.length > 0) {
      this.#idleWaiters = []
      for (const w of waiters) w()
    }
  }
}

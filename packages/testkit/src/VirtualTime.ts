/**
 * Virtual time for stream tests: a {@link Scheduler} whose clock moves only when the test says
 * so. Create one, run graphs on its materializer, then `await time.advance(ms)`: due timers fire
 * in deadline order, and after each one the streams are given the chance to react before the
 * next fires, so a test reads "advance, then assert".
 *
 * ```ts
 * const time = new VirtualTime()
 * const probe = Source.never().idleTimeout(1000).runWith(TestSink.probe(), time.materializer)
 * await time.advance(999); await probe.expectNoMessage()
 * await time.advance(1);   await probe.expectError()
 * ```
 */
import { Materializer, type Cancellable, type MaterializerSettings, type Scheduler } from '@weir/core'

interface Task {
  readonly at: number
  readonly seq: number
  run: (() => void) | undefined
}

export class VirtualTime implements Scheduler {
  #now = 0
  #seq = 0
  #heap: Task[] = []
  readonly materializer: Materializer

  constructor(settings: Omit<MaterializerSettings, 'scheduler'> = {}) {
    this.materializer = Materializer.create({ ...settings, scheduler: this })
  }

  now(): number {
    return this.#now
  }

  scheduleOnce(delayMs: number, task: () => void): Cancellable {
    const t: Task = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, run: task }
    this.#push(t)
    return {
      cancel: () => {
        if (t.run === undefined) return false
        t.run = undefined
        return true
      },
    }
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#heap.filter((t) => t.run !== undefined).length
  }

  /** Move the clock forward by `ms`, firing due timers in order and letting streams react after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms
    await this.settle()
    for (;;) {
      const next = this.#peek()
      if (next === undefined || next.at > target) break
      this.#pop()
      const run = next.run
      if (run === undefined) continue
      next.run = undefined
      this.#now = next.at
      run()
      await this.settle()
    }
    this.#now = target
    await this.settle()
  }

  /** Let pending stream work, microtasks and immediates run, without moving the clock. */
  async settle(): Promise<void> {
    for (let i = 0; i < 4; i++) {
      await this.materializer.whenIdle()
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  // ---- a binary min-heap ordered by (at, seq) ----
  #less(a: Task, b: Task): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }
  #push(t: Task): void {
    const h = this.#heap
    h.push(t)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }
  #peek(): Task | undefined {
    while (this.#heap.length > 0 && this.#heap[0]!.run === undefined) this.#pop()
    return this.#heap[0]
  }
  #pop(): Task | undefined {
    const h = this.#heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last !== undefined) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

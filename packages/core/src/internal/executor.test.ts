import { describe, expect, it } from 'vitest'
import { Executor } from './executor.js'
import type { GraphInterpreter } from './interpreter.js'

/** An island that needs `slices` turns: each `execute` runs one event, and it stays pending until the last. */
class FakeIsland {
  scheduled = false
  finished = false
  runs = 0
  constructor(
    readonly id: number,
    readonly slices: number,
    readonly order: number[],
  ) {}
  execute(): number {
    this.runs++
    this.order.push(this.id)
    if (this.runs === this.slices) this.finished = true
    return 1
  }
  hasPendingWork(): boolean {
    return !this.finished
  }
}

describe('Executor', () => {
  it('runs thousands of islands round robin across many yielding turns, each exactly as often as it needs, then is idle', async () => {
    // a few events per turn: most turns end with islands still waiting, and the queue's head
    // passes 1024 while islands re-enter at its tail (the queue is compacted in place)
    const executor = new Executor({ sliceEvents: 1, turnEvents: 600, turnMs: 1_000 })
    const order: number[] = []
    const islands = Array.from({ length: 3000 }, (_, i) => new FakeIsland(i, 1 + (i % 3), order))
    for (const it of islands) executor.schedule(it as unknown as GraphInterpreter)
    await executor.whenIdle()
    expect(executor.isIdle).toBe(true)
    for (const it of islands) expect(it.runs).toBe(it.slices)
    expect(order.length).toBe(3000 + 1000 * (0 + 1 + 2))
    // round robin: every island's first run comes before any island's second
    expect(order.slice(0, 3000)).toEqual(islands.map((it) => it.id))
    const second = order.slice(3000, 5000)
    expect(second).toEqual(islands.filter((it) => it.slices >= 2).map((it) => it.id))
    expect(order.slice(5000)).toEqual(islands.filter((it) => it.slices === 3).map((it) => it.id))

    // the same executor, reused: a second burst runs in full as well
    const again = Array.from({ length: 1500 }, (_, i) => new FakeIsland(i, 2, []))
    for (const it of again) executor.schedule(it as unknown as GraphInterpreter)
    await executor.whenIdle()
    for (const it of again) expect(it.runs).toBe(2)
  })
})

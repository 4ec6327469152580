/**
 * The server's timer queue: entries added with one delay are told at their exact deadlines, in the
 * order they were added, on a single scheduler timer; a removed entry is never told, and an empty
 * queue leaves no timer behind.
 */
import { describe, expect, it } from 'vitest'
import { VirtualTime } from '@weir/testkit'
import { ConnectionTimers, type TimerEntry } from './connectionTimers.js'

class Entry implements TimerEntry {
  _prev: TimerEntry | undefined = undefined
  _next: TimerEntry | undefined = undefined
  _at = Infinity
  constructor(
    readonly name: string,
    readonly log: string[],
    readonly time: VirtualTime,
  ) {}
  timerDue(at: number): void {
    this.log.push(`${this.name}@${at}/${this.time.now()}`)
  }
}

describe('ConnectionTimers', () => {
  it('tells each entry at its exact deadline, in the order added, with one scheduler timer', async () => {
    const time = new VirtualTime()
    const log: string[] = []
    const timers = new ConnectionTimers(time, 100)
    const a = new Entry('a', log, time)
    const b = new Entry('b', log, time)
    const c = new Entry('c', log, time)
    expect(timers.add(a)).toBe(100)
    await time.advance(30)
    expect(timers.add(b)).toBe(130)
    expect(timers.add(c)).toBe(130)
    expect(time.pendingTimers).toBe(1)
    await time.advance(69)
    expect(log).toEqual([])
    await time.advance(1)
    expect(log).toEqual(['a@100/100'])
    expect(time.pendingTimers).toBe(1)
    await time.advance(29)
    expect(log).toEqual(['a@100/100'])
    await time.advance(1)
    expect(log).toEqual(['a@100/100', 'b@130/130', 'c@130/130'])
    expect(time.pendingTimers).toBe(0)
    expect(a._at).toBe(Infinity)
  })

  it('never tells a removed entry, and leaves no timer once the queue is empty', async () => {
    const time = new VirtualTime()
    const log: string[] = []
    const timers = new ConnectionTimers(time, 50)
    const a = new Entry('a', log, time)
    const b = new Entry('b', log, time)
    const c = new Entry('c', log, time)
    timers.add(a)
    timers.add(b)
    timers.add(c)
    timers.remove(b)
    timers.remove(b) // not queued any more: nothing happens
    await time.advance(50)
    expect(log).toEqual(['a@50/50', 'c@50/50'])
    timers.add(b)
    expect(time.pendingTimers).toBe(1)
    timers.remove(b)
    expect(time.pendingTimers).toBe(0)
    await time.advance(100)
    expect(log).toEqual(['a@50/50', 'c@50/50'])
  })

  it('can queue an entry again after it was told', async () => {
    const time = new VirtualTime()
    const log: string[] = []
    const timers = new ConnectionTimers(time, 10)
    const a = new Entry('a', log, time)
    timers.add(a)
    await time.advance(10)
    timers.add(a)
    await time.advance(10)
    expect(log).toEqual(['a@10/10', 'a@20/20'])
  })
})

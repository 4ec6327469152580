import { afterEach, describe, expect, it, vi } from 'vitest'
import { systemScheduler } from './scheduler.js'

describe('systemScheduler', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('reaches delays longer than setTimeout can hold in one step, at the exact deadline', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const fired: number[] = []
    const thirtyDays = 30 * 86_400_000
    systemScheduler.scheduleOnce(thirtyDays, () => fired.push(performance.now()))
    vi.advanceTimersByTime(2 ** 31)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(thirtyDays - 2 ** 31 - 1)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toHaveLength(1)
  })

  it('cancels a pending task, once', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    let ran = false
    const task = systemScheduler.scheduleOnce(100, () => {
      ran = true
    })
    expect(task.cancel()).toBe(true)
    expect(task.cancel()).toBe(false)
    vi.advanceTimersByTime(200)
    expect(ran).toBe(false)
  })

  it('never runs an infinite delay', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    let ran = false
    const task = systemScheduler.scheduleOnce(Infinity, () => {
      ran = true
    })
    vi.advanceTimersByTime(2 ** 40)
    expect(ran).toBe(false)
    expect(task.cancel()).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'
import { RingBuffer, makeRoom } from './RingBuffer.js'

describe('RingBuffer', () => {
  it('is a FIFO that wraps around without losing order', () => {
    const b = new RingBuffer<number>(4)
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++) b.push(round * 10 + i)
      expect([b.shift(), b.shift(), b.shift()]).toEqual([round * 10, round * 10 + 1, round * 10 + 2])
    }
    expect(b.isEmpty).toBe(true)
  })

  it('reports full at its capacity; without one it grows and keeps order', () => {
    const bounded = new RingBuffer<number>(3)
    bounded.push(1)
    bounded.push(2)
    bounded.push(3)
    expect(bounded.isFull).toBe(true)
    const growing = new RingBuffer<number>(Infinity, 2)
    growing.push(-1)
    growing.shift()
    for (let i = 0; i < 1000; i++) growing.push(i)
    expect(growing.isFull).toBe(false)
    expect([...growing]).toEqual(Array.from({ length: 1000 }, (_, i) => i))
    expect(growing.pop()).toBe(999)
    expect(growing.peek()).toBe(0)
  })

  it('a bounded buffer that starts small grows to its bound in order, wrapped or not', () => {
    const b = new RingBuffer<number>(16, 2)
    b.push(-1)
    b.push(-2)
    expect(b.shift()).toBe(-1) // the head is no longer at slot 0 when it grows
    for (let i = 0; i < 15; i++) b.push(i)
    expect(b.isFull).toBe(true)
    expect(b.length).toBe(16)
    expect([...b]).toEqual([-2, ...Array.from({ length: 15 }, (_, i) => i)])
    expect(b.shift()).toBe(-2)
    b.push(15)
    expect(b.pop()).toBe(15)
    expect(b.peek()).toBe(0)
  })

  it('makes room per drop strategy', () => {
    const fill = (): RingBuffer<number> => {
      const b = new RingBuffer<number>(3)
      ;[1, 2, 3].forEach((x) => b.push(x))
      return b
    }
    const cases = [
      ['dropHead', 'room', [2, 3]],
      ['dropTail', 'room', [1, 2]],
      ['dropBuffer', 'room', []],
      ['dropNew', 'drop-new', [1, 2, 3]],
      ['fail', 'fail', [1, 2, 3]],
    ] as const
    for (const [strategy, result, left] of cases) {
      const b = fill()
      expect(makeRoom(b, strategy)).toBe(result)
      expect([...b]).toEqual(left)
    }
  })
})

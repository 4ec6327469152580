import { describe, expect, it } from 'vitest'
import { Deque } from './Deque.js'

describe('Deque', () => {
  it('is a FIFO that grows past its initial capacity, also when wrapped around', () => {
    const d = new Deque<number>(4)
    const out: number[] = []
    let next = 0
    // interleave pushes and shifts so the contents wrap around the array before it grows
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3; i++) d.push(next++)
      out.push(d.shift())
    }
    expect(d.length).toBe(100)
    while (!d.isEmpty) out.push(d.shift())
    expect(out).toEqual(Array.from({ length: 150 }, (_, i) => i))
  })

  it('clear empties it', () => {
    const d = new Deque<string>()
    d.push('a')
    d.push('b')
    d.clear()
    expect(d.isEmpty).toBe(true)
    d.push('c')
    expect(d.shift()).toBe('c')
  })
})

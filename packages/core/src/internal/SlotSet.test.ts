import { describe, expect, it } from 'vitest'
import { SlotSet } from './SlotSet.js'

class Member {
  _slot = -1
  constructor(readonly name: string) {}
}

const names = (s: SlotSet<Member>): string[] => s.toArray().map((m) => m.name).sort()

describe('SlotSet', () => {
  it('adds and removes members in any order, each keeping the index it is found at', () => {
    const s = new SlotSet<Member>()
    const all = Array.from({ length: 6 }, (_, i) => new Member(`m${i}`))
    for (const m of all) s.add(m)
    expect(s.size).toBe(6)
    // remove from the middle, the end and the start: the moved members stay findable
    for (const i of [2, 5, 0]) expect(s.delete(all[i]!)).toBe(true)
    expect(names(s)).toEqual(['m1', 'm3', 'm4'])
    for (const m of s.toArray()) expect(s.at(m._slot)).toBe(m)
    // indexing 0 … size - 1 visits every member once
    expect(Array.from({ length: s.size }, (_, i) => s.at(i).name).sort()).toEqual(['m1', 'm3', 'm4'])
    for (const i of [1, 3, 4]) expect(s.has(all[i]!)).toBe(true)
    for (const i of [0, 2, 5]) {
      expect(s.has(all[i]!)).toBe(false)
      expect(all[i]!._slot).toBe(-1)
    }
  })

  it('removing a member twice, or one it never held, changes nothing', () => {
    const s = new SlotSet<Member>()
    const a = new Member('a')
    const b = new Member('b')
    s.add(a)
    s.add(b)
    expect(s.delete(a)).toBe(true)
    expect(s.delete(a)).toBe(false)
    // a stranger whose slot points at a held member's index is not that member
    const stranger = new Member('x')
    stranger._slot = 0
    expect(s.delete(stranger)).toBe(false)
    expect(s.has(stranger)).toBe(false)
    expect(names(s)).toEqual(['b'])
  })

  it('iterates over a copy: members may leave during the iteration and every one is visited once', () => {
    const s = new SlotSet<Member>()
    const all = Array.from({ length: 5 }, (_, i) => new Member(`m${i}`))
    for (const m of all) s.add(m)
    const seen: string[] = []
    for (const m of s) {
      seen.push(m.name)
      s.delete(m)
    }
    expect(seen.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    expect(s.size).toBe(0)
  })

  it('clear() releases every member, which can then join again', () => {
    const s = new SlotSet<Member>()
    const a = new Member('a')
    s.add(a)
    s.add(new Member('b'))
    s.clear()
    expect(s.size).toBe(0)
    expect(a._slot).toBe(-1)
    s.add(a)
    expect(s.has(a)).toBe(true)
    expect(s.size).toBe(1)
  })
})

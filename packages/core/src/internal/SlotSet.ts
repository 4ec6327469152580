/**
 * A set for registries with churn: the open connections of a server, the running islands of a
 * materializer. Each member keeps its own index (`_slot`), so adding is a push and removing moves
 * the last member into the hole — O(1), no hashing, and iteration order is not kept.
 *
 * Why not a `Map` or `Set`: V8 rehashes a hash table into a new one as it grows and shrinks, and
 * the table it leaves behind still points to the entries it held (for iterators that may still be
 * walking it). When the registry lives long, that table sits in the old generation, where a
 * young-generation collection cannot tell it is garbage: every member it points to survives and is
 * promoted, with everything the member reaches — a whole connection graph, until the next full
 * collection. A registry that sees a few members at a time and thousands pass through rehashes
 * constantly, so most members ended up promoted. A removed member here is referenced by nothing.
 */

/** A member of one {@link SlotSet} at a time: its index there, or -1. */
export interface Slotted {
  /** @internal */ _slot: number
}

export class SlotSet<T extends Slotted> implements Iterable<T> {
  #items: T[] = []

  get size(): number {
    return this.#items.length
  }

  /** Add `x` (which must not be a member of any set). */
  add(x: T): void {
    x._slot = this.#items.length
    this.#items.push(x)
  }

  /** Remove `x`; false when it was not a member. */
  delete(x: T): boolean {
    const items = this.#items
    const i = x._slot
    if (i < 0 || items[i] !== x) return false
    const last = items.pop()!
    if (last !== x) {
      items[i] = last
      last._slot = i
    }
    x._slot = -1
    return true
  }

  has(x: T): boolean {
    return x._slot >= 0 && this.#items[x._slot] === x
  }

  /**
   * The member at index `i` (`0 <= i < size`): for a loop on a hot path that adds and removes no
   * member meanwhile — a fan-out per element, where iterating (over a copy) would allocate an array
   * per element. An index is not stable: removing a member moves the last one into its place.
   */
  at(i: number): T {
    return this.#items[i]!
  }

  /** A copy of the members, safe to iterate while members are added or removed. */
  toArray(): T[] {
    return this.#items.slice()
  }

  /** Iterates over a copy (members may be added or removed meanwhile). */
  [Symbol.iterator](): Iterator<T> {
    return this.toArray()[Symbol.iterator]()
  }

  clear(): void {
    for (const x of this.#items) x._slot = -1
    this.#items = []
  }
}

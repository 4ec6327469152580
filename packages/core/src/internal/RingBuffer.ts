/**
 * A FIFO over a power-of-two array; O(1) at both ends, no shifting. Bounded (`isFull` at
 * `capacity`) or not; either way the array starts at `initialSize` (at most the capacity) and
 * grows by doubling as needed (it never shrinks: a queue that once held n elements will hold n
 * again). A bound is a limit, not a reservation: a stream that rarely queues keeps a small array.
 */
export class RingBuffer<T> {
  #items: (T | undefined)[]
  #mask: number
  #head = 0
  #size = 0
  /**
   * @param capacity the bound of `isFull` (default: unbounded)
   * @param initialSize the slots made at first (rounded up to a power of two, at least 2)
   */
  constructor(
    readonly capacity = Infinity,
    initialSize = 8,
  ) {
    const n = 1 << Math.ceil(Math.log2(Math.max(2, Math.min(capacity, initialSize))))
    this.#items = new Array(n)
    this.#mask = n - 1
  }
  get length(): number {
    return this.#size
  }
  get isEmpty(): boolean {
    return this.#size === 0
  }
  get isFull(): boolean {
    return this.#size >= this.capacity
  }
  push(x: T): void {
    if (this.#size > this.#mask) this.#grow()
    this.#items[(this.#head + this.#size) & this.#mask] = x
    this.#size++
  }
  /** Remove and return the oldest element; the buffer must not be empty. */
  shift(): T {
    const i = this.#head
    const x = this.#items[i] as T
    this.#items[i] = undefined
    this.#head = (i + 1) & this.#mask
    this.#size--
    return x
  }
  /** Remove the newest element. */
  pop(): T {
    this.#size--
    const i = (this.#head + this.#size) & this.#mask
    const x = this.#items[i] as T
    this.#items[i] = undefined
    return x
  }
  peek(): T {
    return this.#items[this.#head] as T
  }
  clear(): void {
    if (this.#size > 0) this.#items.fill(undefined)
    this.#head = 0
    this.#size = 0
  }
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#items[(this.#head + i) & this.#mask] as T
  }
  #grow(): void {
    const old = this.#items
    const n = old.length
    const items: (T | undefined)[] = new Array(n * 2)
    for (let i = 0; i < n; i++) items[i] = old[(this.#head + i) & this.#mask]
    this.#items = items
    this.#mask = n * 2 - 1
    this.#head = 0
  }
}

/** The overflow strategies that drop (all but 'backpressure'). */
export type DropStrategy = 'dropHead' | 'dropTail' | 'dropBuffer' | 'dropNew' | 'fail'

/**
 * Make room in a full buffer for one more element, per a dropping strategy: 'dropHead' removes
 * the oldest element, 'dropTail' the newest, 'dropBuffer' all of them ('room': push the new one);
 * 'dropNew' and 'fail' leave the buffer alone and say so.
 */
export function makeRoom(buffer: RingBuffer<unknown>, strategy: DropStrategy): 'room' | 'drop-new' | 'fail' {
  switch (strategy) {
    case 'dropHead':
      buffer.shift()
      return 'room'
    case 'dropTail':
      buffer.pop()
      return 'room'
    case 'dropBuffer':
      buffer.clear()
      return 'room'
    case 'dropNew':
      return 'drop-new'
    case 'fail':
      return 'fail'
  }
}

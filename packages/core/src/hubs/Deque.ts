/**
 * A growable FIFO over a power-of-two array, for the hubs' queues whose total is bounded but whose
 * share per producer or consumer is not. O(1) at both ends; the array doubles when full and is
 * never shrunk (a queue that once held n elements will hold n again).
 */
export class Deque<T> {
  #items: (T | undefined)[]
  #mask: number
  #head = 0
  #size = 0

  constructor(initialCapacity = 8) {
    const n = Math.max(2, 1 << Math.ceil(Math.log2(Math.max(2, initialCapacity))))
    this.#items = new Array<T | undefined>(n)
    this.#mask = n - 1
  }

  get length(): number {
    return this.#size
  }

  get isEmpty(): boolean {
    return this.#size === 0
  }

  push(x: T): void {
    if (this.#size > this.#mask) this.#grow()
    this.#items[(this.#head + this.#size) & this.#mask] = x
    this.#size++
  }

  /** Remove and return the oldest element; the deque must not be empty. */
  shift(): T {
    const i = this.#head
    const x = this.#items[i] as T
    this.#items[i] = undefined
    this.#head = (i + 1) & this.#mask
    this.#size--
    return x
  }

  clear(): void {
    if (this.#size > 0) this.#items.fill(undefined)
    this.#head = 0
    this.#size = 0
  }

  #grow(): void {
    const old = this.#items
    const n = old.length
    const items = new Array<T | undefined>(n * 2)
    for (let i = 0; i < n; i++) items[i] = old[(this.#head + i) & this.#mask]
    this.#items = items
    this.#mask = n * 2 - 1
    this.#head = 0
  }
}

/** A bounded FIFO over a power-of-two array; O(1) at both ends, no shifting. */
export class RingBuffer<T> {
  #items: (T | undefined)[]
  #mask: number
  #head = 0
  #size = 0
  constructor(readonly capacity: number) {
    const n = Math.max(2, 1 << Math.ceil(Math.log2(Math.max(1, capacity))))
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
    this.#items[(this.#head + this.#size) & this.#mask] = x
    this.#size++
  }
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
    this.#items.fill(undefined)
    this.#head = 0
    this.#size = 0
  }
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#items[(this.#head + i) & this.#mask] as T
  }
}

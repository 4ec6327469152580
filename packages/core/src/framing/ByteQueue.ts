/**
 * ByteQueue: the bytes a framing stage has received and not yet emitted, kept as the chunks
 * they arrived in — never copied on arrival.
 *
 * Contract: `take(n)` removes the first `n` bytes and returns them as a `subarray` view when
 * they lie inside one chunk, otherwise copied once into a new array of exactly `n` bytes (a
 * `Buffer` when the first chunk is one, so Node users keep `toString` & co). `offset` is the stream
 * offset of the first byte still queued, for error reports that do not depend on chunking.
 */
import { Buffer } from 'node:buffer'

/** Chunks consumed from the front before the array is compacted. */
const COMPACT_AFTER = 32

export class ByteQueue {
  #chunks: Uint8Array[] = []
  /** Index of the first chunk still holding bytes. */
  #head = 0
  /** Read position inside the first chunk. */
  #pos = 0
  #size = 0
  #offset = 0

  /** Bytes queued. */
  get size(): number {
    return this.#size
  }
  /** Stream offset of the first queued byte. */
  get offset(): number {
    return this.#offset
  }
  /** The most recently appended chunk (undefined when empty). */
  get last(): Uint8Array | undefined {
    return this.#size === 0 ? undefined : this.#chunks[this.#chunks.length - 1]
  }

  /** Queue a non-empty chunk. */
  append(chunk: Uint8Array): void {
    this.#chunks.push(chunk)
    this.#size += chunk.length
  }

  /** Remove and return the first `n` bytes (n ≤ size): a view when possible, else one copy. */
  take(n: number): Uint8Array {
    const first = this.#chunks[this.#head]
    if (first === undefined) return EMPTY
    const start = this.#pos
    if (first.length - start >= n) {
      const view = first.subarray(start, start + n)
      this.#advance(n)
      return view
    }
    const out = Buffer.isBuffer(first) ? Buffer.allocUnsafe(n) : new Uint8Array(n)
    this.#copyInto(out, n)
    this.#advance(n)
    return out
  }

  /** The first `n` bytes without removing them (n ≤ size): a view when possible, else a copy. */
  peek(n: number): Uint8Array {
    const first = this.#chunks[this.#head]
    if (n === 0 || first === undefined) return EMPTY
    if (first.length - this.#pos >= n) return first.subarray(this.#pos, this.#pos + n)
    const out = new Uint8Array(n)
    this.#copyInto(out, n)
    return out
  }

  /** Drop the first `n` bytes (n ≤ size). */
  skip(n: number): void {
    if (n > 0) this.#advance(n)
  }

  #copyInto(out: Uint8Array, n: number): void {
    let written = 0
    let pos = this.#pos
    for (let i = this.#head; written < n; i++) {
      const c = this.#chunks[i]!
      const k = Math.min(c.length - pos, n - written)
      out.set(pos === 0 && k === c.length ? c : c.subarray(pos, pos + k), written)
      written += k
      pos = 0
    }
  }

  #advance(n: number): void {
    this.#size -= n
    this.#offset += n
    let left = n
    const chunks = this.#chunks
    while (left > 0) {
      const c = chunks[this.#head]!
      const avail = c.length - this.#pos
      if (left < avail) {
        this.#pos += left
        return
      }
      left -= avail
      chunks[this.#head] = EMPTY
      this.#head++
      this.#pos = 0
    }
    if (this.#head === chunks.length) {
      chunks.length = 0
      this.#head = 0
    } else if (this.#head >= COMPACT_AFTER) {
      this.#chunks = chunks.slice(this.#head)
      this.#head = 0
    }
  }
}

const EMPTY = new Uint8Array(0)

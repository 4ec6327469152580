/**
 * An async boundary between two islands. The upstream island ends in a {@link BoundaryOut}
 * stage, the downstream island starts with a {@link BoundaryIn} source, and the two share a
 * bounded buffer. Demand crosses in batches: upstream may send as many elements as it holds
 * credit for; downstream returns credit after consuming half the buffer. One wake-up crosses the
 * boundary per batch, not per element.
 *
 * The downstream side is a pollable source and the upstream side a sync sink, so the operators on
 * both sides fuse with them: upstream fills the buffer in a loop while it has credit, downstream
 * drains it in a loop (PENDING when it is empty, woken when elements arrive).
 */
import { RingBuffer } from './RingBuffer.js'
import { DONE, PENDING, SyncSinkStage, SyncSourceStage, type Done, type Pending, type SyncSink, type SyncSource } from '../stage/fusion.js'

class Channel {
  readonly buffer: RingBuffer<unknown>
  done = false
  failed = false
  error: unknown = undefined
  /** Set by the downstream side: called when the buffer becomes non-empty or upstream ended. */
  wake: (() => void) | undefined
  /** Set by the upstream side: credit returned by downstream (runs via the upstream stage's callback). */
  grant: ((n: number) => void) | undefined
  cancelUpstream: ((cause: unknown) => void) | undefined
  constructor(readonly size: number) {
    this.buffer = new RingBuffer(size)
  }
  signal(): void {
    this.wake?.()
  }
}

class ChannelSink implements SyncSink<unknown> {
  #credit: number
  constructor(readonly ch: Channel) {
    this.#credit = ch.size
  }
  start(wake: () => void, cancel: (cause: unknown) => void): void {
    this.ch.grant = (n) => {
      this.#credit += n
      wake()
    }
    this.ch.cancelUpstream = cancel
  }
  hasRoom(): boolean {
    return this.#credit > 0
  }
  offer(x: unknown): void {
    const ch = this.ch
    const wasEmpty = ch.buffer.isEmpty
    ch.buffer.push(x)
    this.#credit--
    if (wasEmpty) ch.signal()
  }
  complete(): void {
    this.ch.done = true
    this.ch.signal()
  }
  fail(error: unknown): void {
    const ch = this.ch
    if (ch.done) return
    ch.done = true
    ch.failed = true
    ch.error = error
    ch.signal()
  }
}

export class BoundaryOut extends SyncSinkStage<unknown> {
  constructor(readonly channel: Channel) {
    super('AsyncBoundary')
  }
  createSink(): SyncSink<unknown> {
    return new ChannelSink(this.channel)
  }
}

class ChannelSource implements SyncSource<unknown> {
  readonly #batch: number
  #consumed = 0
  constructor(readonly ch: Channel) {
    this.#batch = Math.max(1, ch.size >> 1)
  }
  start(wake: () => void): void {
    this.ch.wake = wake
  }
  next(): unknown | Done | Pending {
    const ch = this.ch
    if (!ch.buffer.isEmpty) {
      const x = ch.buffer.shift()
      if (++this.#consumed >= this.#batch && !ch.done) {
        ch.grant!(this.#consumed)
        this.#consumed = 0
      }
      return x
    }
    if (!ch.done) return PENDING
    if (ch.failed) throw ch.error
    return DONE
  }
  exhausted(): boolean {
    return this.ch.done && this.ch.buffer.isEmpty
  }
  close(cause: unknown): void {
    this.ch.wake = undefined
    if (!this.ch.done) this.ch.cancelUpstream!(cause)
  }
}

export class BoundaryIn extends SyncSourceStage<unknown> {
  constructor(readonly channel: Channel) {
    super('AsyncBoundary')
  }
  createSource(): SyncSource<unknown> {
    return new ChannelSource(this.channel)
  }
}

export function boundaryPair(size: number): [BoundaryOut, BoundaryIn] {
  const ch = new Channel(size)
  return [new BoundaryOut(ch), new BoundaryIn(ch)]
}

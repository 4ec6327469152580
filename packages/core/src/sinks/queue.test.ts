import * as O from 'fp-ts/lib/Option.js'
import { assertAllStagesStopped, TestSource, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { AbruptTerminationError, Attributes, InvalidArgumentError, Keep, NoMoreElementsNeeded, QueueConcurrencyError, Sink, Source } from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** A probe feeding a Sink.queue that prefetches `buffer` elements. */
function queue(buffer: number, maxConcurrentPulls?: number) {
  const [src, q] = TestSource.probe<number>()
    .toMat(Sink.queue<number>(maxConcurrentPulls).withAttributes(Attributes.inputBuffer(buffer, buffer)), Keep.both)
    .run(time.materializer)
  return { src, q }
}

/** Track a promise: `result()` is undefined until it settled. */
function track<T>(p: Promise<T>): { result(): { value: T } | { error: unknown } | undefined } {
  let r: { value: T } | { error: unknown } | undefined
  p.then(
    (value) => (r = { value }),
    (error: unknown) => (r = { error }),
  )
  return { result: () => r }
}

describe('Sink.queue', () => {
  it('hands out the elements in order, then none once the stream completed', async () => {
    const q = Source.from([1, 2, 3]).runWith(Sink.queue<number>(), time.materializer)
    expect(await q.pull()).toEqual(O.some(1))
    expect(await q.pull()).toEqual(O.some(2))
    expect(await q.pull()).toEqual(O.some(3))
    expect(await q.pull()).toEqual(O.none)
    expect(await q.pull()).toEqual(O.none)
  })

  it('prefetches up to its buffer and requests more as elements are taken', async () => {
    const { src, q } = queue(2)
    await src.expectRequest()
    src.sendNext(1)
    await src.expectRequest()
    src.sendNext(2)
    await time.settle()
    expect(src.pending).toBe(0) // the buffer is full
    expect(await q.pull()).toEqual(O.some(1))
    await src.expectRequest() // a slot freed
    src.sendNext(3).sendComplete()
    expect(await q.pull()).toEqual(O.some(2))
    expect(await q.pull()).toEqual(O.some(3))
    expect(await q.pull()).toEqual(O.none)
  })

  it('a pull waits for the next element when none is buffered', async () => {
    const { src, q } = queue(1)
    const next = track(q.pull())
    await time.settle()
    expect(next.result()).toBeUndefined()
    src.sendNext(7)
    await time.settle()
    expect(next.result()).toEqual({ value: O.some(7) })
    src.sendComplete()
    expect(await q.pull()).toEqual(O.none)
  })

  it('rejects a pull beyond maxConcurrentPulls with QueueConcurrencyError', async () => {
    const one = queue(1)
    const first = track(one.q.pull())
    const error = (await one.q.pull().then(
      () => undefined,
      (e: unknown) => e,
    )) as QueueConcurrencyError
    expect(error).toBeInstanceOf(QueueConcurrencyError)
    expect([error.code, error.operation, error.limit]).toEqual(['WEIR_CORE_QUEUE_CONCURRENCY', 'pull', 1])
    one.src.sendNext(1).sendComplete()
    await time.settle()
    expect(first.result()).toEqual({ value: O.some(1) })

    const two = queue(1, 2)
    const a = two.q.pull()
    const b = two.q.pull()
    two.src.sendNext(1).sendNext(2).sendComplete()
    expect([await a, await b]).toEqual([O.some(1), O.some(2)])
    expect(await two.q.pull()).toEqual(O.none)
  })

  it('a failure comes after the elements that arrived before it', async () => {
    const { src, q } = queue(4)
    src.sendNext(1).sendNext(2)
    await time.settle()
    src.sendError(boom)
    await time.settle()
    expect(await q.pull()).toEqual(O.some(1))
    expect(await q.pull()).toEqual(O.some(2))
    await expect(q.pull()).rejects.toBe(boom)
    await expect(q.pull()).rejects.toBe(boom)
  })

  it('a waiting pull rejects when the stream fails', async () => {
    const { src, q } = queue(4)
    const waiting = q.pull()
    src.sendError(boom)
    await expect(waiting).rejects.toBe(boom)
  })

  it('cancel() cancels upstream; waiting and later pulls resolve with none', async () => {
    const { src, q } = queue(4)
    const waiting = q.pull()
    q.cancel()
    q.cancel()
    expect(await waiting).toEqual(O.none)
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    expect(await q.pull()).toEqual(O.none)
  })

  it('a waiting pull rejects with AbruptTerminationError when the stream is torn down', async () => {
    const other = new VirtualTime()
    const q = Source.never<number>().runWith(Sink.queue<number>(), other.materializer)
    const waiting = q.pull()
    await other.settle()
    other.materializer.shutdown()
    await expect(waiting).rejects.toBeInstanceOf(AbruptTerminationError)
    await expect(q.pull()).rejects.toBeInstanceOf(AbruptTerminationError)
  })

  it('reads a long stream one pull at a time', async () => {
    const q = Source.range(1, 1000).runWith(Sink.queue<number>(), time.materializer)
    let sum = 0
    for (let x = await q.pull(); O.isSome(x); x = await q.pull()) sum += x.value
    expect(sum).toBe(500500)
  })

  it('rejects invalid arguments', () => {
    expect(() => Sink.queue(0)).toThrow(InvalidArgumentError)
  })
})

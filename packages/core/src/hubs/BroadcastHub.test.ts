import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { AbruptTerminationError, BroadcastHub, InvalidArgumentError, Keep, KillSwitches, Sink, Source } from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** A probe-fed hub: the producer probe and the hub's consumer source. */
function hub(bufferSize = 8, startAfterNrOfConsumers?: number) {
  const [src, consumers] = TestSource.probe<number>()
    .toMat(BroadcastHub.sink<number>(bufferSize, { startAfterNrOfConsumers }), Keep.both)
    .run(time.materializer)
  const attach = (): SinkProbe<number> => consumers.runWith(TestSink.probe<number>(), time.materializer)
  return { src, consumers, attach }
}

/** Send `n` elements starting at `from`, each as soon as the hub pulls for it. */
function feed(src: { sendNext(x: number): unknown }, from: number, n: number): void {
  for (let i = 0; i < n; i++) src.sendNext(from + i)
}

describe('BroadcastHub', () => {
  it('delivers every element to every attached consumer, then completes them', async () => {
    const { src, attach } = hub()
    const a = attach()
    const b = attach()
    await time.settle()
    a.request(3)
    b.request(3)
    feed(src, 1, 3)
    expect(await a.expectNextN(3)).toEqual([1, 2, 3])
    expect(await b.expectNextN(3)).toEqual([1, 2, 3])
    src.sendComplete()
    await a.expectComplete()
    await b.expectComplete()
  })

  it('consumers attached before it starts pulling all see the stream from its start', async () => {
    const consumers = Source.from([1, 2, 3]).runWith(BroadcastHub.sink<number>(), time.materializer)
    const a = consumers.runWith(Sink.seq(), time.materializer)
    const b = consumers.runWith(Sink.seq(), time.materializer)
    expect(await a).toEqual([1, 2, 3])
    expect(await b).toEqual([1, 2, 3])
  })

  it('does not pull while no consumer is attached, and starts when one attaches', async () => {
    const { src, attach } = hub()
    await time.settle()
    expect(src.pending).toBe(0)
    const a = attach()
    await src.expectRequest()
    a.cancel()
    src.sendComplete()
  })

  it('waits for startAfterNrOfConsumers before the first pull', async () => {
    const { src, attach } = hub(8, 2)
    const a = attach()
    await time.settle()
    expect(src.pending).toBe(0)
    const b = attach()
    await src.expectRequest()
    a.request(1)
    b.request(1)
    src.sendNext(7)
    await a.expectNext(7)
    await b.expectNext(7)
    src.sendComplete()
    await a.expectComplete()
    await b.expectComplete()
  })

  it('a late consumer starts at the current position: it sees no earlier element', async () => {
    const { src, attach } = hub()
    const a = attach()
    await time.settle()
    a.request(10)
    feed(src, 1, 2)
    expect(await a.expectNextN(2)).toEqual([1, 2])
    const late = attach()
    await time.settle()
    late.request(10)
    feed(src, 3, 2)
    expect(await late.expectNextN(2)).toEqual([3, 4])
    expect(await a.expectNextN(2)).toEqual([3, 4])
    src.sendComplete()
    await a.expectComplete()
    await late.expectComplete()
  })

  it('a late consumer does not replay what a slower consumer has not read yet', async () => {
    const { src, attach } = hub(8)
    const slow = attach()
    await time.settle()
    feed(src, 1, 3) // buffered for slow, unread
    await time.settle()
    const late = attach()
    await time.settle()
    late.request(10)
    src.sendNext(4)
    await late.expectNext(4)
    slow.request(4)
    expect(await slow.expectNextN(4)).toEqual([1, 2, 3, 4])
    src.sendComplete()
    await late.expectComplete()
    await slow.expectComplete()
  })

  it('a slow consumer backpressures the producer only once the buffer is full', async () => {
    const { src, attach } = hub(4)
    const fast = attach()
    const slow = attach()
    await time.settle()
    fast.request(100)
    feed(src, 1, 10)
    // the hub pulled exactly 4 times: the slow consumer is then 4 elements behind
    expect(await fast.expectNextN(4)).toEqual([1, 2, 3, 4])
    await fast.expectNoMessage()
    expect(src.pending).toBe(0)
    // each element the slow one reads frees one slot, and the producer is pulled once more
    slow.request(1)
    await slow.expectNext(1)
    await fast.expectNext(5)
    await fast.expectNoMessage()
    slow.request(2)
    expect(await slow.expectNextN(2)).toEqual([2, 3])
    expect(await fast.expectNextN(2)).toEqual([6, 7])
    await fast.expectNoMessage()
    expect(src.pending).toBe(0)
    // once the slow one leaves, the producer is pulled as fast as the other consumer reads
    slow.cancel()
    expect(await fast.expectNextN(3)).toEqual([8, 9, 10])
    src.sendComplete()
    await fast.expectComplete()
  })

  it('a consumer behind a dropping buffer never holds the others back', async () => {
    const consumers = Source.range(1, 100).runWith(BroadcastHub.sink<number>(4, { startAfterNrOfConsumers: 2 }), time.materializer)
    const slow = consumers.buffer(3, 'dropHead').runWith(TestSink.probe<number>(), time.materializer)
    const fast = await consumers.runWith(Sink.seq(), time.materializer)
    expect(fast).toHaveLength(100)
    slow.request(10)
    expect(await slow.expectNextN(3)).toEqual([98, 99, 100])
    await slow.expectComplete()
  })

  it('a consumer that leaves mid-stream does not stall the others', async () => {
    const { src, attach } = hub(2)
    const a = attach()
    const b = attach()
    await time.settle()
    a.request(10)
    feed(src, 1, 6)
    expect(await a.expectNextN(2)).toEqual([1, 2])
    await a.expectNoMessage() // b has read nothing: the buffer is full
    b.cancel()
    expect(await a.expectNextN(4)).toEqual([3, 4, 5, 6])
    src.sendComplete()
    await a.expectComplete()
  })

  it('consumers that leave while waiting for an element do not hold the others back', async () => {
    const { src, attach } = hub(2)
    const consumers = Array.from({ length: 5 }, () => attach())
    await time.settle()
    for (const c of consumers) c.request(2)
    await time.settle() // every consumer waits for the first element
    consumers[0]!.cancel()
    consumers[2]!.cancel()
    await time.settle()
    src.sendNext(1)
    const stay = [consumers[1]!, consumers[3]!]
    for (const c of [...stay, consumers[4]!]) await c.expectNext(1)
    consumers[4]!.cancel() // waiting for its second element
    await time.settle()
    // more than the buffer holds: a consumer that left and still counted would stall the producer
    for (const c of stay) c.request(4)
    feed(src, 2, 5)
    for (const c of stay) expect(await c.expectNextN(5)).toEqual([2, 3, 4, 5, 6])
    src.sendComplete()
    for (const c of stay) await c.expectComplete()
  })

  it('consumers leaving do not cancel the producer; with none left it waits for the next one', async () => {
    const { src, attach } = hub(4)
    const a = attach()
    await time.settle()
    a.request(1)
    src.sendNext(1)
    await a.expectNext(1)
    a.cancel()
    await time.settle()
    expect(src.end).toBeUndefined()
    const b = attach()
    await time.settle()
    b.request(1)
    src.sendNext(2)
    await b.expectNext(2)
    src.sendComplete()
    await b.expectComplete()
  })

  it('completion reaches a consumer after the elements it has not read yet', async () => {
    const { src, attach } = hub(8)
    const a = attach()
    await time.settle()
    feed(src, 1, 3)
    src.sendComplete()
    await time.settle()
    a.request(3)
    expect(await a.expectNextN(3)).toEqual([1, 2, 3])
    await a.expectComplete()
  })

  it('completion is seen at once by consumers that attach later', async () => {
    const { src, attach, consumers } = hub()
    const a = attach()
    await time.settle()
    src.sendComplete()
    await a.expectComplete()
    await attach().expectComplete()
    expect(await consumers.runWith(Sink.seq(), time.materializer)).toEqual([])
  })

  it('failure reaches every consumer at once, skipping unread elements, and later consumers fail at once', async () => {
    const { src, attach, consumers } = hub(8)
    const a = attach()
    const b = attach()
    await time.settle()
    feed(src, 1, 2)
    await time.settle()
    b.request(1)
    await b.expectNext(1)
    src.sendError(boom)
    expect(await a.expectError()).toBe(boom)
    expect(await b.expectError()).toBe(boom)
    expect(await attach().expectError()).toBe(boom)
    await expect(consumers.runWith(Sink.seq(), time.materializer)).rejects.toBe(boom)
  })

  it('consumers fail with AbruptTerminationError when the hub is torn down', async () => {
    const other = new VirtualTime()
    const consumers = Source.never<number>().runWith(BroadcastHub.sink<number>(), other.materializer)
    const a = consumers.runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    other.materializer.shutdown()
    expect(await a.expectError()).toBeInstanceOf(AbruptTerminationError)
    expect(await attachTo(consumers).expectError()).toBeInstanceOf(AbruptTerminationError)
  })

  it('100 consumers joining and leaving in turn leave no running stage', async () => {
    const [kill, consumers] = Source.repeat(1)
      .scan(0, (n) => n + 1)
      .viaMat(KillSwitches.single(), Keep.right)
      .toMat(BroadcastHub.sink<number>(4), Keep.both)
      .run(time.materializer)
    let last = -1
    for (let i = 0; i < 100; i++) {
      const [x] = await consumers.take(1).runWith(Sink.seq(), time.materializer)
      expect(x).toBeGreaterThan(last)
      last = x!
    }
    // and 100 at once, leaving after different numbers of elements
    const runs = Array.from({ length: 100 }, (_, i) => consumers.take(1 + (i % 7)).runWith(Sink.seq(), time.materializer))
    const results = await Promise.all(runs)
    results.forEach((xs, i) => expect(xs).toHaveLength(1 + (i % 7)))
    kill.shutdown()
  })

  it('rejects invalid arguments', () => {
    expect(() => BroadcastHub.sink(0)).toThrow(InvalidArgumentError)
    expect(() => BroadcastHub.sink(1.5)).toThrow(InvalidArgumentError)
    expect(() => BroadcastHub.sink(4, { startAfterNrOfConsumers: -1 })).toThrow(InvalidArgumentError)
  })
})

function attachTo(consumers: Source<number>): SinkProbe<number> {
  return consumers.runWith(TestSink.probe<number>(), time.materializer)
}

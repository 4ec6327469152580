import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AbruptTerminationError,
  Attributes,
  InvalidArgumentError,
  InvalidPartitionError,
  Keep,
  KillSwitches,
  PartitionHub,
  Sink,
  Source,
  Supervision,
  type ConsumerInfo,
  type NotUsed,
} from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')
const byParity = (size: number, n: number): number => n % size

/** A probe-fed hub with the given partitioner. */
function hub(partitioner: (size: number, n: number) => number, startAfterNrOfConsumers = 0, bufferSize = 8) {
  const [src, consumers] = TestSource.probe<number>()
    .toMat(PartitionHub.sink<number>(partitioner, startAfterNrOfConsumers, bufferSize), Keep.both)
    .run(time.materializer)
  const attach = (): SinkProbe<number> => consumers.runWith(TestSink.probe<number>(), time.materializer)
  return { src, consumers, attach }
}

describe('PartitionHub.sink', () => {
  it('routes each element to the consumer at the index the partitioner returns', async () => {
    const consumers = Source.range(0, 9).runWith(PartitionHub.sink<number>(byParity, 2), time.materializer)
    const even = consumers.runWith(Sink.seq(), time.materializer)
    const odd = consumers.runWith(Sink.seq(), time.materializer)
    expect(await even).toEqual([0, 2, 4, 6, 8])
    expect(await odd).toEqual([1, 3, 5, 7, 9])
  })

  it('holds elements (up to the buffer) until a consumer attaches, then routes them', async () => {
    const { src, attach } = hub(byParity, 0, 4)
    for (let i = 1; i <= 4; i++) {
      await src.expectRequest()
      src.sendNext(i)
    }
    await time.settle()
    expect(src.pending).toBe(0) // 4 held: the buffer is full
    const a = attach()
    a.request(5)
    expect(await a.expectNextN(4)).toEqual([1, 2, 3, 4])
    src.sendNext(5)
    await a.expectNext(5)
    src.sendComplete()
    await a.expectComplete()
  })

  it('does not pull before startAfterNrOfConsumers consumers attached', async () => {
    const { src, attach } = hub(byParity, 2)
    const a = attach()
    await time.settle()
    expect(src.pending).toBe(0)
    const b = attach()
    await src.expectRequest()
    a.request(1)
    b.request(1)
    src.sendNext(2).sendNext(3)
    await a.expectNext(2)
    await b.expectNext(3)
    src.sendComplete()
    await a.expectComplete()
    await b.expectComplete()
  })

  it('drops an element for which the partitioner returns a negative number', async () => {
    const { src, attach } = hub((_size, n) => (n < 0 ? -1 : 0))
    const a = attach()
    await time.settle()
    a.request(3)
    src.sendNext(1).sendNext(-5).sendNext(2).sendComplete()
    expect(await a.expectNextN(2)).toEqual([1, 2])
    await a.expectComplete()
  })

  it('a slow consumer backpressures the producer only once the buffer is full', async () => {
    const { src, attach } = hub(byParity, 2, 4)
    const even = attach()
    const odd = attach()
    await time.settle()
    even.request(100)
    for (let i = 0; i < 20; i++) src.sendNext(i + 1)
    // 1, 3, 5, 7 wait for the odd consumer and fill the buffer; the evens in between were read
    expect(await even.expectNextN(3)).toEqual([2, 4, 6])
    await even.expectNoMessage()
    expect(src.pending).toBe(0)
    odd.request(1)
    await odd.expectNext(1)
    await even.expectNext(8) // one slot freed: the producer is pulled until 9 fills it again
    await even.expectNoMessage()
    expect(src.pending).toBe(0)
    odd.cancel()
    expect(await even.expectNextN(11)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
    src.sendComplete()
    await even.expectComplete()
  })

  it('a consumer that leaves drops its queue and does not stall the others', async () => {
    const { src, attach } = hub(byParity, 2, 4)
    const even = attach()
    const odd = attach()
    await time.settle()
    even.request(100)
    for (let i = 0; i < 10; i++) src.sendNext(i + 1)
    expect(await even.expectNextN(3)).toEqual([2, 4, 6])
    await even.expectNoMessage()
    odd.cancel() // 1, 3, 5, 7 are dropped; every later element goes to the only consumer left
    expect(await even.expectNextN(3)).toEqual([8, 9, 10])
    src.sendComplete()
    await even.expectComplete()
  })

  it('completion reaches each consumer after its queue, and later consumers complete at once', async () => {
    const { src, attach } = hub(byParity, 2)
    const a = attach()
    const b = attach()
    src.sendNext(0).sendNext(1).sendNext(2).sendComplete()
    await time.settle()
    a.request(2)
    expect(await a.expectNextN(2)).toEqual([0, 2])
    await a.expectComplete()
    b.request(1)
    await b.expectNext(1)
    await b.expectComplete()
    await attach().expectComplete()
  })

  it('failure reaches every consumer at once, and later consumers fail at once', async () => {
    const { src, attach, consumers } = hub(byParity, 2)
    const a = attach()
    const b = attach()
    src.sendNext(0).sendNext(2)
    await time.settle()
    src.sendError(boom)
    expect(await a.expectError()).toBe(boom) // 0 and 2 were queued for it, unread
    expect(await b.expectError()).toBe(boom)
    await expect(consumers.runWith(Sink.seq(), time.materializer)).rejects.toBe(boom)
  })

  it('an index outside the attached consumers fails the hub with InvalidPartitionError', async () => {
    const { src, attach } = hub((size) => size)
    const a = attach()
    src.sendNext(1)
    const error = (await a.expectError()) as InvalidPartitionError
    expect(error).toBeInstanceOf(InvalidPartitionError)
    expect(error.code).toBe('WEIR_CORE_HUB_PARTITION')
    expect([error.chosen, error.consumers, error.by]).toEqual([1, 1, 'index'])
    expect(await src.expectCancellation()).toBe(error)
  })

  it('a throwing partitioner fails the hub, or drops the element when the decider resumes', async () => {
    const failing = hub(() => {
      throw boom
    })
    const a = failing.attach()
    failing.src.sendNext(1)
    expect(await a.expectError()).toBe(boom)

    const [src, consumers] = TestSource.probe<number>()
      .toMat(
        PartitionHub.sink<number>((_size, n) => {
          if (n === 2) throw boom
          return 0
        }).withAttributes(Attributes.supervisionStrategy(Supervision.resumingDecider)),
        Keep.both,
      )
      .run(time.materializer)
    const b = consumers.runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    b.request(3)
    src.sendNext(1).sendNext(2).sendNext(3).sendComplete()
    expect(await b.expectNextN(2)).toEqual([1, 3])
    await b.expectComplete()
  })

  it('consumers fail with AbruptTerminationError when the hub is torn down', async () => {
    const other = new VirtualTime()
    const consumers = Source.never<number>().runWith(PartitionHub.sink<number>(byParity), other.materializer)
    const a = consumers.runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    other.materializer.shutdown()
    expect(await a.expectError()).toBeInstanceOf(AbruptTerminationError)
  })

  it('100 consumers joining and leaving in turn leave no running stage', async () => {
    const [kill, consumers] = Source.repeat(1)
      .scan(0, (n) => n + 1)
      .viaMat(KillSwitches.single(), Keep.right)
      .toMat(PartitionHub.sink<number>((size) => size - 1, 0, 4), Keep.both)
      .run(time.materializer)
    for (let i = 0; i < 100; i++) expect(await consumers.take(2).runWith(Sink.seq(), time.materializer)).toHaveLength(2)
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => consumers.take(1 + (i % 3)).runWith(Sink.seq(), time.materializer)))
    results.forEach((xs, i) => expect(xs).toHaveLength(1 + (i % 3)))
    kill.shutdown()
  })

  it('rejects invalid arguments', () => {
    expect(() => PartitionHub.sink(byParity, -1)).toThrow(InvalidArgumentError)
    expect(() => PartitionHub.sink(byParity, 0, 0)).toThrow(InvalidArgumentError)
    expect(() => PartitionHub.statefulSink(() => () => 0, 1.5)).toThrow(InvalidArgumentError)
  })
})

describe('PartitionHub.statefulSink', () => {
  /** Round robin over the attached consumers, with a counter per materialization. */
  const roundRobin = () => {
    let i = 0
    return (info: ConsumerInfo): number => info.consumerIdByIdx(i++ % info.size)
  }

  it('creates the partitioner once per materialization of the hub', async () => {
    const sink = PartitionHub.statefulSink<number>(roundRobin, 2)
    for (let run = 0; run < 2; run++) {
      const consumers: Source<number, NotUsed> = Source.range(1, 6).runWith(sink, time.materializer)
      const a = consumers.runWith(Sink.seq(), time.materializer)
      const b = consumers.runWith(Sink.seq(), time.materializer)
      expect(await a).toEqual([1, 3, 5])
      expect(await b).toEqual([2, 4, 6])
    }
  })

  it('sees the attached consumers and their queue sizes', async () => {
    const seen: [readonly number[], number[]][] = []
    const [src, consumers] = TestSource.probe<number>()
      .toMat(
        PartitionHub.statefulSink<number>(
          () => (info) => {
            seen.push([info.consumerIds, info.consumerIds.map((id) => info.queueSize(id))])
            // the consumer with the shortest queue, the earliest on a tie
            return info.consumerIds.reduce((best, id) => (info.queueSize(id) < info.queueSize(best) ? id : best))
          },
          2,
        ),
        Keep.both,
      )
      .run(time.materializer)
    const a = consumers.runWith(TestSink.probe<number>(), time.materializer)
    const b = consumers.runWith(TestSink.probe<number>(), time.materializer)
    src.sendNext(1).sendNext(2).sendNext(3)
    await time.settle()
    expect(seen).toEqual([
      [[0, 1], [0, 0]],
      [[0, 1], [1, 0]],
      [[0, 1], [1, 1]],
    ])
    a.request(2)
    expect(await a.expectNextN(2)).toEqual([1, 3])
    b.request(1)
    await b.expectNext(2)
    src.sendComplete()
    await a.expectComplete()
    await b.expectComplete()
  })

  it('an id that is not attached fails the hub with InvalidPartitionError', async () => {
    const [src, consumers] = TestSource.probe<number>()
      .toMat(PartitionHub.statefulSink<number>(() => () => 42), Keep.both)
      .run(time.materializer)
    const a = consumers.runWith(TestSink.probe<number>(), time.materializer)
    src.sendNext(1)
    const error = (await a.expectError()) as InvalidPartitionError
    expect([error.code, error.chosen, error.consumers, error.by]).toEqual(['WEIR_CORE_HUB_PARTITION', 42, 1, 'id'])
  })
})

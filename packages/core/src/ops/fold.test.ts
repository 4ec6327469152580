/**
 * Specification of the accumulating operators: scan, fold, reduce.
 *
 * Shared contract, checked with operator fusion on and off: `scan` emits the seed, then every
 * running result; `fold` and `reduce` emit one result when upstream completes (`reduce` fails
 * with EmptyStreamError on an empty stream). Elements are pulled only on demand (`fold`/`reduce`
 * pull the whole stream on one demand for their result); an upstream failure passes through; a
 * downstream cancellation reaches upstream with its cause. A throwing function fails the stream
 * by default; `resume` skips the element; `restart` also resets the accumulator.
 * Probed operators sit between two pass-through maps, so that with fusion on they run inside a
 * fused chain and with fusion off each in its own stage.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource } from '@weir/testkit'
import { EmptyStreamError, Flow, Keep, Materializer, NonFailureCancellation, Sink, Source, Supervision, type Decider } from '../index.js'

const boom = new Error('boom')
const id = <T>(x: T): T => x
const sum = (a: number, x: number): number => a + x
/** A sum that throws on the element `bad`. */
const sumFailingOn =
  (bad: number) =>
  (a: number, x: number): number => {
    if (x === bad) throw boom
    return a + x
  }

describe.each([true, false])('accumulating operators (operatorFusion: %s)', (fusion) => {
  let mat: Materializer
  beforeEach(() => {
    mat = Materializer.create({ operatorFusion: fusion })
  })
  afterEach(async () => {
    try {
      await assertAllStagesStopped(mat)
    } finally {
      mat.shutdown()
    }
  })

  function probes<O>(flow: Flow<number, O>) {
    const [src, sink] = TestSource.probe<number>().map(id).via(flow).map(id).toMat(TestSink.probe<O>(), Keep.both).run(mat)
    return { src, sink }
  }
  const run = <T>(source: Source<T>): Promise<T[]> => source.runWith(Sink.seq(), mat)
  const supervised = (decider: Decider, flow: Flow<number, number>): Flow<number, number> => flow.withSupervision(decider)

  describe('scan', () => {
    it('emits the seed, then every running result', async () => {
      expect(await run(Source.from([1, 2, 3]).scan(0, sum))).toEqual([0, 1, 3, 6])
      expect(await run(Source.range(1, 4).scan('', (s, x) => s + x))).toEqual(['', '1', '12', '123', '1234'])
    })

    it('emits only the seed for an empty stream', async () => {
      expect(await run(Source.empty<number>().scan(0, sum))).toEqual([0])
    })

    it('emits the seed on the first demand without pulling upstream', async () => {
      const { src, sink } = probes(Flow.create<number>().scan(100, sum))
      sink.request(1)
      await sink.expectNext(100)
      await sink.expectNoMessage()
      expect(src.pending).toBe(0)
      sink.request(1)
      await src.expectRequest()
      src.sendNext(5)
      await sink.expectNext(105)
      sink.cancel()
      await src.expectCancellation()
    })

    it('emits the seed on demand when upstream completed before any demand', async () => {
      const { src, sink } = probes(Flow.create<number>().scan(7, sum))
      src.sendComplete()
      await sink.expectNoMessage()
      sink.request(1)
      await sink.expectNext(7)
      await sink.expectComplete()
    })

    it('completes right after the last result of an array source, without an extra request', async () => {
      const sink = Source.from([1, 2, 3]).scan(0, sum).runWith(TestSink.probe<number>(), mat)
      sink.request(4)
      expect(await sink.expectNextN(4)).toEqual([0, 1, 3, 6])
      await sink.expectComplete()
    })

    it('emits one result per requested element', async () => {
      const { src, sink } = probes(Flow.create<number>().scan(0, sum))
      src.sendNext(1).sendNext(2).sendNext(3)
      await sink.expectNoMessage()
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([0, 1])
      await sink.expectNoMessage()
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([3, 6])
      src.sendComplete()
      await sink.expectComplete()
    })

    it('passes an upstream failure through', async () => {
      const { src, sink } = probes(Flow.create<number>().scan(0, sum))
      sink.request(2)
      src.sendNext(1)
      expect(await sink.expectNextN(2)).toEqual([0, 1])
      src.sendError(boom)
      expect(await sink.expectError()).toBe(boom)
    })

    it('cancels upstream with the cause of the downstream cancellation', async () => {
      const { src, sink } = probes(Flow.create<number>().scan(0, sum))
      const cause = new NonFailureCancellation('client-gone')
      sink.cancel(cause)
      expect(await src.expectCancellation()).toBe(cause)
    })

    it('fails with the thrown error and cancels upstream with it by default', async () => {
      const { src, sink } = probes(Flow.create<number>().scan(0, sumFailingOn(2)))
      sink.request(3)
      src.sendNext(1).sendNext(2)
      expect(await sink.expectNextN(2)).toEqual([0, 1])
      expect(await sink.expectError()).toBe(boom)
      expect(await src.expectCancellation()).toBe(boom)
    })

    it('skips the element and keeps the accumulator under resume', async () => {
      const out = await run(Source.from([1, 2, 3]).via(supervised(Supervision.resumingDecider, Flow.create<number>().scan(0, sumFailingOn(2)))))
      expect(out).toEqual([0, 1, 4])
    })

    it('skips the element and continues from the seed under restart', async () => {
      const out = await run(Source.from([1, 2, 3, 4]).via(supervised(Supervision.restartingDecider, Flow.create<number>().scan(0, sumFailingOn(2)))))
      expect(out).toEqual([0, 1, 3, 7])
    })
  })

  describe('fold', () => {
    it('emits the folded result once upstream completes', async () => {
      expect(await run(Source.range(1, 100).fold(0, sum))).toEqual([5050])
      expect(await run(Source.from(['a', 'b']).fold([] as string[], (acc, x) => [...acc, x]))).toEqual([['a', 'b']])
    })

    it('emits the seed for an empty stream', async () => {
      expect(await run(Source.empty<number>().fold(42, sum))).toEqual([42])
    })

    it('pulls upstream only after downstream demand, then until upstream completes, and emits on completion', async () => {
      const { src, sink } = probes(Flow.create<number>().fold(0, sum))
      await sink.expectNoMessage()
      expect(src.pending).toBe(0)
      sink.request(1)
      await src.expectRequest()
      src.sendNext(1)
      await src.expectRequest()
      src.sendNext(2)
      await src.expectRequest()
      await sink.expectNoMessage()
      src.sendComplete()
      await sink.expectNext(3)
      await sink.expectComplete()
    })

    it('holds its result until downstream demands it', async () => {
      const { src, sink } = probes(Flow.create<number>().fold(0, sum))
      src.sendComplete()
      await sink.expectNoMessage()
      sink.request(1)
      await sink.expectNext(0)
      await sink.expectComplete()
    })

    it('completes right after its result for an array source, without an extra request', async () => {
      const sink = Source.from([1, 2, 3]).fold(0, sum).runWith(TestSink.probe<number>(), mat)
      sink.request(1)
      await sink.expectNext(6)
      await sink.expectComplete()
    })

    it('passes an upstream failure through without emitting a result', async () => {
      const { src, sink } = probes(Flow.create<number>().fold(0, sum))
      sink.request(1)
      src.sendNext(1).sendError(boom)
      expect(await sink.expectError()).toBe(boom)
    })

    it('cancels upstream with the cause of the downstream cancellation', async () => {
      const { src, sink } = probes(Flow.create<number>().fold(0, sum))
      sink.request(1)
      src.sendNext(1)
      await src.expectRequest()
      const cause = new NonFailureCancellation('client-gone')
      sink.cancel(cause)
      expect(await src.expectCancellation()).toBe(cause)
    })

    it('fails with the thrown error and cancels upstream with it by default', async () => {
      const { src, sink } = probes(Flow.create<number>().fold(0, sumFailingOn(2)))
      sink.request(1)
      src.sendNext(1).sendNext(2)
      expect(await sink.expectError()).toBe(boom)
      expect(await src.expectCancellation()).toBe(boom)
    })

    it('skips the element and keeps the accumulator under resume', async () => {
      expect(await run(Source.from([1, 2, 3]).via(supervised(Supervision.resumingDecider, Flow.create<number>().fold(0, sumFailingOn(2)))))).toEqual([4])
    })

    it('resets the accumulator to the seed under restart', async () => {
      const out = await run(Source.from([1, 2, 3, 4]).via(supervised(Supervision.restartingDecider, Flow.create<number>().fold(100, sumFailingOn(2)))))
      expect(out).toEqual([107])
    })

    it('starts every materialization from the seed', async () => {
      const blueprint = Source.from([1, 2]).fold(0, sum)
      expect(await run(blueprint)).toEqual([3])
      expect(await run(blueprint)).toEqual([3])
    })
  })

  describe('reduce', () => {
    it('folds the elements seeded with the first one', async () => {
      expect(await run(Source.from([1, 2, 3]).reduce(sum))).toEqual([6])
      expect(await run(Source.from(['a', 'b', 'c']).reduce((a, x) => x + a))).toEqual(['cba'])
      expect(await run(Source.single(9).reduce(sum))).toEqual([9])
    })

    it('fails with EmptyStreamError on an empty stream', async () => {
      const err = await run(Source.empty<number>().reduce(sum)).catch(id)
      expect(err).toBeInstanceOf(EmptyStreamError)
      expect((err as EmptyStreamError).code).toBe('WEIR_CORE_EMPTY_STREAM')
    })

    it('fails with EmptyStreamError when a probed upstream completes without elements', async () => {
      const { src, sink } = probes(Flow.create<number>().reduce(sum))
      sink.request(1)
      src.sendComplete()
      const err = await sink.expectError()
      expect((err as EmptyStreamError).code).toBe('WEIR_CORE_EMPTY_STREAM')
    })

    it('emits its result on completion, only on demand', async () => {
      const { src, sink } = probes(Flow.create<number>().reduce(sum))
      src.sendNext(1)
      await sink.expectNoMessage()
      expect(src.pending).toBe(0)
      sink.request(1)
      src.sendNext(2).sendComplete()
      await sink.expectNext(3)
      await sink.expectComplete()
    })

    it('completes right after its result for an array source, without an extra request', async () => {
      const sink = Source.from([1, 2, 3]).reduce(sum).runWith(TestSink.probe<number>(), mat)
      sink.request(1)
      await sink.expectNext(6)
      await sink.expectComplete()
    })

    it('passes an upstream failure through', async () => {
      const { src, sink } = probes(Flow.create<number>().reduce(sum))
      sink.request(1)
      src.sendNext(1).sendError(boom)
      expect(await sink.expectError()).toBe(boom)
    })

    it('cancels upstream with the cause of the downstream cancellation', async () => {
      const { src, sink } = probes(Flow.create<number>().reduce(sum))
      const cause = new NonFailureCancellation('client-gone')
      sink.cancel(cause)
      expect(await src.expectCancellation()).toBe(cause)
    })

    it('fails with the thrown error by default', async () => {
      expect(await run(Source.from([1, 2, 3]).reduce(sumFailingOn(2))).catch(id)).toBe(boom)
    })

    it('skips the element and keeps the accumulator under resume', async () => {
      expect(await run(Source.from([1, 2, 3]).via(supervised(Supervision.resumingDecider, Flow.create<number>().reduce(sumFailingOn(2)))))).toEqual([4])
    })

    it('starts again from the next element under restart', async () => {
      const out = await run(Source.from([1, 2, 3, 4]).via(supervised(Supervision.restartingDecider, Flow.create<number>().reduce(sumFailingOn(3)))))
      expect(out).toEqual([4])
    })
  })
})

/**
 * Specification of the prefix operators: take, takeWhile, drop, dropWhile.
 *
 * Shared contract, checked with operator fusion on and off: `take` and `takeWhile` complete as
 * soon as they are satisfied and cancel upstream with `NoMoreElementsNeeded` (not a failure),
 * without pulling an element they do not need; `drop` and `dropWhile` skip a prefix and pass the
 * rest through. All pull only on downstream demand, pass an upstream failure through and pass a
 * downstream cancellation cause upstream. A throwing predicate fails the stream by default and
 * drops the element under `resume`.
 * Probed operators sit between two pass-through maps, so that with fusion on they run inside a
 * fused chain and with fusion off each in its own stage.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource } from '@weir/testkit'
import { Flow, Keep, Materializer, NoMoreElementsNeeded, NonFailureCancellation, Sink, Source, Supervision } from '../index.js'

const boom = new Error('boom')
const id = <T>(x: T): T => x
/** A predicate `x < limit` that throws on the element `bad`. */
const belowFailingOn =
  (limit: number, bad: number) =>
  (x: number): boolean => {
    if (x === bad) throw boom
    return x < limit
  }

/** An operator of the contract table and what it makes of [1, 2, 3, 4, 5]. */
interface Case {
  readonly name: string
  readonly flow: () => Flow<number, number>
  readonly output: readonly number[]
}
const input = [1, 2, 3, 4, 5]
const cases: readonly Case[] = [
  { name: 'take', flow: () => Flow.create<number>().take(3), output: [1, 2, 3] },
  { name: 'takeWhile', flow: () => Flow.create<number>().takeWhile((x) => x < 4), output: [1, 2, 3] },
  { name: 'takeWhile (inclusive)', flow: () => Flow.create<number>().takeWhile((x) => x < 4, true), output: [1, 2, 3, 4] },
  { name: 'drop', flow: () => Flow.create<number>().drop(2), output: [3, 4, 5] },
  { name: 'dropWhile', flow: () => Flow.create<number>().dropWhile((x) => x < 3), output: [3, 4, 5] },
]

describe.each([true, false])('prefix operators (operatorFusion: %s)', (fusion) => {
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

  function probes(flow: Flow<number, number>) {
    const [src, sink] = TestSource.probe<number>().map(id).via(flow).map(id).toMat(TestSink.probe<number>(), Keep.both).run(mat)
    return { src, sink }
  }
  const run = <T>(source: Source<T>): Promise<T[]> => source.runWith(Sink.seq(), mat)

  describe.each(cases)('$name', ({ flow, output }) => {
    it('passes on its part of a synchronous source', async () => {
      expect(await run(Source.from(input).via(flow()))).toEqual(output)
      expect(await run(Source.range(1, 5).via(flow()))).toEqual(output)
    })

    it('completes an empty stream without emitting', async () => {
      expect(await run(Source.empty<number>().via(flow()))).toEqual([])
    })

    it('emits nothing and pulls nothing without demand', async () => {
      const { src, sink } = probes(flow())
      for (const x of input) src.sendNext(x)
      await sink.expectNoMessage()
      expect(src.pending).toBe(0)
      sink.request(1)
      await sink.expectNext(output[0]!)
      await sink.expectNoMessage()
      sink.cancel()
      await src.expectCancellation()
    })

    it('passes an upstream failure through', async () => {
      const { src, sink } = probes(flow())
      sink.request(1)
      src.sendError(boom)
      expect(await sink.expectError()).toBe(boom)
    })

    it('cancels upstream with the cause of the downstream cancellation', async () => {
      const { src, sink } = probes(flow())
      const cause = new NonFailureCancellation('client-gone')
      sink.cancel(cause)
      expect(await src.expectCancellation()).toBe(cause)
    })
  })

  describe('take', () => {
    it('completes after the n-th element without an extra request, and cancels upstream with NoMoreElementsNeeded', async () => {
      const { src, sink } = probes(Flow.create<number>().take(2))
      sink.request(2)
      src.sendNext(1).sendNext(2)
      expect(await sink.expectNextN(2)).toEqual([1, 2])
      await sink.expectComplete()
      expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    })

    it('pulls exactly n elements from upstream', async () => {
      const { src, sink } = probes(Flow.create<number>().take(2))
      sink.request(5)
      await src.expectRequest()
      src.sendNext(1)
      await src.expectRequest()
      src.sendNext(2)
      await sink.expectNextN(2)
      await sink.expectComplete()
      await src.expectCancellation()
      await expect(src.expectRequest()).rejects.toMatchObject({ reason: 'terminated' })
    })

    it('evaluates nothing upstream beyond the n-th element of a synchronous source', async () => {
      let mapped = 0
      const out = await run(
        Source.range(1, 1_000_000)
          .map((x) => (mapped++, x))
          .take(3),
      )
      expect(out).toEqual([1, 2, 3])
      expect(mapped).toBe(3)
    })

    it('terminates an infinite source', async () => {
      expect(await run(Source.repeat('x').take(3))).toEqual(['x', 'x', 'x'])
    })

    it('completes at once, without demand, and cancels upstream when n is 0 or negative', async () => {
      for (const n of [0, -1]) {
        const { src, sink } = probes(Flow.create<number>().take(n))
        await sink.expectComplete()
        expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
      }
    })

    it('completes with upstream when it has fewer than n elements', async () => {
      const { src, sink } = probes(Flow.create<number>().take(5))
      sink.request(5)
      src.sendNext(1).sendComplete()
      await sink.expectNext(1)
      await sink.expectComplete()
      expect(src.end).toEqual({ kind: 'completed' })
    })

    it('counts afresh in every materialization', async () => {
      const blueprint = Source.range(1, 10).take(2)
      expect(await run(blueprint)).toEqual([1, 2])
      expect(await run(blueprint)).toEqual([1, 2])
    })
  })

  describe('takeWhile', () => {
    it('completes on the first element failing the predicate and cancels upstream with NoMoreElementsNeeded', async () => {
      const { src, sink } = probes(Flow.create<number>().takeWhile((x) => x < 3))
      sink.request(2)
      src.sendNext(1).sendNext(2)
      expect(await sink.expectNextN(2)).toEqual([1, 2])
      await sink.expectNoMessage()
      sink.request(1)
      src.sendNext(3)
      await sink.expectComplete()
      expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    })

    it('with inclusive, emits the failing element and completes right after it', async () => {
      const { src, sink } = probes(Flow.create<number>().takeWhile((x) => x < 3, true))
      sink.request(3)
      src.sendNext(1).sendNext(2).sendNext(3)
      expect(await sink.expectNextN(3)).toEqual([1, 2, 3])
      await sink.expectComplete()
      expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    })

    it('completes right after the last element of an array source whose elements all pass', async () => {
      const sink = Source.from([1, 2]).takeWhile((x) => x < 10).runWith(TestSink.probe<number>(), mat)
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([1, 2])
      await sink.expectComplete()
    })

    it('terminates an infinite source and does not test elements after the failing one', async () => {
      const seen: number[] = []
      const out = await run(
        Source.range(1, Infinity).takeWhile((x) => {
          seen.push(x)
          return x < 3
        }),
      )
      expect(out).toEqual([1, 2])
      expect(seen).toEqual([1, 2, 3])
    })

    it('fails with the error thrown by the predicate by default', async () => {
      const { src, sink } = probes(Flow.create<number>().takeWhile(belowFailingOn(10, 2)))
      sink.request(3)
      src.sendNext(1).sendNext(2)
      await sink.expectNext(1)
      expect(await sink.expectError()).toBe(boom)
      expect(await src.expectCancellation()).toBe(boom)
    })

    it('drops the element that made the predicate throw under resume and restart', async () => {
      for (const decider of [Supervision.resumingDecider, Supervision.restartingDecider]) {
        const out = await run(Source.from([1, 2, 3, 10, 4]).via(Flow.create<number>().takeWhile(belowFailingOn(5, 2)).withSupervision(decider)))
        expect(out).toEqual([1, 3])
      }
    })
  })

  describe('drop', () => {
    it('pulls the dropped elements on the first demand', async () => {
      const { src, sink } = probes(Flow.create<number>().drop(2))
      sink.request(1)
      for (let i = 0; i < 3; i++) {
        await src.expectRequest()
        src.sendNext(i + 1)
      }
      await sink.expectNext(3)
      await sink.expectNoMessage()
      expect(src.pending).toBe(0)
      src.sendComplete()
      await sink.expectComplete()
    })

    it('completes right after the last element of an array source, without an extra request', async () => {
      const sink = Source.from(input).drop(2).runWith(TestSink.probe<number>(), mat)
      sink.request(3)
      expect(await sink.expectNextN(3)).toEqual([3, 4, 5])
      await sink.expectComplete()
    })

    it('passes everything with n 0 or negative, and nothing with n beyond the length', async () => {
      expect(await run(Source.from(input).drop(0))).toEqual(input)
      expect(await run(Source.from(input).drop(-3))).toEqual(input)
      expect(await run(Source.from(input).drop(9))).toEqual([])
    })

    it('counts afresh in every materialization', async () => {
      const blueprint = Source.range(1, 4).drop(2)
      expect(await run(blueprint)).toEqual([3, 4])
      expect(await run(blueprint)).toEqual([3, 4])
    })
  })

  describe('dropWhile', () => {
    it('passes everything after the first failing element, even elements that satisfy the predicate', async () => {
      expect(await run(Source.from([1, 2, 5, 1, 7]).dropWhile((x) => x < 3))).toEqual([5, 1, 7])
    })

    it('stops testing the predicate after it failed once', async () => {
      const seen: number[] = []
      await run(
        Source.from([1, 5, 1, 2]).dropWhile((x) => {
          seen.push(x)
          return x < 3
        }),
      )
      expect(seen).toEqual([1, 5])
    })

    it('completes right after the last element of an array source, without an extra request', async () => {
      const sink = Source.from([1, 5, 6]).dropWhile((x) => x < 3).runWith(TestSink.probe<number>(), mat)
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([5, 6])
      await sink.expectComplete()
    })

    it('fails with the error thrown by the predicate by default', async () => {
      expect(await run(Source.from([1, 2, 3]).dropWhile(belowFailingOn(3, 2))).catch(id)).toBe(boom)
    })

    it('drops the element that made the predicate throw under resume and keeps dropping', async () => {
      const out = await run(Source.from([1, 2, 1, 5, 2]).via(Flow.create<number>().dropWhile(belowFailingOn(3, 2)).withSupervision(Supervision.resumingDecider)))
      expect(out).toEqual([5, 2])
    })

    it('starts dropping afresh in every materialization', async () => {
      const blueprint = Source.from([1, 5, 1]).dropWhile((x) => x < 3)
      expect(await run(blueprint)).toEqual([5, 1])
      expect(await run(blueprint)).toEqual([5, 1])
    })
  })
})

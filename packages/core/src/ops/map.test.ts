/**
 * Specification of the element-wise operators: map, filter, filterNot, collect, statefulMap,
 * zipWithIndex, mapConcat.
 *
 * Shared contract, checked for every operator with operator fusion on and off: elements come out
 * in order and only on downstream demand; the operator completes with its upstream (eagerly, after
 * the last element of an array source); an upstream failure passes through; a downstream
 * cancellation reaches upstream with its cause; a throwing user function fails the stream by
 * default, and is skipped under `resume` and `restart` (which also resets state).
 * Probed operators sit between two pass-through maps, so that with fusion on they run inside a
 * fused chain and with fusion off each in its own stage.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource } from '@weir/testkit'
import { Flow, Keep, Materializer, NonFailureCancellation, Sink, Source, Supervision } from '../index.js'

const boom = new Error('boom')
const id = <T>(x: T): T => x
const throwOn =
  <T>(bad: T, error: unknown = boom) =>
  (x: T): T => {
    if (x === bad) throw error
    return x
  }

/** One operator of the contract table: what it makes of `input`. */
interface Case {
  readonly name: string
  readonly flow: () => Flow<number, unknown>
  /** At least two elements; the first and the last each produce output. */
  readonly input: readonly number[]
  readonly output: readonly unknown[]
}

const cases: readonly Case[] = [
  { name: 'map', flow: () => Flow.create<number>().map((x) => x * 10), input: [1, 2, 3], output: [10, 20, 30] },
  { name: 'filter', flow: () => Flow.create<number>().filter((x) => x % 2 === 1), input: [1, 2, 3, 4, 5], output: [1, 3, 5] },
  { name: 'filterNot', flow: () => Flow.create<number>().filterNot((x) => x % 2 === 0), input: [1, 2, 3, 4, 5], output: [1, 3, 5] },
  { name: 'collect', flow: () => Flow.create<number>().collect((x) => (x === 2 ? undefined : `#${x}`)), input: [1, 2, 3], output: ['#1', '#3'] },
  {
    name: 'statefulMap',
    flow: () => Flow.create<number>().statefulMap(() => 0, (s, x) => [s + x, s + x], () => undefined),
    input: [1, 2, 3],
    output: [1, 3, 6],
  },
  { name: 'zipWithIndex', flow: () => Flow.create<number>().zipWithIndex(), input: [7, 8, 9], output: [[7, 0], [8, 1], [9, 2]] },
  { name: 'mapConcat', flow: () => Flow.create<number>().mapConcat((x) => (x === 2 ? [] : [x, -x])), input: [1, 2, 3], output: [1, -1, 3, -3] },
]

describe.each([true, false])('element-wise operators (operatorFusion: %s)', (fusion) => {
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

  describe.each(cases)('$name', ({ flow, input, output }) => {
    it('transforms the elements of a synchronous source, in order', async () => {
      expect(await run(Source.from(input).via(flow()))).toEqual(output)
    })

    it('completes right after the last element of an array source, without an extra request', async () => {
      const sink = Source.from(input).via(flow()).runWith(TestSink.probe<unknown>(), mat)
      sink.request(output.length)
      expect(await sink.expectNextN(output.length)).toEqual(output)
      await sink.expectComplete()
    })

    it('completes an empty stream without emitting', async () => {
      expect(await run(Source.empty<number>().via(flow()))).toEqual([])
    })

    it('pulls nothing and emits nothing without demand, and one element per requested element', async () => {
      const { src, sink } = probes(flow())
      for (const x of input) src.sendNext(x)
      await sink.expectNoMessage()
      expect(src.pending).toBe(0)
      sink.request(1)
      expect(await sink.expectNext()).toEqual(output[0])
      await sink.expectNoMessage()
      sink.request(output.length - 1)
      expect(await sink.expectNextN(output.length - 1)).toEqual(output.slice(1))
      src.sendComplete()
      await sink.expectComplete()
    })

    it('passes an upstream failure through', async () => {
      const { src, sink } = probes(flow())
      sink.request(1)
      src.sendNext(input[0]!)
      expect(await sink.expectNext()).toEqual(output[0])
      src.sendError(boom)
      expect(await sink.expectError()).toBe(boom)
    })

    it('cancels upstream with the cause of the downstream cancellation', async () => {
      const { src, sink } = probes(flow())
      sink.request(1)
      src.sendNext(input[0]!)
      await sink.expectNext()
      const cause = new NonFailureCancellation('client-gone')
      sink.cancel(cause)
      expect(await src.expectCancellation()).toBe(cause)
    })

    it('passes a failure cause of the downstream cancellation upstream unchanged', async () => {
      const { src, sink } = probes(flow())
      sink.cancel(boom)
      expect(await src.expectCancellation()).toBe(boom)
    })

    it('can be materialized again with the same result', async () => {
      const blueprint = Source.from(input).via(flow())
      expect(await run(blueprint)).toEqual(output)
      expect(await run(blueprint)).toEqual(output)
    })
  })

  describe('map', () => {
    it('fails with the thrown error and cancels upstream with it by default', async () => {
      const { src, sink } = probes(Flow.create<number>().map(throwOn(2)))
      sink.request(3)
      src.sendNext(1).sendNext(2)
      await sink.expectNext(1)
      expect(await sink.expectError()).toBe(boom)
      expect(await src.expectCancellation()).toBe(boom)
    })

    it('drops the element that made the function throw under resume and restart', async () => {
      for (const decider of [Supervision.resumingDecider, Supervision.restartingDecider]) {
        expect(await run(Source.from([1, 2, 3]).map(throwOn(2)).withSupervision(decider))).toEqual([1, 3])
      }
    })

    it('asks upstream for the next element on the same demand after resuming', async () => {
      const { src, sink } = probes(Flow.create<number>().map(throwOn(2)).withSupervision(Supervision.resumingDecider))
      sink.request(1)
      src.sendNext(2).sendNext(3)
      await sink.expectNext(3)
      await sink.expectNoMessage()
      sink.cancel()
      await src.expectCancellation()
    })
  })

  describe('filter, filterNot and collect', () => {
    it('pulls upstream again on the same demand when an element is dropped', async () => {
      const { src, sink } = probes(Flow.create<number>().filter((x) => x > 2))
      sink.request(1)
      await src.expectRequest()
      src.sendNext(1)
      await src.expectRequest()
      src.sendNext(2)
      await src.expectRequest()
      src.sendNext(3)
      await sink.expectNext(3)
      await sink.expectNoMessage()
      expect(src.pending).toBe(0)
      src.sendComplete()
      await sink.expectComplete()
    })

    it('fail with the error thrown by the predicate or the function by default', async () => {
      const bad = (x: number): boolean => throwOn(2)(x) > 0
      expect(await run(Source.from([1, 2, 3]).filter(bad)).catch(id)).toBe(boom)
      expect(await run(Source.from([1, 2, 3]).filterNot(bad)).catch(id)).toBe(boom)
      expect(await run(Source.from([1, 2, 3]).collect(throwOn(2))).catch(id)).toBe(boom)
    })

    it('drop the element that made the predicate or the function throw under resume', async () => {
      const resume = Supervision.resumingDecider
      const bad = (x: number): boolean => throwOn(2)(x) > 0
      expect(await run(Source.from([1, 2, 3]).filter(bad).withSupervision(resume))).toEqual([1, 3])
      expect(await run(Source.from([1, 2, 3]).filterNot((x) => !bad(x)).withSupervision(resume))).toEqual([1, 3])
      expect(await run(Source.from([1, 2, 3]).collect(throwOn(2)).withSupervision(resume))).toEqual([1, 3])
    })

    it('collect passes on falsy values other than undefined', async () => {
      expect(await run(Source.from([0, 1, 2]).collect((x) => [0, '', null][x]))).toEqual([0, '', null])
    })
  })

  describe('statefulMap', () => {
    const sumWithLast = () => Flow.create<number>().statefulMap(() => 0, (s, x) => [s + x, x], (s) => s)

    it('emits the value returned by onComplete after the last element, only on demand, then completes', async () => {
      const { src, sink } = probes(sumWithLast())
      sink.request(2)
      src.sendNext(1).sendNext(2).sendComplete()
      expect(await sink.expectNextN(2)).toEqual([1, 2])
      await sink.expectNoMessage()
      sink.request(1)
      await sink.expectNext(3)
      await sink.expectComplete()
    })

    it('emits the onComplete value even for an empty stream', async () => {
      expect(await run(Source.empty<number>().via(sumWithLast()))).toEqual([0])
    })

    it('starts every materialization from a fresh state', async () => {
      const blueprint = Source.from([1, 2]).via(sumWithLast())
      expect(await run(blueprint)).toEqual([1, 2, 3])
      expect(await run(blueprint)).toEqual([1, 2, 3])
    })

    const running = (bad: number) =>
      Flow.create<number>().statefulMap(
        () => 0,
        (s, x) => {
          if (x === bad) throw boom
          return [s + x, s + x]
        },
        () => undefined,
      )

    it('fails with the error thrown by the function by default', async () => {
      expect(await run(Source.from([1, 2, 3]).via(running(2))).catch(id)).toBe(boom)
    })

    it('keeps its state and drops the element under resume', async () => {
      expect(await run(Source.from([1, 2, 3, 4]).via(running(3).withSupervision(Supervision.resumingDecider)))).toEqual([1, 3, 7])
    })

    it('drops the element and starts again from a fresh state under restart', async () => {
      expect(await run(Source.from([1, 2, 3, 4, 5]).via(running(3).withSupervision(Supervision.restartingDecider)))).toEqual([1, 3, 4, 9])
    })

    it('fails with the error thrown by onComplete', async () => {
      const flow = Flow.create<number>().statefulMap(
        () => 0,
        (s, x) => [s, x],
        () => {
          throw boom
        },
      )
      const sink = Source.from([1]).via(flow).runWith(TestSink.probe<number>(), mat)
      sink.request(2)
      await sink.expectNext(1)
      expect(await sink.expectError()).toBe(boom)
    })
  })

  describe('zipWithIndex', () => {
    it('counts from 0 in every materialization, independently of other runs', async () => {
      const blueprint = Source.from(['a', 'b', 'c']).zipWithIndex()
      const [first, second] = await Promise.all([run(blueprint), run(blueprint)])
      const expected = [
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ]
      expect(first).toEqual(expected)
      expect(second).toEqual(expected)
    })

    it('counts elements from upstream: an element dropped by a later operator keeps its index used', async () => {
      const out = await run(
        Source.from(['a', 'b', 'c'])
          .zipWithIndex()
          .map(([x, i]) => (x === 'b' ? throwOn(1)(i) : i))
          .withSupervision(Supervision.restartingDecider),
      )
      expect(out).toEqual([0, 2])
    })
  })

  describe('mapConcat', () => {
    it('emits the elements of each iterable in order, and nothing for an empty one', async () => {
      expect(await run(Source.from([0, 1, 2, 3]).mapConcat((n) => Array.from({ length: n }, () => n)))).toEqual([1, 2, 2, 3, 3, 3])
    })

    it('reads the iterable only as far as downstream demands', async () => {
      let produced = 0
      function* naturals(): Generator<number> {
        for (let i = 0; ; i++) {
          produced++
          yield i
        }
      }
      const sink = Source.single(0).mapConcat(() => naturals()).runWith(TestSink.probe<number>(), mat)
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([0, 1])
      await sink.expectNoMessage()
      expect(produced).toBeLessThanOrEqual(3)
      sink.cancel()
    })

    it('terminates an infinite iterable when a later take is satisfied', async () => {
      function* ones(): Generator<number> {
        for (;;) yield 1
      }
      expect(await run(Source.single(0).mapConcat(ones).take(3))).toEqual([1, 1, 1])
    })

    it('completes after emitting the rest of the current iterable when upstream completes', async () => {
      const { src, sink } = probes(Flow.create<number>().mapConcat((x) => [x, x, x]))
      sink.request(1)
      src.sendNext(5).sendComplete()
      await sink.expectNext(5)
      await sink.expectNoMessage()
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([5, 5])
      await sink.expectComplete()
    })

    it('fails with the error thrown by the function by default', async () => {
      expect(await run(Source.from([1, 2, 3]).mapConcat((x) => [throwOn(2)(x)])).catch(id)).toBe(boom)
    })

    it('fails after the elements already read when the iterator throws', async () => {
      function* oneThenBoom(x: number): Generator<number> {
        yield x
        throw boom
      }
      const sink = Source.from([1, 2]).mapConcat(oneThenBoom).runWith(TestSink.probe<number>(), mat)
      sink.request(5)
      await sink.expectNext(1)
      expect(await sink.expectError()).toBe(boom)
    })

    it('skips the rest of the element under resume, whether the function or the iterator throws', async () => {
      function* upTo(x: number): Generator<number> {
        if (x === 2) throw boom
        yield x * 10
        if (x === 3) throw boom
        yield x * 10 + 1
      }
      const out = await run(Source.from([1, 2, 3, 4]).mapConcat(upTo).withSupervision(Supervision.resumingDecider))
      expect(out).toEqual([10, 11, 30, 40, 41])
      const out2 = await run(Source.from([1, 2, 3]).mapConcat((x) => [throwOn(2)(x)]).withSupervision(Supervision.restartingDecider))
      expect(out2).toEqual([1, 3])
    })
  })
})

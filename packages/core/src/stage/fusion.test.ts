/**
 * Specification of operator fusion: chains of simple operators (and the synchronous source
 * before them) run in one logic at materialization; `operatorFusion: false` turns it off.
 *
 * Shared contract, checked with fusion on and off: a fused chain behaves exactly like separate
 * stages — same elements, same calls of user functions in the same order, same demand, the same
 * completion and cancellation signals (a satisfied take cancels upstream with
 * `NoMoreElementsNeeded` and the operators after it see completion), supervision per operator,
 * iterators closed on every ending — and a source polling many elements without emitting yields
 * to other streams.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource } from '@weir/testkit'
import { EmptyStreamError, Flow, Keep, Materializer, NoMoreElementsNeeded, NonFailureCancellation, Sink, Source, Supervision, type WeirError } from '../index.js'

const boom = new Error('boom')
const id = <T>(x: T): T => x
const sum = (a: number, x: number): number => a + x
const throwOn =
  (bad: number, error: unknown = boom) =>
  (x: number): number => {
    if (x === bad) throw error
    return x
  }

/** An iterable of 1, 2, 3, … whose iterator logs what it yields and how it ended. */
function naturals(log: string[], last = Infinity): Iterable<number> {
  return {
    *[Symbol.iterator]() {
      let done = false
      try {
        for (let i = 1; i <= last; i++) yield (log.push(`next ${i}`), i)
        done = true
      } finally {
        log.push(done ? 'end' : 'closed')
      }
    },
  }
}

describe('the operatorFusion setting', () => {
  const stagesOf = async (mat: Materializer): Promise<number> => {
    const sink = Source.range(1, Infinity).map(id).filter(() => true).take(1000).runWith(TestSink.probe<number>(), mat)
    sink.request(1)
    await sink.expectNext(1)
    const n = mat.runningStages().length
    sink.cancel()
    await assertAllStagesStopped(mat)
    return n
  }

  it('runs a source and its simple operators as one stage by default', async () => {
    expect(await stagesOf(Materializer.create())).toBe(2)
    expect(await stagesOf(Materializer.create({ operatorFusion: true }))).toBe(2)
  })

  it('runs every operator as its own stage when turned off', async () => {
    expect(await stagesOf(Materializer.create({ operatorFusion: false }))).toBe(5)
  })
})

describe.each([true, false])('operator fusion (operatorFusion: %s)', (fusion) => {
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

  const run = <T>(source: Source<T>): Promise<T[]> => source.runWith(Sink.seq(), mat)

  describe('a chain source → map → filter → take → fold', () => {
    it('gives the result of the separate operators', async () => {
      const out = await run(
        Source.range(1, 100)
          .map((x) => x * 3)
          .filter((x) => x % 2 === 0)
          .take(5)
          .fold(0, sum),
      )
      expect(out).toEqual([6 + 12 + 18 + 24 + 30])
    })

    it('calls the user functions element by element, then closes the source when the take is satisfied', async () => {
      const log: string[] = []
      const out = await run(
        Source.from(naturals(log))
          .map((x) => (log.push(`map ${x}`), x * 3))
          .filter((x) => (log.push(`filter ${x}`), x % 2 === 0))
          .take(2)
          .fold(0, (a, x) => (log.push(`fold ${x}`), a + x)),
      )
      expect(out).toEqual([18])
      const calls = ['next 1', 'map 1', 'filter 3', 'next 2', 'map 2', 'filter 6', 'fold 6', 'next 3', 'map 3', 'filter 9', 'next 4', 'map 4', 'filter 12', 'fold 12']
      expect(log.filter((e) => e !== 'closed')).toEqual(calls)
      // the source is closed once, after the element that satisfied the take (whether before or after the fold saw it is not specified)
      expect(log.filter((e) => e === 'closed')).toHaveLength(1)
      expect(log.indexOf('closed')).toBeGreaterThan(log.indexOf('filter 12'))
    })

    const probedChain = () =>
      TestSource.probe<number>()
        .map((x) => x * 3)
        .filter((x) => x % 2 === 0)
        .take(2)
        .fold(0, sum)
        .toMat(TestSink.probe<number>(), Keep.both)
        .run(mat)

    it('pulls upstream once per demanded element, cancels it with NoMoreElementsNeeded when the take is satisfied, then emits the fold and completes', async () => {
      const [src, sink] = probedChain()
      await sink.expectNoMessage()
      expect(src.pending).toBe(0)
      sink.request(1)
      for (const x of [1, 2, 3, 4]) {
        await src.expectRequest()
        src.sendNext(x)
      }
      await sink.expectNext(18)
      await sink.expectComplete()
      expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    })

    it('completes with upstream before the take is satisfied, emitting the fold on demand', async () => {
      const [src, sink] = probedChain()
      src.sendNext(2).sendComplete()
      await sink.expectNoMessage()
      sink.request(1)
      await sink.expectNext(6)
      await sink.expectComplete()
      expect(src.end).toEqual({ kind: 'completed' })
    })

    it('passes an upstream failure through and a downstream cancellation cause upstream', async () => {
      const [src, sink] = probedChain()
      sink.request(1)
      src.sendNext(2).sendError(boom)
      expect(await sink.expectError()).toBe(boom)

      const [src2, sink2] = probedChain()
      const cause = new NonFailureCancellation('client-gone')
      sink2.cancel(cause)
      expect(await src2.expectCancellation()).toBe(cause)
    })
  })

  describe('demand', () => {
    it('runs an element through the chain only when downstream demanded one', async () => {
      let mapped = 0
      const sink = Source.range(1, Infinity)
        .map((x) => (mapped++, x))
        .map(id)
        .runWith(TestSink.probe<number>(), mat)
      await sink.expectNoMessage()
      expect(mapped).toBe(0)
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([1, 2])
      await sink.expectNoMessage()
      expect(mapped).toBe(2)
      sink.cancel()
    })

    it('completes right after the last element of an array source, without an extra request', async () => {
      const sink = Source.from([1, 2, 3]).map(id).filter(() => true).runWith(TestSink.probe<number>(), mat)
      sink.request(3)
      expect(await sink.expectNextN(3)).toEqual([1, 2, 3])
      await sink.expectComplete()
    })

    it('completes an empty source without demand, and emits a fold result only on demand', async () => {
      let called = false
      const sink = Source.empty<number>()
        .map((x) => ((called = true), x))
        .runWith(TestSink.probe<number>(), mat)
      await sink.expectComplete()
      expect(called).toBe(false)

      const folded = Source.empty<number>().map(id).fold(5, sum).runWith(TestSink.probe<number>(), mat)
      await folded.expectNoMessage()
      folded.request(1)
      await folded.expectNext(5)
      await folded.expectComplete()
    })
  })

  describe('operators after a satisfied take', () => {
    it('see completion: a fold emits its result and statefulMap its last element', async () => {
      expect(await run(Source.repeat(2).take(3).fold(0, sum))).toEqual([6])
      expect(await run(Source.repeat(1).take(3).statefulMap(() => 0, (s, x) => [s + x, x], (s) => s * 100))).toEqual([1, 1, 1, 300])
    })

    it('still receive the element that satisfied the take, under their own supervision', async () => {
      expect(await run(Source.range(1, 10).take(2).map(throwOn(2))).catch(id)).toBe(boom)
      expect(await run(Source.range(1, 10).take(3).via(Flow.create<number>().map(throwOn(3)).withSupervision(Supervision.resumingDecider)))).toEqual([1, 2])
    })

    it('read nothing from the source when the take is 0', async () => {
      const log: string[] = []
      let mapped = 0
      expect(await run(Source.from(naturals(log)).map((x) => (mapped++, x)).take(0).fold(0, sum))).toEqual([0])
      expect(log).toEqual([])
      expect(mapped).toBe(0)
    })

    it('end an infinite source: Source.repeat(1).take(3) terminates', async () => {
      expect(await run(Source.repeat(1).take(3))).toEqual([1, 1, 1])
      expect(await run(Source.repeat(1).map(id).take(3).async())).toEqual([1, 1, 1])
    })
  })

  describe('supervision', () => {
    it('set on one operator applies to that operator only, not to a later one', async () => {
      const gError = new Error('g')
      const sink = Source.range(1, 5)
        .map(throwOn(2))
        .withSupervision(Supervision.resumingDecider)
        .map(throwOn(4, gError))
        .runWith(TestSink.probe<number>(), mat)
      sink.request(5)
      expect(await sink.expectNextN(2)).toEqual([1, 3])
      expect(await sink.expectError()).toBe(gError)
    })

    it('set on a later operator does not apply to an earlier one', async () => {
      const out = run(Source.range(1, 5).map(throwOn(2)).via(Flow.create<number>().map(id).withSupervision(Supervision.resumingDecider)))
      expect(await out.catch(id)).toBe(boom)
    })

    it('restarts only the state of the operator whose function threw', async () => {
      const out = await run(
        Source.range(1, 5)
          .zipWithIndex()
          .via(
            Flow.create<[number, number]>()
              .fold(0, (a, [x]) => sum(a, throwOn(3)(x)))
              .withSupervision(Supervision.restartingDecider),
          ),
      )
      expect(out).toEqual([9])
    })
  })

  describe('iterator sources', () => {
    it('are closed (return()) when downstream cancels', async () => {
      const log: string[] = []
      const sink = Source.from(naturals(log)).map(id).runWith(TestSink.probe<number>(), mat)
      sink.request(1)
      await sink.expectNext(1)
      sink.cancel()
      await assertAllStagesStopped(mat)
      expect(log).toEqual(['next 1', 'closed'])
    })

    it('are closed when an operator of the chain fails', async () => {
      const log: string[] = []
      expect(await run(Source.from(naturals(log)).map(throwOn(2))).catch(id)).toBe(boom)
      expect(log).toEqual(['next 1', 'next 2', 'closed'])
    })

    it('are closed when a take is satisfied before an async boundary', async () => {
      const log: string[] = []
      expect(await run(Source.from(naturals(log)).map(id).take(2).async())).toEqual([1, 2])
      expect(log).toEqual(['next 1', 'next 2', 'closed'])
    })

    it('are closed when the materializer shuts down, also before an async boundary', async () => {
      for (const shape of [(s: Source<number>) => s.map(id), (s: Source<number>) => s.map(id).async()]) {
        const log: string[] = []
        const sink = shape(Source.from(naturals(log))).runWith(TestSink.probe<number>(), mat)
        sink.request(1)
        await sink.expectNext(1)
        mat.shutdown()
        expect(log.at(-1)).toBe('closed')
        expect(log.filter((e) => e === 'closed')).toHaveLength(1)
        mat = Materializer.create({ operatorFusion: fusion })
      }
    })

    it('fail the stream with the error their iterator throws, also through an async boundary', async () => {
      function* failing(): Generator<number> {
        yield 1
        throw boom
      }
      expect(await run(Source.from({ [Symbol.iterator]: failing }).map(id)).catch(id)).toBe(boom)
      expect(await run(Source.from({ [Symbol.iterator]: failing }).map(id).async()).catch(id)).toBe(boom)
    })

    it('are read to their end, not closed, when they complete', async () => {
      const log: string[] = []
      expect(await run(Source.from(naturals(log, 2)).map(id))).toEqual([1, 2])
      expect(log).toEqual(['next 1', 'next 2', 'end'])
    })
  })

  describe('reduce', () => {
    it('fails with EmptyStreamError on an empty stream', async () => {
      for (const source of [Source.empty<number>(), Source.from<number>([]), Source.range(1, 0), Source.range(1, 9).filter(() => false)]) {
        const err = await run(source.map(id).reduce(sum)).catch(id)
        expect(err).toBeInstanceOf(EmptyStreamError)
        expect((err as WeirError).code).toBe('WEIR_CORE_EMPTY_STREAM')
      }
    })
  })

  describe('fairness', () => {
    it.each([
      ['into a sink', (s: Source<number>) => s],
      ['through an async boundary', (s: Source<number>) => s.async()],
    ])('a source polling many elements without emitting yields to other streams (%s)', async (_how, shape) => {
      const order: string[] = []
      const big = run(shape(Source.range(1, 1_000_000).filter(() => false))).then((xs) => order.push(`big ${xs.length}`))
      const small = run(Source.range(1, 3).map(id)).then((xs) => order.push(`small ${xs.length}`))
      await Promise.all([big, small])
      expect(order).toEqual(['small 3', 'big 0'])
    })
  })

  describe('materialization', () => {
    it('gives each concurrent run of one blueprint its own operator state', async () => {
      const blueprint = Source.range(1, 5).map(id).zipWithIndex().take(2)
      const runs = await Promise.all([run(blueprint), run(blueprint), run(blueprint)])
      for (const out of runs) {
        expect(out).toEqual([
          [1, 0],
          [2, 1],
        ])
      }
    })

    it('fuses chains that continue through an async boundary with the same results', async () => {
      const out = await run(
        Source.range(1, 1000)
          .map((x) => x + 1)
          .async()
          .filter((x) => x % 2 === 0)
          .async()
          .fold(0, sum),
      )
      expect(out).toEqual([250500])
    })

    it('fails the downstream side of an async boundary with the error of a fused operator', async () => {
      expect(await run(Source.range(1, 10).map(throwOn(5)).async().map(id)).catch(id)).toBe(boom)
    })
  })
})

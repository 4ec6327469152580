/**
 * Specification of the terminal sinks: seq, head, headOption, last, lastOption, ignore, foreach,
 * fold, reduce (a promise of the outcome), cancelled, onComplete (a callback with an Either).
 *
 * Shared contract, checked with operator fusion on and off (upstream chains are fused or not):
 * a sink pulls one element at a time; its promise resolves when upstream completes (head and
 * headOption: after the first element, cancelling upstream with `NoMoreElementsNeeded`), rejects
 * with the upstream error when upstream fails, and rejects with `AbruptTerminationError` when the
 * stream is torn down first (materializer shutdown).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSource } from '@weir/testkit'
import {
  AbruptTerminationError,
  Attributes,
  EmptyStreamError,
  Keep,
  Materializer,
  NoMoreElementsNeeded,
  Sink,
  Source,
  Supervision,
  type WeirError,
} from '../index.js'

const boom = new Error('boom')
const id = <T>(x: T): T => x
const sum = (a: number, x: number): number => a + x
const EMPTY = Symbol('EmptyStreamError')

/** A promise sink, what it makes of [1, 2, 3], and of an empty stream (EMPTY: rejects with EmptyStreamError). */
interface Case {
  readonly name: string
  readonly sink: () => Sink<number, Promise<unknown>>
  readonly ofThree: unknown
  readonly ofNone: unknown
}
const cases: readonly Case[] = [
  { name: 'seq', sink: () => Sink.seq<number>(), ofThree: [1, 2, 3], ofNone: [] },
  { name: 'head', sink: () => Sink.head<number>(), ofThree: 1, ofNone: EMPTY },
  { name: 'headOption', sink: () => Sink.headOption<number>(), ofThree: O.some(1), ofNone: O.none },
  { name: 'last', sink: () => Sink.last<number>(), ofThree: 3, ofNone: EMPTY },
  { name: 'lastOption', sink: () => Sink.lastOption<number>(), ofThree: O.some(3), ofNone: O.none },
  { name: 'ignore', sink: () => Sink.ignore<number>(), ofThree: undefined, ofNone: undefined },
  { name: 'foreach', sink: () => Sink.foreach<number>(() => {}), ofThree: undefined, ofNone: undefined },
  { name: 'fold', sink: () => Sink.fold<number, number>(10, sum), ofThree: 16, ofNone: 10 },
  { name: 'reduce', sink: () => Sink.reduce<number>(sum), ofThree: 6, ofNone: EMPTY },
]

/** Settle a promise into a value that can be compared: its value, or `{ rejected: error }`. */
const outcome = (p: Promise<unknown>): Promise<unknown> => p.then(id, (e: unknown) => ({ rejected: e }))

describe.each([true, false])('terminal sinks (operatorFusion: %s)', (fusion) => {
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

  /** A probed source through a pass-through map into `sink`. */
  function probed<M>(sink: Sink<number, M>) {
    const [src, m] = TestSource.probe<number>().map(id).toMat(sink, Keep.both).run(mat)
    return { src, m }
  }

  describe.each(cases)('$name', ({ sink, ofThree, ofNone }) => {
    it('resolves with its result when upstream completes', async () => {
      expect(await Source.from([1, 2, 3]).map(id).runWith(sink(), mat)).toEqual(ofThree)
    })

    it(`${ofNone === EMPTY ? 'rejects with EmptyStreamError' : 'resolves'} for an empty stream`, async () => {
      const p = Source.empty<number>().map(id).runWith(sink(), mat)
      if (ofNone !== EMPTY) return expect(await p).toEqual(ofNone)
      const err = await p.catch(id)
      expect(err).toBeInstanceOf(EmptyStreamError)
      expect((err as WeirError).code).toBe('WEIR_CORE_EMPTY_STREAM')
    })

    it('rejects with the upstream error', async () => {
      const { src, m } = probed(sink())
      const result = outcome(m)
      await src.expectRequest()
      src.sendError(boom)
      expect(await result).toEqual({ rejected: boom })
    })

    it('rejects with AbruptTerminationError when the materializer shuts down first', async () => {
      const { src, m } = probed(sink())
      const result = outcome(m)
      await src.expectRequest()
      mat.shutdown()
      const { rejected } = (await result) as { rejected: WeirError }
      expect(rejected).toBeInstanceOf(AbruptTerminationError)
      expect(rejected.code).toBe('WEIR_CORE_ABRUPT_TERMINATION')
    })

    it('can be materialized again with the same result', async () => {
      const blueprint = Source.from([1, 2, 3]).toMat(sink(), Keep.right)
      expect(await blueprint.run(mat)).toEqual(ofThree)
      expect(await blueprint.run(mat)).toEqual(ofThree)
    })
  })

  describe('seq', () => {
    it('pulls one element at a time and resolves only on completion', async () => {
      const { src, m } = probed(Sink.seq<number>())
      let settled = false
      void m.then(() => (settled = true))
      await src.expectRequest()
      expect(src.pending).toBe(1)
      src.sendNext(1)
      await src.expectRequest()
      src.sendNext(2)
      await src.expectRequest()
      expect(settled).toBe(false)
      src.sendComplete()
      expect(await m).toEqual([1, 2])
    })

    it('is reached through Sink.runWith and contramap', async () => {
      expect(await Sink.seq<number>().runWith(Source.from([1, 2]), mat)).toEqual([1, 2])
      expect(await Source.from(['a', 'bcd']).runWith(Sink.seq<number>().contramap((s: string) => s.length), mat)).toEqual([1, 3])
    })
  })

  describe.each([
    ['head', () => Sink.head<number>(), 7],
    ['headOption', () => Sink.headOption<number>(), O.some(7)],
  ] as const)('%s', (_name, sink, expected) => {
    it('resolves with the first element and cancels upstream with NoMoreElementsNeeded', async () => {
      const { src, m } = probed<Promise<unknown>>(sink())
      src.sendNext(7).sendNext(8)
      expect(await m).toEqual(expected)
      expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    })

    it('reads no further element of an iterable, and closes it', async () => {
      const log: string[] = []
      function* numbers(): Generator<number> {
        try {
          for (let i = 7; ; i++) yield (log.push(`next ${i}`), i)
        } finally {
          log.push('closed')
        }
      }
      expect(await Source.from({ [Symbol.iterator]: numbers }).map(id).runWith<Promise<unknown>>(sink(), mat)).toEqual(expected)
      await assertAllStagesStopped(mat)
      expect(log).toEqual(['next 7', 'closed'])
    })

    it('resolves for an infinite source', async () => {
      expect(await Source.repeat(7).runWith<Promise<unknown>>(sink(), mat)).toEqual(expected)
    })
  })

  describe('foreach', () => {
    it('calls the function for every element in order, before resolving', async () => {
      const seen: number[] = []
      await Source.range(1, 4).runWith(
        Sink.foreach<number>((x) => seen.push(x)),
        mat,
      )
      expect(seen).toEqual([1, 2, 3, 4])
    })

    it('rejects with the thrown error and cancels upstream with it by default', async () => {
      const { src, m } = probed(
        Sink.foreach<number>((x) => {
          if (x === 2) throw boom
        }),
      )
      const result = outcome(m)
      src.sendNext(1).sendNext(2).sendNext(3)
      expect(await result).toEqual({ rejected: boom })
      expect(await src.expectCancellation()).toBe(boom)
    })

    it('goes on with the next element under resume', async () => {
      const seen: number[] = []
      const sink = Sink.foreach<number>((x) => {
        if (x === 2) throw boom
        seen.push(x)
      }).withAttributes(Attributes.supervisionStrategy(Supervision.resumingDecider))
      await Source.range(1, 3).runWith(sink, mat)
      expect(seen).toEqual([1, 3])
    })
  })

  describe('fold', () => {
    const failingOn2 = (a: number, x: number): number => {
      if (x === 2) throw boom
      return a + x
    }

    it('rejects with the thrown error by default', async () => {
      await expect(Source.range(1, 3).runWith(Sink.fold(0, failingOn2), mat)).rejects.toBe(boom)
    })

    it('skips the element under resume and resets to the seed under restart', async () => {
      const resume = Sink.fold(100, failingOn2).withAttributes(Attributes.supervisionStrategy(Supervision.resumingDecider))
      const restart = Sink.fold(100, failingOn2).withAttributes(Attributes.supervisionStrategy(Supervision.restartingDecider))
      expect(await Source.range(1, 4).runWith(resume, mat)).toBe(108)
      expect(await Source.range(1, 4).runWith(restart, mat)).toBe(107)
    })
  })

  describe('reduce', () => {
    it('rejects with the thrown error', async () => {
      const failing = (a: number, x: number): number => {
        if (x === 2) throw boom
        return a + x
      }
      await expect(Source.range(1, 3).runWith(Sink.reduce(failing), mat)).rejects.toBe(boom)
    })
  })

  describe('cancelled', () => {
    it('cancels upstream at once with NoMoreElementsNeeded, without pulling', async () => {
      const [src, m] = TestSource.probe<number>().map(id).toMat(Sink.cancelled<number>(), Keep.both).run(mat)
      expect(m).toBeUndefined()
      expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
      await expect(src.expectRequest()).rejects.toMatchObject({ reason: 'terminated' })
    })

    it('reads nothing from a synchronous source', async () => {
      let reads = 0
      Source.from({
        *[Symbol.iterator]() {
          for (;;) yield ++reads
        },
      })
        .map(id)
        .runWith(Sink.cancelled(), mat)
      await assertAllStagesStopped(mat)
      expect(reads).toBe(0)
    })
  })

  describe('onComplete', () => {
    /** Run into Sink.onComplete; `calls` collects what the callback receives. */
    function results(source: Source<number>): { calls: E.Either<unknown, void>[] } {
      const calls: E.Either<unknown, void>[] = []
      source.runWith(
        Sink.onComplete((r) => calls.push(r)),
        mat,
      )
      return { calls }
    }

    it('calls back once with right when the stream completes', async () => {
      const { calls } = results(Source.range(1, 3).map(id))
      await assertAllStagesStopped(mat)
      expect(calls).toEqual([E.right(undefined)])
    })

    it('calls back once with left(error) when the stream fails', async () => {
      const { calls } = results(Source.failed<number>(boom).map(id))
      await assertAllStagesStopped(mat)
      expect(calls).toEqual([E.left(boom)])
    })

    it('calls back with left(AbruptTerminationError) when the materializer shuts down', async () => {
      const { calls } = results(Source.never<number>().map(id))
      await mat.whenIdle()
      mat.shutdown()
      await assertAllStagesStopped(mat)
      expect(calls).toHaveLength(1)
      const r = calls[0]!
      expect(E.isLeft(r) && (r.left as WeirError).code).toBe('WEIR_CORE_ABRUPT_TERMINATION')
    })
  })
})

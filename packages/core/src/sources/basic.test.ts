/**
 * Specification of the elementary sources: from (arrays and other iterables), single, range,
 * repeat, empty, never, failed, fromPromise.
 *
 * Shared contract, checked with operator fusion on and off (each source alone, and followed by a
 * pass-through map that fusion runs in the source's own logic): a source emits only when
 * downstream pulls, completes after its last element (arrays, ranges and single at once, without
 * an extra pull), is materialized afresh every run, and stops at once when downstream cancels,
 * releasing an iterator through its `return()`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink } from '@weir/testkit'
import { AbruptTerminationError, InvalidArgumentError, Materializer, NonFailureCancellation, Sink, Source } from '../index.js'

const boom = new Error('boom')
const id = <T>(x: T): T => x

/** An iterable whose iterators log their elements and whether they were closed early. */
function logged<T>(elems: readonly T[], log: string[], onEnd: 'repeat' | 'stop' = 'stop'): Iterable<T> {
  return {
    *[Symbol.iterator]() {
      let done = false
      try {
        do for (const x of elems) yield (log.push(`next ${String(x)}`), x)
        while (onEnd === 'repeat')
        done = true
      } finally {
        log.push(done ? 'end' : 'closed')
      }
    },
  }
}

describe.each([
  [true, false],
  [true, true],
  [false, false],
])('elementary sources (operatorFusion: %s, followed by a map: %s)', (fusion, withMap) => {
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

  /** The source under test, followed by a pass-through map when the suite says so. */
  const s = <T>(source: Source<T>): Source<T> => (withMap ? source.map(id) : source)
  const run = <T>(source: Source<T>): Promise<T[]> => s(source).runWith(Sink.seq(), mat)
  const probe = <T>(source: Source<T>) => s(source).runWith(TestSink.probe<T>(), mat)

  describe('from', () => {
    it('emits the elements of an array, of a Set and of a string, in order', async () => {
      expect(await run(Source.from([1, 2, 3]))).toEqual([1, 2, 3])
      expect(await run(Source.from(new Set(['a', 'b'])))).toEqual(['a', 'b'])
      expect(await run(Source.from('hé'))).toEqual(['h', 'é'])
      expect(await run(Source.from([]))).toEqual([])
    })

    it('emits undefined elements of an array like any other', async () => {
      expect(await run(Source.from([undefined, 1, undefined]))).toEqual([undefined, 1, undefined])
    })

    it('emits one element per pull and completes right after the last one of an array', async () => {
      const sink = probe(Source.from([1, 2, 3]))
      await sink.expectNoMessage()
      sink.request(1)
      await sink.expectNext(1)
      await sink.expectNoMessage()
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([2, 3])
      await sink.expectComplete()
    })

    it('completes an empty array without demand', async () => {
      await probe(Source.from<number>([])).expectComplete()
    })

    it('reads an array again in every materialization', async () => {
      const blueprint = Source.from([1, 2])
      expect(await run(blueprint)).toEqual([1, 2])
      expect(await run(blueprint)).toEqual([1, 2])
    })

    it('asks an iterable for a fresh iterator in every materialization', async () => {
      const log: string[] = []
      const blueprint = Source.from(logged([1, 2], log))
      expect(await run(blueprint)).toEqual([1, 2])
      expect(await run(blueprint)).toEqual([1, 2])
      expect(log).toEqual(['next 1', 'next 2', 'end', 'next 1', 'next 2', 'end'])
    })

    it('reads an iterable lazily, one element per pull', async () => {
      const log: string[] = []
      const sink = probe(Source.from(logged([1, 2, 3], log)))
      await sink.expectNoMessage()
      expect(log).toEqual([])
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([1, 2])
      await sink.expectNoMessage()
      expect(log).toEqual(['next 1', 'next 2'])
      sink.request(2)
      await sink.expectNext(3)
      await sink.expectComplete()
      expect(log).toEqual(['next 1', 'next 2', 'next 3', 'end'])
    })

    it('closes the iterator (return()) when downstream cancels, and reads nothing more', async () => {
      const log: string[] = []
      const sink = probe(Source.from(logged([1, 2, 3], log, 'repeat')))
      sink.request(1)
      await sink.expectNext(1)
      sink.cancel(new NonFailureCancellation('client-gone'))
      await assertAllStagesStopped(mat)
      expect(log).toEqual(['next 1', 'closed'])
    })

    it('closes the iterator when a take downstream is satisfied', async () => {
      const log: string[] = []
      expect(await run(Source.from(logged([1, 2, 3], log, 'repeat')).take(2))).toEqual([1, 2])
      expect(log).toEqual(['next 1', 'next 2', 'closed'])
    })

    it('closes the iterator when the materializer shuts down', async () => {
      const log: string[] = []
      const sink = probe(Source.from(logged([1], log, 'repeat')))
      sink.request(1)
      await sink.expectNext(1)
      mat.shutdown()
      expect(log).toEqual(['next 1', 'closed'])
      expect(await sink.expectError()).toBeInstanceOf(AbruptTerminationError)
    })

    it('fails with the error thrown by the iterator, after the elements before it', async () => {
      function* failing(): Generator<number> {
        yield 1
        throw boom
      }
      const sink = probe(Source.from({ [Symbol.iterator]: failing }))
      sink.request(3)
      await sink.expectNext(1)
      expect(await sink.expectError()).toBe(boom)
    })
  })

  describe('single', () => {
    it('emits its element and completes right after it', async () => {
      const sink = probe(Source.single('a'))
      await sink.expectNoMessage()
      sink.request(1)
      await sink.expectNext('a')
      await sink.expectComplete()
    })
  })

  describe('range', () => {
    it('counts from start to end inclusive, by 1 by default', async () => {
      expect(await run(Source.range(1, 5))).toEqual([1, 2, 3, 4, 5])
      expect(await run(Source.range(-1, 1))).toEqual([-1, 0, 1])
      expect(await run(Source.range(3, 3))).toEqual([3])
    })

    it('counts by a positive step, stopping at the last value not beyond end', async () => {
      expect(await run(Source.range(1, 10, 3))).toEqual([1, 4, 7, 10])
      expect(await run(Source.range(1, 9, 3))).toEqual([1, 4, 7])
      expect(await run(Source.range(0, 1, 0.25))).toEqual([0, 0.25, 0.5, 0.75, 1])
    })

    it('counts down by a negative step', async () => {
      expect(await run(Source.range(5, 1, -1))).toEqual([5, 4, 3, 2, 1])
      expect(await run(Source.range(10, 1, -3))).toEqual([10, 7, 4, 1])
      expect(await run(Source.range(10, 2, -3))).toEqual([10, 7, 4])
    })

    it('is empty when end lies on the other side of start', async () => {
      expect(await run(Source.range(1, 0))).toEqual([])
      expect(await run(Source.range(0, 1, -1))).toEqual([])
    })

    it('emits on demand and completes right after end, without an extra request', async () => {
      const sink = probe(Source.range(1, 3))
      await sink.expectNoMessage()
      sink.request(2)
      expect(await sink.expectNextN(2)).toEqual([1, 2])
      await sink.expectNoMessage()
      sink.request(1)
      await sink.expectNext(3)
      await sink.expectComplete()
    })

    it('completes an empty range without demand', async () => {
      await probe(Source.range(1, 0)).expectComplete()
    })

    it('stops when downstream cancels an unbounded range', async () => {
      const sink = probe(Source.range(0, Infinity))
      sink.request(3)
      expect(await sink.expectNextN(3)).toEqual([0, 1, 2])
      sink.cancel()
    })
  })

  describe('repeat', () => {
    it('emits its element on every pull, forever', async () => {
      const sink = probe(Source.repeat('x'))
      await sink.expectNoMessage()
      sink.request(3)
      expect(await sink.expectNextN(3)).toEqual(['x', 'x', 'x'])
      await sink.expectNoMessage()
      sink.cancel()
    })

    it('terminates with a take', async () => {
      expect(await run(Source.repeat(1).take(3))).toEqual([1, 1, 1])
    })
  })

  describe('empty', () => {
    it('completes at once, without demand', async () => {
      await probe(Source.empty<number>()).expectComplete()
      expect(await run(Source.empty())).toEqual([])
    })
  })

  describe('never', () => {
    it('neither emits nor completes, and stops when downstream cancels', async () => {
      const sink = probe(Source.never<number>())
      sink.request(1)
      await sink.expectNoMessage()
      sink.cancel()
      await assertAllStagesStopped(mat)
      expect(sink.isStopped).toBe(true)
    })
  })

  describe('failed', () => {
    it('fails at once with its error, without demand', async () => {
      expect(await probe(Source.failed<number>(boom)).expectError()).toBe(boom)
      await expect(run(Source.failed(boom))).rejects.toBe(boom)
    })
  })

  describe('fromPromise', () => {
    it('emits the resolved value, then completes', async () => {
      expect(await run(Source.fromPromise(Promise.resolve(42)))).toEqual([42])
    })

    it('emits the value only on demand, then completes without an extra request', async () => {
      const sink = probe(Source.fromPromise(Promise.resolve('v')))
      await sink.expectNoMessage()
      sink.request(1)
      await sink.expectNext('v')
      await sink.expectComplete()
    })

    it('waits for a pending promise', async () => {
      let resolve!: (v: number) => void
      const sink = probe(Source.fromPromise(new Promise<number>((r) => (resolve = r))))
      sink.request(1)
      await sink.expectNoMessage()
      resolve(7)
      await sink.expectNext(7)
      await sink.expectComplete()
    })

    it('fails with the rejection reason', async () => {
      await expect(run(Source.fromPromise(Promise.reject(boom)))).rejects.toBe(boom)
    })

    it('calls a promise factory once per materialization, only when the stream runs', async () => {
      let calls = 0
      const blueprint = Source.fromPromise(() => Promise.resolve(++calls))
      expect(calls).toBe(0)
      expect(await run(blueprint)).toEqual([1])
      expect(await run(blueprint)).toEqual([2])
      expect(calls).toBe(2)
    })

    it('fails with the error a promise factory throws', async () => {
      const blueprint = Source.fromPromise((): Promise<number> => {
        throw boom
      })
      await expect(run(blueprint)).rejects.toBe(boom)
    })

    it('stops when downstream cancels before the promise settles', async () => {
      const sink = probe(Source.fromPromise(new Promise<number>(() => {})))
      sink.request(1)
      await sink.expectNoMessage()
      sink.cancel()
      await assertAllStagesStopped(mat)
    })
  })
})

describe('range arguments', () => {
  const rejection = (f: () => unknown): unknown => {
    try {
      f()
    } catch (e) {
      return e
    }
    return undefined
  }

  it('rejects a step of 0 or not finite when the blueprint is built', () => {
    // a step of 0 never reaches end: it would emit start forever (or nothing, depending on the direction)
    for (const [start, end, step] of [
      [1, 5, 0],
      [5, 1, 0],
      [1, 5, Infinity],
      [1, 5, NaN],
    ]) {
      const err = rejection(() => Source.range(start!, end!, step))
      expect(err).toBeInstanceOf(InvalidArgumentError)
      expect(err).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'step' })
    }
  })

  it('rejects a start that is not finite and an end that is NaN', () => {
    expect(rejection(() => Source.range(NaN, 5))).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'start' })
    expect(rejection(() => Source.range(-Infinity, 5))).toMatchObject({ argument: 'start' })
    expect(rejection(() => Source.range(1, NaN))).toMatchObject({ argument: 'end' })
  })
})

import fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe, type SourceProbe } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, Materializer, NoMoreElementsNeeded, Sink, Source, Supervision, type NotUsed, type RunnableGraph, type SubFlow } from './index.js'

const collect = <T>(acc: T[], x: T): T[] => [...acc, x]
const sorted = (xs: readonly number[]): number[] => xs.slice().sort((a, b) => a - b)

describe('SubFlow types', () => {
  it('returns the parent’s kind and materialized value, with exact types', async () => {
    const source = TestSource.probe<number>()
      .groupBy(2, (x) => x % 2)
      .map((x) => `#${x}`)
      .mergeSubstreams()
    expectTypeOf(source).toEqualTypeOf<Source<string, SourceProbe<number>>>()
    const flow = Flow.create<number>()
      .splitWhen((x) => x === 0)
      .map((x) => x * 2)
      .concatSubstreams()
    expectTypeOf(flow).toEqualTypeOf<Flow<number, number, NotUsed>>()
    expectTypeOf(Source.range(1, 3).groupBy(3, (x) => x).to(Sink.ignore())).toEqualTypeOf<RunnableGraph<NotUsed>>()
    expectTypeOf(Flow.create<string>().splitAfter((s) => s === '').to(Sink.ignore())).toEqualTypeOf<Sink<string, NotUsed>>()
    const nested = Source.range(1, 8)
      .groupBy(2, (x) => x % 2)
      .groupBy(2, (x) => x % 4)
      .fold(0, (a, x) => a + x)
    expectTypeOf(nested.mergeSubstreams()).toEqualTypeOf<SubFlow<'source', unknown, number, NotUsed>>()
    expectTypeOf(nested.mergeSubstreams().mergeSubstreams()).toEqualTypeOf<Source<number, NotUsed>>()

    const time = new VirtualTime()
    const [upstream, out] = source.toMat(TestSink.probe<string>(), Keep.both).run(time.materializer)
    out.request(2)
    await upstream.expectRequest()
    upstream.sendNext(1).sendComplete()
    await out.expectNext('#1')
    await out.expectComplete()
    expect(await Source.from([1, 0, 2]).via(flow).runWith(Sink.seq(), time.materializer)).toEqual([2, 0, 4])
    expect(sorted(await nested.mergeSubstreams().mergeSubstreams().runWith(Sink.seq(), time.materializer))).toEqual([6, 8, 10, 12])
    await assertAllStagesStopped(time.materializer)
  })
})

describe.each([true, false])('SubFlow (operatorFusion: %s)', (operatorFusion) => {
  const timeWith = (): VirtualTime => new VirtualTime({ operatorFusion })

  it('applies the operators to each sub-stream separately', async () => {
    const time = timeWith()
    const out = await Source.range(1, 10)
      .groupBy(2, (x) => x % 2)
      .map((x) => x * 10)
      .scan(0, (a, x) => a + x)
      .drop(1)
      .fold([] as number[], collect)
      .mergeSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(out.slice().sort((a, b) => a[0]! - b[0]!)).toEqual([
      [10, 40, 90, 160, 250],
      [20, 60, 120, 200, 300],
    ])
    await assertAllStagesStopped(time.materializer)
  })

  it('keeps operator attributes and async boundaries inside each sub-stream', async () => {
    const time = timeWith()
    const out = await Source.range(1, 6)
      .groupBy(2, (x) => x % 2)
      .map((x) => {
        if (x === 3) throw new Error('skip me')
        return x * 2
      })
      .withSupervision(Supervision.resumingDecider)
      .async()
      .fold(0, (a, x) => a + x)
      .mergeSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(sorted(out)).toEqual([12, 24]) // odd: (1 + 5) * 2, 3 was dropped; even: (2 + 4 + 6) * 2
    await assertAllStagesStopped(time.materializer)
  })

  it('is not a graph by itself', () => {
    const sub = Source.range(1, 3).groupBy(2, (x) => x % 2)
    expect(() => sub.toModule()).toThrow(InvalidArgumentError)
  })

  it('works the same inside a Flow', async () => {
    const time = timeWith()
    const sums = Flow.create<number>()
      .groupBy(3, (x) => x % 3)
      .reduce((a, x) => a + x)
      .mergeSubstreams()
    expect(sorted(await Source.range(1, 9).via(sums).runWith(Sink.seq(), time.materializer))).toEqual([12, 15, 18])
    expect(sorted(await Source.range(1, 3).via(sums).runWith(Sink.seq(), time.materializer))).toEqual([1, 2, 3])
    await assertAllStagesStopped(time.materializer)
  })

  it('runs each sub-stream into its own materialization of the sink with to(sink)', async () => {
    const time = timeWith()
    const probes: SinkProbe<number>[] = []
    const sink = TestSink.probe<number>().mapMaterializedValue((p) => {
      probes.push(p)
      return p
    })
    const upstream = TestSource.probe<number>()
      .groupBy(2, (x) => x % 2)
      .map((x) => x * 10)
      .to(sink)
      .run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    await time.settle()
    expect(probes.length).toBe(2)
    probes[1]!.request(1)
    await probes[1]!.expectNext(20)
    probes[0]!.request(1)
    await probes[0]!.expectNext(10)
    upstream.sendComplete()
    await probes[0]!.expectComplete()
    await probes[1]!.expectComplete()
    await assertAllStagesStopped(time.materializer)

    const seen: number[] = []
    const intoSink = Flow.create<number>()
      .splitAfter((x) => x % 3 === 0)
      .fold(0, (a, x) => a + x)
      .to(Sink.foreach((s: number) => seen.push(s)))
    Source.range(1, 7).runWith(intoSink, time.materializer)
    await time.settle()
    expect(sorted(seen)).toEqual([6, 7, 15])
    await assertAllStagesStopped(time.materializer)
  })

  it('runs materialized-value functions once per sub-stream, keeping the parent’s value', async () => {
    const time = timeWith()
    const ends: Promise<void>[] = []
    let mapped = 0
    const [probe, out] = TestSource.probe<number>()
      .groupBy(3, (x) => x % 3)
      .watchTermination((_: NotUsed, done) => {
        ends.push(done)
        return 'ignored'
      })
      .mapMaterializedValue(() => mapped++)
      .mergeSubstreams()
      .toMat(Sink.seq(), Keep.both)
      .run(time.materializer)
    expectTypeOf(probe).toEqualTypeOf<SourceProbe<number>>()
    for (const x of [1, 2, 3, 4]) {
      await probe.expectRequest()
      probe.sendNext(x)
    }
    probe.sendComplete()
    expect(sorted(await out)).toEqual([1, 2, 3, 4])
    expect(ends.length).toBe(3)
    expect(mapped).toBe(3)
    await Promise.all(ends)
    await assertAllStagesStopped(time.materializer)
  })

  it('mergeSubstreamsWithParallelism runs at most n sub-streams at once', async () => {
    const time = timeWith()
    const out = await Source.from([1, 2, 0, 3, 0, 4])
      .splitWhen((x) => x === 0)
      .mergeSubstreamsWithParallelism(1)
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([1, 2, 0, 3, 0, 4])
    expect(() => Source.single(1).splitWhen(() => true).mergeSubstreamsWithParallelism(0)).toThrow(InvalidArgumentError)
    await assertAllStagesStopped(time.materializer)
  })

  it('concatSubstreams after groupBy holds a second key until the first sub-stream completed (as in Pekko)', async () => {
    const time = timeWith()
    const [upstream, out] = TestSource.probe<number>()
      .groupBy(2, (x) => x % 2)
      .concatSubstreams()
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(10)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await out.expectNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2) // a second key: its sub-stream waits behind the first one
    await out.expectNoMessage()
    expect(upstream.pending).toBe(0) // and holds upstream
    upstream.sendComplete() // the first sub-stream completes: the second one runs
    await out.expectNext(2)
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels every sub-stream and upstream with downstream’s cause', async () => {
    const time = timeWith()
    const [upstream, out] = TestSource.probe<number>()
      .groupBy(4, (x) => x)
      .mergeSubstreams()
      .take(3)
      .toMat(Sink.seq(), Keep.both)
      .run(time.materializer)
    for (const x of [1, 2, 3]) {
      await upstream.expectRequest()
      upstream.sendNext(x)
    }
    expect(sorted(await out)).toEqual([1, 2, 3])
    expect(await upstream.expectCancellation()).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })
})

// ---- properties: sub-flows against the same computation on arrays ----

const smallInts = fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 30 })

function groupsOf(xs: readonly number[], key: (x: number) => number): number[][] {
  const groups = new Map<number, number[]>()
  for (const x of xs) {
    const k = key(x)
    const g = groups.get(k)
    if (g === undefined) groups.set(k, [x])
    else g.push(x)
  }
  return [...groups.values()]
}

function splitWhenModel(xs: readonly number[], p: (x: number) => boolean): number[][] {
  const out: number[][] = []
  for (const x of xs) {
    if (out.length === 0 || p(x)) out.push([x])
    else out[out.length - 1]!.push(x)
  }
  return out
}

function splitAfterModel(xs: readonly number[], p: (x: number) => boolean): number[][] {
  const out: number[][] = []
  let open = false
  for (const x of xs) {
    if (!open) out.push([])
    out[out.length - 1]!.push(x)
    open = !p(x)
  }
  return out
}

const byFirst = (gs: number[][]): number[][] => gs.slice().sort((a, b) => a[0]! - b[0]!)

describe.each([true, false])('sub-flow properties (operatorFusion: %s)', (operatorFusion) => {
  const numRuns = 40

  it('groupBy(k).fold(…).mergeSubstreams() yields the groups of the array, each in order', async () => {
    const m = Materializer.create({ operatorFusion })
    await fc.assert(
      fc.asyncProperty(smallInts, fc.integer({ min: 1, max: 5 }), async (xs, n) => {
        const key = (x: number): number => x % n
        const out = await Source.from(xs)
          .groupBy(n, key)
          .fold([] as number[], collect)
          .mergeSubstreams()
          .runWith(Sink.seq(), m)
        // groups are disjoint by key: sort by the key of their first element
        const byKey = (gs: number[][]): number[][] => gs.slice().sort((a, b) => key(a[0]!) - key(b[0]!))
        expect(byKey(out)).toEqual(byKey(groupsOf(xs, key)))
      }),
      { numRuns },
    )
    await assertAllStagesStopped(m)
  })

  it('groupBy(k).take(1).concatSubstreams() yields the first element of each key, in order', async () => {
    const m = Materializer.create({ operatorFusion })
    await fc.assert(
      fc.asyncProperty(smallInts, fc.integer({ min: 1, max: 5 }), async (xs, n) => {
        const key = (x: number): number => x % n
        const out = await Source.from(xs).groupBy(n, key).take(1).concatSubstreams().runWith(Sink.seq(), m)
        expect(out).toEqual(groupsOf(xs, key).map((g) => g[0]))
      }),
      { numRuns },
    )
    await assertAllStagesStopped(m)
  })

  it('splitWhen / splitAfter(p).fold(…).concatSubstreams() cut the array at the same places', async () => {
    const m = Materializer.create({ operatorFusion })
    await fc.assert(
      fc.asyncProperty(smallInts, fc.integer({ min: 2, max: 5 }), async (xs, d) => {
        const p = (x: number): boolean => x % d === 0
        const when = await Source.from(xs).splitWhen(p).fold([] as number[], collect).concatSubstreams().runWith(Sink.seq(), m)
        expect(when).toEqual(splitWhenModel(xs, p))
        const after = await Source.from(xs).splitAfter(p).fold([] as number[], collect).concatSubstreams().runWith(Sink.seq(), m)
        expect(after).toEqual(splitAfterModel(xs, p))
        const merged = await Source.from(xs).splitWhen(p).fold([] as number[], collect).mergeSubstreams().runWith(Sink.seq(), m)
        expect(byFirst(merged)).toEqual(byFirst(splitWhenModel(xs, p)))
      }),
      { numRuns },
    )
    await assertAllStagesStopped(m)
  })

  it('flatMapConcat is flatMap, flatMapMerge the same elements, prefixAndTail the same stream', async () => {
    const m = Materializer.create({ operatorFusion })
    await fc.assert(
      fc.asyncProperty(smallInts, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 5 }), async (xs, breadth, n) => {
        const f = (x: number): number[] => Array.from({ length: x % 3 }, (_, i) => x * 10 + i)
        expect(await Source.from(xs).flatMapConcat((x) => Source.from(f(x))).runWith(Sink.seq(), m)).toEqual(xs.flatMap(f))
        // the same through inner sources that must run
        expect(
          await Source.from(xs)
            .flatMapConcat((x) => Source.from(f(x)).map((y) => y))
            .runWith(Sink.seq(), m),
        ).toEqual(xs.flatMap(f))
        const merged = await Source.from(xs)
          .flatMapMerge(breadth, (x) => (x % 2 === 0 ? Source.from(f(x)) : Source.from(f(x)).map((y) => y)))
          .runWith(Sink.seq(), m)
        expect(sorted(merged)).toEqual(sorted(xs.flatMap(f)))
        const [prefix, tail] = await Source.from(xs).prefixAndTail(n).runWith(Sink.head(), m)
        expect([...prefix, ...(await tail.runWith(Sink.seq(), m))]).toEqual(xs)
        expect(prefix).toEqual(xs.slice(0, n))
      }),
      { numRuns },
    )
    await assertAllStagesStopped(m)
  })
})

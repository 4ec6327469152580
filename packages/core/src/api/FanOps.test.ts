import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  Balance,
  Broadcast,
  Concat,
  Flow,
  InvalidArgumentError,
  Keep,
  Merge,
  Sink,
  Source,
  StageWasCompleted,
  ZipN,
} from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)

describe.each([true, false])('fan-in operators (operator fusion %s)', (operatorFusion) => {
  it('merge, zip, zipWith and interleave combine a chain with another source', async () => {
    const t = new VirtualTime({ operatorFusion })
    const run = <T>(s: Source<T, any>) => s.runWith(Sink.seq(), t.materializer)
    expect(sorted(await run(Source.from([1, 2]).map((x) => x).merge(Source.from([10, 20]))))).toEqual([1, 2, 10, 20])
    expect(await run(Source.range(1, 3).zip(Source.from(['a', 'b'])))).toEqual([
      [1, 'a'],
      [2, 'b'],
    ])
    expect(await run(Source.from([1, 2]).zipWith(Source.from([10, 20]), (a, b) => a + b))).toEqual([11, 22])
    expect(await run(Source.range(1, 5).interleave(Source.from([10, 20]), 2))).toEqual([1, 2, 10, 20, 3, 4, 5])
    await assertAllStagesStopped(t.materializer)
  })
})

describe('merge', () => {
  it('works on a Flow, and mergeMat keeps the other source’s materialized value', async () => {
    const flow = Flow.create<number>().mergeMat(TestSource.probe<number>(), Keep.right)
    const [other, sink] = Source.from([1]).viaMat(flow, Keep.right).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    sink.request(3)
    await sink.expectNext(1)
    other.sendNext(2).sendComplete()
    await sink.expectNext(2)
    await sink.expectComplete()
  })

  it('with eagerComplete completes as soon as either side completes', async () => {
    const [main, sink] = TestSource.probe<number>()
      .merge(Source.empty<number>(), { eagerComplete: true })
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    await sink.expectComplete()
    expect(await main.expectCancellation()).toBe(StageWasCompleted)
  })

  it('cancels both sides with the downstream cause', async () => {
    const [[a, b], sink] = TestSource.probe<number>()
      .mergeMat(TestSource.probe<number>(), Keep.both)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await a.expectCancellation()).toBe(cause)
    expect(await b.expectCancellation()).toBe(cause)
  })
})

describe('zip, zipWith, zipLatest, zipLatestWith', () => {
  it('zipMat and zipWithMat keep the other source’s materialized value', async () => {
    const [other, out] = Source.from([1, 2]).zipMat(TestSource.probe<string>(), Keep.right).toMat(Sink.seq(), Keep.both).run(time.materializer)
    other.sendNext('a').sendNext('b').sendNext('c')
    expect(await out).toEqual([
      [1, 'a'],
      [2, 'b'],
    ])
    expect(await other.expectCancellation()).toBeDefined()
    const [p, sums] = Source.from([1, 2])
      .zipWithMat(TestSource.probe<number>(), (a, b) => a * b, Keep.right)
      .toMat(Sink.seq(), Keep.both)
      .run(time.materializer)
    p.sendNext(10).sendNext(100).sendComplete()
    expect(await sums).toEqual([10, 200])
  })

  it('zipWith works on a Flow', async () => {
    const label = Flow.create<number>().zipWith(Source.from(['a', 'b', 'c']), (n, s) => `${s}${n}`)
    expect(await Source.from([1, 2]).via(label).runWith(Sink.seq(), time.materializer)).toEqual(['a1', 'b2'])
  })

  it('zipLatest pairs the latest elements each time either side has a new one', async () => {
    const [[a, b], sink] = TestSource.probe<number>()
      .zipLatestMat(TestSource.probe<string>(), Keep.both)
      .toMat(TestSink.probe<[number, string]>(), Keep.both)
      .run(time.materializer)
    sink.request(5)
    a.sendNext(1)
    b.sendNext('x')
    await sink.expectNext([1, 'x'])
    a.sendNext(2)
    await sink.expectNext([2, 'x'])
    b.sendComplete()
    await sink.expectComplete()
    await a.expectCancellation()
  })

  it('zipLatestWith combines the latest elements with a function', async () => {
    const [[a, b], sink] = TestSource.probe<number>()
      .zipLatestWithMat(TestSource.probe<number>(), (price, rate) => price * rate, Keep.both)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    sink.request(5)
    a.sendNext(10)
    b.sendNext(2)
    await sink.expectNext(20)
    b.sendNext(3)
    await sink.expectNext(30)
    sink.cancel()
    await a.expectCancellation()
    await b.expectCancellation()
  })

  it('zip completes with the first side to complete and cancels the other', async () => {
    const [other, out] = Source.empty<number>().zipMat(TestSource.probe<number>(), Keep.right).toMat(Sink.seq(), Keep.both).run(time.materializer)
    expect(await out).toEqual([])
    await other.expectCancellation()
  })
})

describe('interleave', () => {
  it('interleaveMat keeps the other source’s materialized value and pulls only the side whose turn it is', async () => {
    const [other, sink] = Source.from([1, 2, 3])
      .interleaveMat(TestSource.probe<number>(), 2, Keep.right)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([1, 2])
    expect(other.pending).toBe(0)
    sink.request(1)
    await other.expectRequest()
    other.sendNext(10).sendComplete()
    await sink.expectNext(10)
    sink.request(5)
    await sink.expectNext(3)
    await sink.expectComplete()
  })
})

describe('alsoTo', () => {
  it('sends every element to the sink as well, at the pace of the slower one', async () => {
    const [also, main] = Source.range(1, 3).alsoToMat(TestSink.probe<number>(), Keep.right).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    main.request(3)
    await main.expectNoMessage() // the also-sink has not pulled
    also.request(1)
    await main.expectNext(1)
    await also.expectNext(1)
    also.request(5)
    expect(await main.expectNextN(2)).toEqual([2, 3])
    expect(await also.expectNextN(2)).toEqual([2, 3])
    await main.expectComplete()
    await also.expectComplete()
  })

  it('cancels upstream when the sink cancels, completing downstream', async () => {
    const [[source, also], main] = TestSource.probe<number>()
      .alsoToMat(TestSink.probe<number>(), Keep.both)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    const cause = new Error('audit log down')
    also.cancel(cause)
    expect(await source.expectCancellation()).toBe(cause)
    await main.expectComplete()
  })
})

describe('wireTap', () => {
  it('never backpressures: the tap gets only the elements it has pulled for', async () => {
    const [tap, out] = Source.range(1, 5).wireTapMat(TestSink.probe<number>(), Keep.right).toMat(Sink.seq(), Keep.both).run(time.materializer)
    expect(await out).toEqual([1, 2, 3, 4, 5]) // the tap never pulled
    await tap.expectComplete()
  })

  it('delivers to a tap that pulls, and keeps the main stream running when the tap cancels', async () => {
    const [[source, tap], main] = TestSource.probe<number>()
      .wireTapMat(TestSink.probe<number>(), Keep.both)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    tap.request(1)
    main.request(2)
    source.sendNext(1).sendNext(2)
    expect(await main.expectNextN(2)).toEqual([1, 2])
    await tap.expectNext(1)
    tap.cancel()
    main.request(1)
    source.sendNext(3)
    await main.expectNext(3)
    main.cancel()
    await source.expectCancellation()
  })
})

describe('divertTo', () => {
  it('sends matching elements to the sink instead of downstream', async () => {
    const [evens, odds] = Source.range(1, 6)
      .divertToMat(Sink.seq<number>(), (x) => x % 2 === 0, Keep.right)
      .toMat(Sink.seq(), Keep.both)
      .run(time.materializer)
    expect(await odds).toEqual([1, 3, 5])
    expect(await evens).toEqual([2, 4, 6])
  })

  it('cancels upstream when either destination cancels', async () => {
    const [[source, diverted], main] = TestSource.probe<number>()
      .divertToMat(TestSink.probe<number>(), (x) => x < 0, Keep.both)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    const cause = new Error('gone')
    main.cancel(cause)
    expect(await source.expectCancellation()).toBe(cause)
    await diverted.expectComplete()
  })
})

describe('Source.combine and Sink.combine', () => {
  it('combines three sources through a merge or a concat', async () => {
    const merged = Source.combine(Source.from([1]), Source.from([2]), Source.from([3]), (n) => Merge.create<number>(n))
    expect(sorted(await merged.runWith(Sink.seq(), time.materializer))).toEqual([1, 2, 3])
    const concatenated = Source.combine(Source.from([1, 2]), Source.empty<number>(), Source.from([3]), (n) => Concat.create<number>(n))
    expect(await concatenated.runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3])
  })

  it('combines into another element type, and combineMat keeps both materialized values', async () => {
    const zipped = Source.combine(Source.from([1, 2]), Source.from([10, 20, 30]), (n) => ZipN.create<number>(n))
    expect(await zipped.runWith(Sink.seq(), time.materializer)).toEqual([
      [1, 10],
      [2, 20],
    ])
    const [[a, b], sink] = Source.combineMat(TestSource.probe<number>(), TestSource.probe<number>(), (n) => Merge.create<number>(n), Keep.both)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    sink.request(2)
    a.sendNext(1).sendComplete()
    await sink.expectNext(1)
    b.sendNext(2).sendComplete()
    await sink.expectNext(2)
    await sink.expectComplete()
  })

  it('rejects a strategy whose junction does not fit the number of sources', () => {
    expect(() => Source.combine(Source.single(1), Source.single(2), () => Merge.create<number>(3))).toThrow(InvalidArgumentError)
  })

  it('broadcasts to several sinks, or balances over them', async () => {
    const seen: number[][] = [[], [], []]
    const sink = Sink.combine(
      Sink.foreach<number>((x) => seen[0]!.push(x)),
      Sink.foreach<number>((x) => seen[1]!.push(x)),
      Sink.foreach<number>((x) => seen[2]!.push(x)),
      (n) => Broadcast.create<number>(n),
    )
    Source.range(1, 3).runWith(sink, time.materializer)
    await time.settle()
    expect(seen).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ])
    const [x, y] = Source.range(1, 10)
      .runWith(Sink.combineMat(Sink.seq<number>(), Sink.seq<number>(), (n) => Balance.create<number>(n), Keep.both), time.materializer)
    expect(sorted([...(await x), ...(await y)])).toEqual(Array.from({ length: 10 }, (_, i) => i + 1))
  })
})

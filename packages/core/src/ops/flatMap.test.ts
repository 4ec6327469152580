import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import {
  InvalidArgumentError,
  isNonFailureCancellation,
  Keep,
  NoMoreElementsNeeded,
  NonFailureCancellation,
  Sink,
  Source,
  SourceSwitched,
  Supervision,
} from '../index.js'

/** Inner sources that are test probes, recorded in the order they are materialized. */
function innerProbes<T>(): { readonly probes: SourceProbe<T>[]; readonly source: () => Source<T, SourceProbe<T>> } {
  const probes: SourceProbe<T>[] = []
  const source = (): Source<T, SourceProbe<T>> =>
    TestSource.probe<T>().mapMaterializedValue((p) => {
      probes.push(p)
      return p
    })
  return { probes, source }
}

describe.each([true, false])('flatMapConcat (operatorFusion: %s)', (operatorFusion) => {
  const timeWith = (): VirtualTime => new VirtualTime({ operatorFusion })

  it('emits the elements of each inner source in turn, in upstream order', async () => {
    const time = timeWith()
    const out = await Source.from([1, 2, 3])
      .flatMapConcat((x) => (x === 2 ? Source.empty<number>() : Source.from([x, x * 10]).map((y) => y + 1)))
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([2, 11, 4, 31])
    await assertAllStagesStopped(time.materializer)
  })

  it('emits plain single, array and empty sources without running them, still one element per demand', async () => {
    const time = timeWith()
    let materialized = 0
    const inner = (x: number): Source<number> => {
      if (x === 1) return Source.single(x)
      if (x === 2) return Source.empty<number>()
      if (x === 3) return Source.from([x, x * 10, x * 100])
      return Source.single(x).mapMaterializedValue(() => {
        materialized++ // a source with effects at materialization is run
        return undefined
      })
    }
    const out = Source.from([1, 2, 3, 4])
      .flatMapConcat(inner)
      .runWith(TestSink.probe<number>(), time.materializer)
    out.request(2)
    expect(await out.expectNextN(2)).toEqual([1, 3])
    await out.expectNoMessage()
    out.request(3)
    expect(await out.expectNextN(3)).toEqual([30, 300, 4])
    await out.expectComplete()
    expect(materialized).toBe(1)
    await assertAllStagesStopped(time.materializer)
  })

  it('materializes the next inner source only once the previous one completed', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<string>()
    const [upstream, out] = TestSource.probe<number>()
      .flatMapConcat(() => source())
      .toMat(TestSink.probe<string>(), Keep.both)
      .run(time.materializer)
    out.request(10)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await time.settle()
    expect(probes.length).toBe(1)
    expect(upstream.pending).toBe(0) // one inner at a time: upstream waits
    probes[0]!.sendNext('a').sendComplete()
    await out.expectNext('a')
    await upstream.expectRequest()
    upstream.sendNext(2)
    await time.settle()
    expect(probes.length).toBe(2)
    probes[1]!.sendNext('b')
    await out.expectNext('b')
    upstream.sendComplete()
    await out.expectNoMessage() // the last inner source still runs
    probes[1]!.sendComplete()
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('reads an inner source one element ahead and pushes nothing without demand', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<number>()
    const out = Source.single(0)
      .flatMapConcat(() => source())
      .runWith(TestSink.probe<number>(), time.materializer)
    out.request(1) // the first demand starts upstream
    await time.settle()
    const inner = probes[0]!
    await inner.expectRequest()
    inner.sendNext(1)
    await out.expectNext(1)
    await inner.expectRequest() // read ahead: asked again at once
    inner.sendNext(2)
    await out.expectNoMessage()
    expect(inner.pending).toBe(0) // no further read-ahead
    out.request(1)
    await out.expectNext(2)
    inner.sendComplete()
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with an inner source’s failure and cancels upstream with it', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<number>()
    const [upstream, out] = TestSource.probe<number>()
      .flatMapConcat(() => source())
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await time.settle()
    const boom = new Error('inner failed')
    probes[0]!.sendError(boom)
    expect(await out.expectError()).toBe(boom)
    expect(await upstream.expectCancellation()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with upstream’s failure and cancels the running inner source with it', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<number>()
    const [upstream, out] = TestSource.probe<number>()
      .flatMapConcat(() => source())
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await time.settle()
    const boom = new Error('upstream failed')
    upstream.sendError(boom)
    expect(await out.expectError()).toBe(boom)
    expect(await probes[0]!.expectCancellation()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream and the running inner source with downstream’s cause', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<number>()
    const [upstream, out] = TestSource.probe<number>()
      .flatMapConcat(() => source())
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await time.settle()
    const cause = new NonFailureCancellation('client-went-away')
    out.cancel(cause)
    expect(await upstream.expectCancellation()).toBe(cause)
    expect(await probes[0]!.expectCancellation()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels the inner source when downstream takes what it needs', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<number>()
    const out = Source.single(0)
      .flatMapConcat(() => source())
      .take(1)
      .runWith(Sink.seq(), time.materializer)
    await time.settle()
    probes[0]!.sendNext(7)
    expect(await out).toEqual([7])
    expect(await probes[0]!.expectCancellation()).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })

  it('supervises the function: resume drops the element, stop fails the stream', async () => {
    const time = timeWith()
    const boom = new Error('bad element')
    const f = (x: number): Source<number> => {
      if (x === 2) throw boom
      return Source.single(x)
    }
    const resumed = await Source.from([1, 2, 3]).flatMapConcat(f).withSupervision(Supervision.resumingDecider).runWith(Sink.seq(), time.materializer)
    expect(resumed).toEqual([1, 3])
    await expect(Source.from([1, 2, 3]).flatMapConcat(f).runWith(Sink.seq(), time.materializer)).rejects.toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })
})

describe.each([true, false])('flatMapMerge (operatorFusion: %s)', (operatorFusion) => {
  const timeWith = (): VirtualTime => new VirtualTime({ operatorFusion })

  it('emits every element of every inner source', async () => {
    const time = timeWith()
    const out = await Source.range(1, 20)
      .flatMapMerge(3, (x) => Source.from([x, -x]))
      .runWith(Sink.seq(), time.materializer)
    expect(out.slice().sort((a, b) => a - b)).toEqual([...Array.from({ length: 20 }, (_, i) => -20 + i), ...Array.from({ length: 20 }, (_, i) => i + 1)])
    // each inner source's own order is kept
    for (let x = 1; x <= 20; x++) expect(out.indexOf(x)).toBeLessThan(out.indexOf(-x))
    await assertAllStagesStopped(time.materializer)
  })

  it('runs at most `breadth` inner sources at once, and emits their elements as they come', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<string>()
    const [upstream, out] = TestSource.probe<number>()
      .flatMapMerge(2, () => source())
      .toMat(TestSink.probe<string>(), Keep.both)
      .run(time.materializer)
    out.request(10)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2).sendNext(3)
    await time.settle()
    expect(probes.length).toBe(2) // the third element waits in upstream
    probes[1]!.sendNext('b1')
    await out.expectNext('b1')
    probes[0]!.sendNext('a1')
    await out.expectNext('a1')
    probes[0]!.sendComplete()
    await time.settle()
    expect(probes.length).toBe(3) // room for one more
    probes[2]!.sendNext('c1')
    await out.expectNext('c1')
    upstream.sendComplete()
    probes[1]!.sendComplete()
    await out.expectNoMessage()
    probes[2]!.sendComplete()
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('does not pull upstream before the first demand', async () => {
    const time = timeWith()
    const [upstream, out] = TestSource.probe<number>()
      .flatMapMerge(4, (x) => Source.single(x))
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    await time.settle()
    expect(upstream.pending).toBe(0)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(5)
    await out.expectNext(5)
    out.cancel()
    expect(await upstream.expectCancellation()).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels every running inner source and upstream with downstream’s cause', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<number>()
    const [upstream, out] = TestSource.probe<number>()
      .flatMapMerge(3, () => source())
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    await time.settle()
    expect(probes.length).toBe(2)
    const cause = new Error('downstream failed')
    out.cancel(cause)
    expect(await upstream.expectCancellation()).toBe(cause)
    expect(await probes[0]!.expectCancellation()).toBe(cause)
    expect(await probes[1]!.expectCancellation()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails when one inner source fails, cancelling the others and upstream with the error', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<number>()
    const [upstream, out] = TestSource.probe<number>()
      .flatMapMerge(3, () => source())
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    await time.settle()
    const boom = new Error('inner failed')
    probes[0]!.sendError(boom)
    expect(await out.expectError()).toBe(boom)
    expect(await probes[1]!.expectCancellation()).toBe(boom)
    expect(await upstream.expectCancellation()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('rejects a breadth that is not a positive integer', () => {
    for (const breadth of [0, -1, 1.5, Number.NaN]) {
      expect(() => Source.single(1).flatMapMerge(breadth, (x) => Source.single(x))).toThrow(InvalidArgumentError)
    }
    expect(() => Source.single(1).flatMapMerge(Infinity, (x) => Source.single(x))).not.toThrow()
  })
})

describe.each([true, false])('switchMap (operatorFusion: %s)', (operatorFusion) => {
  const timeWith = (): VirtualTime => new VirtualTime({ operatorFusion })

  it('emits the current inner source’s elements and switches on each new element, cancelling the previous one', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<string>()
    const [upstream, out] = TestSource.probe<number>()
      .switchMap(() => source())
      .toMat(TestSink.probe<string>(), Keep.both)
      .run(time.materializer)
    out.request(10)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await time.settle()
    probes[0]!.sendNext('a1').sendNext('a2')
    expect(await out.expectNextN(2)).toEqual(['a1', 'a2'])
    upstream.sendNext(2)
    const cause = await probes[0]!.expectCancellation()
    expect(cause).toBe(SourceSwitched)
    expect(isNonFailureCancellation(cause)).toBe(true)
    await time.settle()
    probes[1]!.sendNext('b1')
    await out.expectNext('b1')
    upstream.sendComplete()
    await out.expectNoMessage() // the current inner source still runs
    probes[1]!.sendComplete()
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('never backpressures upstream, and drops an element of the old inner source that waited for demand', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<string>()
    const [upstream, out] = TestSource.probe<number>()
      .switchMap(() => source())
      .toMat(TestSink.probe<string>(), Keep.both)
      .run(time.materializer)
    await upstream.expectRequest() // without any downstream demand
    upstream.sendNext(1)
    await upstream.expectRequest()
    await time.settle()
    probes[0]!.sendNext('stale')
    await out.expectNoMessage() // no demand: it waits
    upstream.sendNext(2)
    expect(await probes[0]!.expectCancellation()).toBe(SourceSwitched)
    await time.settle()
    probes[1]!.sendNext('fresh')
    out.request(1)
    await out.expectNext('fresh')
    out.cancel()
    expect(await upstream.expectCancellation()).toBe(NoMoreElementsNeeded)
    expect(await probes[1]!.expectCancellation()).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })

  it('completes when upstream completes with no inner source running', async () => {
    const time = timeWith()
    const out = await Source.from([1, 2, 3])
      .switchMap((x) => Source.single(x))
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([3]) // the earlier inner sources were switched away before emitting
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with the current inner source’s failure, cancelling upstream with it', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<number>()
    const [upstream, out] = TestSource.probe<number>()
      .switchMap(() => source())
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await time.settle()
    const boom = new Error('inner failed')
    probes[0]!.sendError(boom)
    expect(await out.expectError()).toBe(boom)
    expect(await upstream.expectCancellation()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with upstream’s failure, cancelling the current inner source with it', async () => {
    const time = timeWith()
    const { probes, source } = innerProbes<number>()
    const [upstream, out] = TestSource.probe<number>()
      .switchMap(() => source())
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await time.settle()
    const boom = new Error('upstream failed')
    upstream.sendError(boom)
    expect(await out.expectError()).toBe(boom)
    expect(await probes[0]!.expectCancellation()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })
})

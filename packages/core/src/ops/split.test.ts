import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe } from '@weir/testkit'
import { Keep, NoMoreElementsNeeded, NonFailureCancellation, Sink, Source, Supervision } from '../index.js'

/** A sink of test probes, recorded in the order the sub-streams materialize them. */
function sinkProbes<T>(): { readonly probes: SinkProbe<T>[]; readonly sink: Sink<T, SinkProbe<T>> } {
  const probes: SinkProbe<T>[] = []
  const sink = TestSink.probe<T>().mapMaterializedValue((p) => {
    probes.push(p)
    return p
  })
  return { probes, sink }
}

const collect = <T>(acc: T[], x: T): T[] => [...acc, x]

describe.each([true, false])('splitWhen / splitAfter (operatorFusion: %s)', (operatorFusion) => {
  const timeWith = (): VirtualTime => new VirtualTime({ operatorFusion })

  it('splitWhen starts a new sub-stream with each element that satisfies the predicate', async () => {
    const time = timeWith()
    const out = await Source.from([1, 2, 0, 3, 0, 0])
      .splitWhen((x) => x === 0)
      .fold([] as number[], collect)
      .concatSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([[1, 2], [0, 3], [0], [0]])
    await assertAllStagesStopped(time.materializer)
  })

  it('splitWhen never emits an empty first sub-stream', async () => {
    const time = timeWith()
    const out = await Source.from([0, 1, 0])
      .splitWhen((x) => x === 0)
      .fold([] as number[], collect)
      .concatSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([[0, 1], [0]])
    await assertAllStagesStopped(time.materializer)
  })

  it('splitAfter ends the current sub-stream with each element that satisfies the predicate', async () => {
    const time = timeWith()
    const out = await Source.from([0, 1, 2, 0, 3, 0, 0, 4])
      .splitAfter((x) => x === 0)
      .fold([] as number[], collect)
      .concatSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([[0], [1, 2, 0], [3, 0], [0], [4]])
    await assertAllStagesStopped(time.materializer)
  })

  it('emits no sub-stream for an empty stream', async () => {
    const time = timeWith()
    expect(await Source.empty<number>().splitWhen(() => true).concatSubstreams().runWith(Sink.seq(), time.materializer)).toEqual([])
    expect(await Source.empty<number>().splitAfter(() => true).concatSubstreams().runWith(Sink.seq(), time.materializer)).toEqual([])
    await assertAllStagesStopped(time.materializer)
  })

  it('pulls upstream for the current sub-stream’s demand only', async () => {
    const time = timeWith()
    const { probes, sink } = sinkProbes<number>()
    const upstream = TestSource.probe<number>()
      .splitWhen((x) => x === 0)
      .to(sink)
      .run(time.materializer)
    await upstream.expectRequest() // the demand for a first sub-stream
    upstream.sendNext(1)
    await time.settle()
    expect(probes.length).toBe(1)
    expect(upstream.pending).toBe(0) // the sub-stream has not asked yet
    probes[0]!.request(1)
    await probes[0]!.expectNext(1)
    await time.settle()
    expect(upstream.pending).toBe(0)
    probes[0]!.request(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    await probes[0]!.expectNext(2)
    probes[0]!.request(1)
    await upstream.expectRequest()
    upstream.sendNext(0) // completes the first sub-stream, opens the second
    await probes[0]!.expectComplete()
    await time.settle()
    expect(probes.length).toBe(2)
    probes[1]!.request(5)
    await probes[1]!.expectNext(0)
    await upstream.expectRequest()
    upstream.sendComplete()
    await probes[1]!.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('drains a sub-stream cancelled without failure up to the next split', async () => {
    const time = timeWith()
    const firsts = await Source.from([1, 2, 3, 0, 4, 5, 0, 6])
      .splitWhen((x) => x === 0)
      .take(1)
      .concatSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(firsts).toEqual([1, 0, 0])
    const heads = await Source.from([1, 2, 0, 3, 0])
      .splitAfter((x) => x === 0)
      .take(1)
      .concatSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(heads).toEqual([1, 3])
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream with a sub-stream’s failure cause and fails', async () => {
    const time = timeWith()
    const boom = new Error('sub-stream failed')
    const [upstream, out] = TestSource.probe<number>()
      .splitWhen((x) => x === 0)
      .map((x) => {
        if (x === 2) throw boom
        return x
      })
      .concatSubstreams()
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(5)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await out.expectNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    expect(await out.expectError()).toBe(boom)
    expect(await upstream.expectCancellation()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails the current sub-stream with upstream’s failure', async () => {
    const time = timeWith()
    const { probes, sink } = sinkProbes<number>()
    const upstream = TestSource.probe<number>()
      .splitAfter((x) => x === 0)
      .to(sink)
      .run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await time.settle()
    probes[0]!.request(5)
    await probes[0]!.expectNext(1)
    await upstream.expectRequest()
    const boom = new Error('upstream failed')
    upstream.sendError(boom)
    expect(await probes[0]!.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream with downstream’s cause', async () => {
    for (const cause of [new NonFailureCancellation('done'), new Error('downstream failed')]) {
      const time = timeWith()
      const [upstream, out] = TestSource.probe<number>()
        .splitWhen((x) => x === 0)
        .concatSubstreams()
        .toMat(TestSink.probe<number>(), Keep.both)
        .run(time.materializer)
      out.request(1)
      await upstream.expectRequest()
      upstream.sendNext(1)
      await out.expectNext(1)
      out.cancel(cause)
      expect(await upstream.expectCancellation()).toBe(cause)
      await assertAllStagesStopped(time.materializer)
    }
  })

  it('stops at the next split once the merge took what it needed', async () => {
    const time = timeWith()
    const [upstream, out] = TestSource.probe<number>()
      .splitWhen((x) => x === 0)
      .concatSubstreams()
      .take(2)
      .toMat(Sink.seq(), Keep.both)
      .run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    expect(await out).toEqual([1, 2])
    expect(await upstream.expectCancellation()).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })

  it('supervises the predicate: resume drops the element, stop fails', async () => {
    const time = timeWith()
    const boom = new Error('bad element')
    const p = (x: number): boolean => {
      if (x < 0) throw boom
      return x === 0
    }
    const resumed = await Source.from([1, -1, 0, 2])
      .splitWhen(p)
      .fold([] as number[], collect)
      .concatSubstreams()
      .withSupervision(Supervision.resumingDecider)
      .runWith(Sink.seq(), time.materializer)
    expect(resumed).toEqual([[1], [0, 2]])
    await expect(Source.from([1, -1]).splitWhen(p).concatSubstreams().runWith(Sink.seq(), time.materializer)).rejects.toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })
})

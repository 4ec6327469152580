import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe } from '@weir/testkit'
import { InvalidArgumentError, Keep, NonFailureCancellation, Sink, Source, Supervision, TooManySubstreamsError } from '../index.js'

/** A sink of test probes, recorded in the order the sub-streams materialize them. */
function sinkProbes<T>(): { readonly probes: SinkProbe<T>[]; readonly sink: Sink<T, SinkProbe<T>> } {
  const probes: SinkProbe<T>[] = []
  const sink = TestSink.probe<T>().mapMaterializedValue((p) => {
    probes.push(p)
    return p
  })
  return { probes, sink }
}

const sorted = (xs: readonly number[]): number[] => xs.slice().sort((a, b) => a - b)

describe.each([true, false])('groupBy (operatorFusion: %s)', (operatorFusion) => {
  const timeWith = (): VirtualTime => new VirtualTime({ operatorFusion })

  it('routes each element to the sub-stream of its key, keeping each key’s order', async () => {
    const time = timeWith()
    const words = ['apple', 'bean', 'avocado', 'beet', 'cherry', 'apricot']
    const groups = await Source.from(words)
      .groupBy(3, (w) => w[0]!)
      .fold([] as string[], (acc, w) => [...acc, w])
      .mergeSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(groups.slice().sort((a, b) => a[0]!.localeCompare(b[0]!))).toEqual([['apple', 'avocado', 'apricot'], ['bean', 'beet'], ['cherry']])
    await assertAllStagesStopped(time.materializer)
  })

  it('gives each sub-stream its own backpressure: an element waits for its sub-stream’s demand and holds upstream', async () => {
    const time = timeWith()
    const { probes, sink } = sinkProbes<number>()
    const upstream = TestSource.probe<number>()
      .groupBy(2, (x) => x % 2)
      .to(sink)
      .run(time.materializer)
    await upstream.expectRequest() // the demand for sub-streams pulls upstream
    upstream.sendNext(1) // opens the odd sub-stream
    await upstream.expectRequest()
    upstream.sendNext(3) // for the odd sub-stream, which has not asked yet
    await time.settle()
    expect(probes.length).toBe(1)
    expect(upstream.pending).toBe(0) // held

    probes[0]!.request(2)
    expect(await probes[0]!.expectNextN(2)).toEqual([1, 3])
    await upstream.expectRequest()
    upstream.sendNext(2) // opens the even sub-stream
    await upstream.expectRequest()
    upstream.sendNext(4)
    await time.settle()
    expect(probes.length).toBe(2)
    expect(upstream.pending).toBe(0) // 4 waits for the even sub-stream
    await probes[0]!.expectNoMessage()
    await probes[1]!.expectNoMessage()

    probes[1]!.request(5)
    expect(await probes[1]!.expectNextN(2)).toEqual([2, 4])
    await upstream.expectRequest()
    upstream.sendComplete()
    await probes[0]!.expectComplete()
    await probes[1]!.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with TooManySubstreamsError when a key would open more than maxSubstreams sub-streams', async () => {
    const time = timeWith()
    const [upstream, out] = TestSource.probe<number>()
      .groupBy(2, (x) => x)
      .mergeSubstreams()
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(10)
    for (const x of [1, 2, 1]) {
      await upstream.expectRequest()
      upstream.sendNext(x)
    }
    expect(sorted(await out.expectNextN(3))).toEqual([1, 1, 2])
    await upstream.expectRequest()
    upstream.sendNext(3)
    const e = await out.expectError()
    expect(e).toBeInstanceOf(TooManySubstreamsError)
    expect(e).toMatchObject({ code: 'WEIR_CORE_TOO_MANY_SUBSTREAMS', limit: 2 })
    expect(await upstream.expectCancellation()).toBe(e)
    await assertAllStagesStopped(time.materializer)
  })

  it('counts only open sub-streams against maxSubstreams', async () => {
    const time = timeWith()
    const [upstream, out] = TestSource.probe<number>()
      .groupBy(1, (x) => x)
      .take(1)
      .mergeSubstreams()
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(10)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await out.expectNext(1)
    await time.settle() // the first sub-stream closed (take)
    await upstream.expectRequest()
    upstream.sendNext(2)
    await out.expectNext(2)
    upstream.sendComplete()
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('drops later elements of a key whose sub-stream was cancelled (the default)', async () => {
    const time = timeWith()
    const out = await Source.from([1, 1, 2, 1, 3, 2])
      .groupBy(10, (x) => x)
      .take(1)
      .mergeSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(sorted(out)).toEqual([1, 2, 3])
    await assertAllStagesStopped(time.materializer)
  })

  it('opens a new sub-stream for such a key with allowClosedSubstreamRecreation', async () => {
    const time = timeWith()
    const out = await Source.from([1, 1, 2, 1, 3, 2])
      .groupBy(10, (x) => x, { allowClosedSubstreamRecreation: true })
      .take(1)
      .mergeSubstreams()
      .runWith(Sink.seq(), time.materializer)
    expect(sorted(out)).toEqual([1, 1, 1, 2, 2, 3])
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream with downstream’s cause, a failure or not', async () => {
    for (const cause of [new NonFailureCancellation('client-went-away'), new Error('downstream failed')]) {
      const time = timeWith()
      const [upstream, out] = TestSource.probe<number>()
        .groupBy(4, (x) => x % 2)
        .mergeSubstreams()
        .toMat(TestSink.probe<number>(), Keep.both)
        .run(time.materializer)
      out.request(2)
      await upstream.expectRequest()
      upstream.sendNext(1)
      await upstream.expectRequest()
      upstream.sendNext(2)
      expect(sorted(await out.expectNextN(2))).toEqual([1, 2])
      out.cancel(cause)
      expect(await upstream.expectCancellation()).toBe(cause)
      await assertAllStagesStopped(time.materializer)
    }
  })

  it('fails every sub-stream with upstream’s failure', async () => {
    const time = timeWith()
    const { probes, sink } = sinkProbes<number>()
    const upstream = TestSource.probe<number>()
      .groupBy(2, (x) => x % 2)
      .to(sink)
      .run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    await time.settle()
    expect(probes.length).toBe(2)
    const boom = new Error('upstream failed')
    upstream.sendError(boom) // at once: the first elements, still waiting for demand, are dropped
    expect(await probes[0]!.expectError()).toBe(boom)
    expect(await probes[1]!.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails the stream when a sub-stream fails, cancelling upstream with the error', async () => {
    const time = timeWith()
    const boom = new Error('bad element')
    const [upstream, out] = TestSource.probe<number>()
      .groupBy(2, (x) => x % 2)
      .map((x) => {
        if (x === 3) throw boom
        return x
      })
      .mergeSubstreams()
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(5)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await out.expectNext(1)
    await upstream.expectRequest()
    upstream.sendNext(3)
    expect(await out.expectError()).toBe(boom)
    expect(await upstream.expectCancellation()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails the other sub-streams and cancels upstream when a sub-stream is cancelled with a failure', async () => {
    const time = timeWith()
    const { probes, sink } = sinkProbes<number>()
    const upstream = TestSource.probe<number>()
      .groupBy(2, (x) => x % 2)
      .to(sink)
      .run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    await time.settle()
    const cause = new Error('consumer crashed')
    probes[0]!.cancel(cause)
    expect(await upstream.expectCancellation()).toBe(cause)
    expect(await probes[1]!.expectError()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('supervises the key function and the limit: resume drops the element, stop fails', async () => {
    const time = timeWith()
    const boom = new Error('no key')
    const key = (x: number): number => {
      if (x === 0) throw boom
      return x % 2
    }
    const resumed = await Source.from([1, 0, 2, 3])
      .groupBy(2, key)
      .fold(0, (a, x) => a + x)
      .mergeSubstreams()
      .withSupervision(Supervision.resumingDecider)
      .runWith(Sink.seq(), time.materializer)
    expect(sorted(resumed)).toEqual([2, 4])
    await expect(Source.from([1, 0]).groupBy(2, key).mergeSubstreams().runWith(Sink.ignore(), time.materializer)).rejects.toBe(boom)

    const limited = await Source.from([1, 2, 3, 1])
      .groupBy(2, (x) => x)
      .fold(0, (a, x) => a + x)
      .mergeSubstreams()
      .withSupervision(Supervision.resumingDecider)
      .runWith(Sink.seq(), time.materializer)
    expect(sorted(limited)).toEqual([2, 2]) // 3 found no room and was dropped
    await assertAllStagesStopped(time.materializer)
  })

  it('rejects a maxSubstreams that is not a positive integer', () => {
    for (const n of [0, -1, 2.5, Number.NaN]) expect(() => Source.single(1).groupBy(n, (x) => x)).toThrow(InvalidArgumentError)
  })
})

import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import { AbruptTerminationError, Keep, NoMoreElementsNeeded, Sink, Source } from '../index.js'

describe('Source.lazySource', () => {
  it('creates the inner source on the first demand, not before', async () => {
    const time = new VirtualTime()
    let created = 0
    const [mat, out] = Source.lazySource(() => {
      created++
      return Source.from([1, 2]).mapMaterializedValue(() => 'inner')
    })
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    await out.expectNoMessage()
    expect(created).toBe(0)

    out.request(1)
    await out.expectNext(1)
    expect(created).toBe(1)
    expect(await mat).toBe('inner')
    out.request(1)
    await out.expectNext(2)
    await out.expectComplete()
    expect(created).toBe(1)
    await assertAllStagesStopped(time.materializer)
  })

  it('reads the inner source only on demand', async () => {
    const time = new VirtualTime()
    const [innerP, out] = Source.lazySource(() => TestSource.probe<string>())
      .toMat(TestSink.probe<string>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    const inner: SourceProbe<string> = await innerP
    await inner.expectRequest()
    inner.sendNext('a')
    await out.expectNext('a')
    await time.settle()
    expect(inner.pending).toBe(0)
    inner.sendComplete()
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels the inner source with downstream’s cause', async () => {
    const time = new VirtualTime()
    const [innerP, out] = Source.lazySource(() => TestSource.probe<number>())
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    const inner = await innerP
    await inner.expectRequest()
    const cause = new Error('gone')
    out.cancel(cause)
    expect(await inner.expectCancellation()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with the inner source’s failure', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    const out = Source.lazySource(() => Source.failed<number>(boom)).runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails the stream and rejects the materialized value when create throws', async () => {
    const time = new VirtualTime()
    const boom = new Error('cannot create')
    const [mat, done] = Source.lazySource<number, unknown>(() => {
      throw boom
    })
      .toMat(Sink.seq(), Keep.both)
      .run(time.materializer)
    await expect(done).rejects.toBe(boom)
    await expect(mat).rejects.toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('never creates the inner source when cancelled before any demand; the materialized value rejects', async () => {
    const time = new VirtualTime()
    let created = false
    const [mat, out] = Source.lazySource(() => {
      created = true
      return Source.single(1)
    })
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.cancel()
    await expect(mat).rejects.toBeInstanceOf(AbruptTerminationError)
    expect(created).toBe(false)
    await assertAllStagesStopped(time.materializer)
  })

  it('passes a non-failure cancellation (take) to the inner source', async () => {
    const time = new VirtualTime()
    const [innerP, done] = Source.lazySource(() => TestSource.probe<number>())
      .take(1)
      .toMat(Sink.seq(), Keep.both)
      .run(time.materializer)
    const inner = await innerP
    await inner.expectRequest()
    inner.sendNext(9)
    expect(await done).toEqual([9])
    expect(await inner.expectCancellation()).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })

  it('is also available as Source.lazy', async () => {
    const time = new VirtualTime()
    expect(await Source.lazy(() => Source.from([1, 2, 3])).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3])
    await assertAllStagesStopped(time.materializer)
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, Keep, NonFailureCancellation, Sink, Source } from '../index.js'

let time: VirtualTime
beforeEach(() => {
  time = new VirtualTime()
})
afterEach(async () => {
  await assertAllStagesStopped(time.materializer)
})

function probes(flow: Flow<number, number>) {
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, sink }
}

const boom = new Error('boom')

describe('recover', () => {
  it('passes elements through and completes with upstream', async () => {
    expect(await Source.range(1, 3).recover(() => 0).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3])
  })

  it('emits the recovery element after the elements and completes, on upstream failure', async () => {
    const { src, sink } = probes(Flow.create<number>().recover((e) => (e === boom ? -1 : undefined)))
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    src.sendError(boom)
    await sink.expectNoMessage() // the recovery element waits for demand
    sink.request(1)
    await sink.expectNext(-1)
    await sink.expectComplete()
  })

  it('fails with the original error when the function returns undefined', async () => {
    const other = new Error('other')
    const out = Source.failed<number>(other)
      .recover((e) => (e === boom ? -1 : undefined))
      .runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(other)
  })

  it('fails with what the function throws', async () => {
    const thrown = new Error('thrown')
    const out = Source.failed<number>(boom)
      .recover(() => {
        throw thrown
      })
      .runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(thrown)
  })

  it('pulls only on demand', async () => {
    const { src, sink } = probes(Flow.create<number>().recover(() => 0))
    await time.settle()
    expect(src.pending).toBe(0)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1).sendComplete()
    await sink.expectNext(1)
    await sink.expectComplete()
  })

  it('cancels upstream with the cause of the downstream cancellation', async () => {
    const { src, sink } = probes(Flow.create<number>().recover(() => 0))
    const cause = new NonFailureCancellation('client-gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
  })
})

describe('mapError', () => {
  class Wrapped extends Error {}

  it('replaces an upstream failure by the mapped error, after the elements', async () => {
    const { src, sink } = probes(Flow.create<number>().mapError((e) => new Wrapped('wrapped', { cause: e })))
    sink.request(2)
    src.sendNext(1).sendError(boom)
    await sink.expectNext(1)
    const err = await sink.expectError()
    expect(err).toBeInstanceOf(Wrapped)
    expect((err as Wrapped).cause).toBe(boom)
  })

  it('fails with what the function throws', async () => {
    const thrown = new Error('thrown')
    const out = Source.failed<number>(boom)
      .mapError(() => {
        throw thrown
      })
      .runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(thrown)
  })

  it('leaves elements and completion untouched', async () => {
    let called = false
    const out = await Source.range(1, 3)
      .mapError((e) => {
        called = true
        return e
      })
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([1, 2, 3])
    expect(called).toBe(false)
  })

  it('pulls only on demand and cancels upstream with the downstream cause', async () => {
    const { src, sink } = probes(Flow.create<number>().mapError((e) => e))
    await time.settle()
    expect(src.pending).toBe(0)
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    const cause = new Error('downstream failed')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
  })
})

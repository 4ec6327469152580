import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import { InvalidArgumentError, Keep, Sink, Source } from '../index.js'

/** A recovery source that hands its probe to the test when materialized. */
function probed<T>(onProbe: (p: SourceProbe<T>) => void): Source<T, SourceProbe<T>> {
  return TestSource.probe<T>().mapMaterializedValue((p) => {
    onProbe(p)
    return p
  })
}

describe('recoverWith', () => {
  it('passes elements and completion through when upstream does not fail', async () => {
    const time = new VirtualTime()
    let called = false
    const out = await Source.from([1, 2, 3])
      .recoverWith(() => {
        called = true
        return Source.single(0)
      })
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([1, 2, 3])
    expect(called).toBe(false)
    await assertAllStagesStopped(time.materializer)
  })

  it('continues with the source chosen for the error after upstream fails', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    const seen: unknown[] = []
    const [upstream, out] = TestSource.probe<number>()
      .recoverWith((e) => {
        seen.push(e)
        return Source.from([3, 4])
      })
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(2)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    expect(await out.expectNextN(2)).toEqual([1, 2])
    upstream.sendError(boom)
    await out.expectNoMessage() // no demand: nothing is emitted yet
    out.request(3)
    expect(await out.expectNextN(2)).toEqual([3, 4])
    await out.expectComplete()
    expect(seen).toEqual([boom])
    await assertAllStagesStopped(time.materializer)
  })

  it('reads the recovery source only on downstream demand', async () => {
    const time = new VirtualTime()
    let recovery: SourceProbe<number> | undefined
    const out = Source.failed<number>(new Error('x'))
      .recoverWith(() => probed<number>((p) => (recovery = p)))
      .runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    expect(recovery).toBeDefined()
    expect(recovery!.pending).toBe(0)

    out.request(1)
    await recovery!.expectRequest()
    recovery!.sendNext(7)
    await out.expectNext(7)
    await time.settle()
    expect(recovery!.pending).toBe(0)

    recovery!.sendComplete()
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels the recovery source with downstream’s cause', async () => {
    const time = new VirtualTime()
    let recovery: SourceProbe<number> | undefined
    const out = Source.failed<number>(new Error('x'))
      .recoverWith(() => probed<number>((p) => (recovery = p)))
      .runWith(TestSink.probe<number>(), time.materializer)
    out.request(1)
    await time.settle()
    await recovery!.expectRequest()
    const cause = new Error('client went away')
    out.cancel(cause)
    expect(await recovery!.expectCancellation()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with the original error when the function returns undefined', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    const out = Source.failed<number>(boom).recoverWith(() => undefined).runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with what the function throws', async () => {
    const time = new VirtualTime()
    const thrown = new Error('recovery failed')
    const out = Source.failed<number>(new Error('boom'))
      .recoverWith(() => {
        throw thrown
      })
      .runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(thrown)
    await assertAllStagesStopped(time.materializer)
  })

  it('recovers a failing recovery source again, at most `attempts` times', async () => {
    const time = new VirtualTime()
    const errors = [new Error('e0'), new Error('e1'), new Error('e2')]
    const seen: unknown[] = []
    const out = Source.failed<number>(errors[0])
      .recoverWith((e) => {
        seen.push(e)
        const n = seen.length
        return Source.from([n, -1]).map((x) => {
          if (x < 0) throw errors[n]
          return x
        })
      }, 2)
      .runWith(TestSink.probe<number>(), time.materializer)
    out.request(10)
    expect(await out.expectNextN(2)).toEqual([1, 2])
    expect(await out.expectError()).toBe(errors[2])
    expect(seen).toEqual([errors[0], errors[1]])
    await assertAllStagesStopped(time.materializer)
  })

  it('never recovers with attempts = 0', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    let called = false
    const out = Source.failed<number>(boom)
      .recoverWith(() => {
        called = true
        return Source.single(1)
      }, 0)
      .runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    expect(called).toBe(false)
    await assertAllStagesStopped(time.materializer)
  })

  it('recovers any number of times by default', async () => {
    const time = new VirtualTime()
    let n = 0
    const out = await Source.failed<number>(new Error('first'))
      .recoverWith(() => (++n < 20 ? Source.failed(new Error(`again ${n}`)) : Source.single(n)))
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([20])
    await assertAllStagesStopped(time.materializer)
  })

  it('rejects a negative or fractional attempts count', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => Source.single(1).recoverWith(() => undefined, bad)).toThrow(InvalidArgumentError)
    }
    let error: unknown
    try {
      Source.single(1).recoverWith(() => undefined, -1)
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'attempts', value: -1 })
  })
})

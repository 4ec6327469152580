import { describe, expect, it } from 'vitest'
import { AbruptTerminationError, Keep, Materializer, NoMoreElementsNeeded, Sink } from '@weir/core'
import { ProbeAssertionError } from './expectations.js'
import { assertAllStagesStopped } from './leaks.js'
import { TestSink } from './TestSink.js'
import { TestSource } from './TestSource.js'
import { VirtualTime } from './VirtualTime.js'

async function rejection(p: Promise<unknown>): Promise<ProbeAssertionError> {
  const e = await p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${String(v)}`)
    },
    (e: unknown) => e,
  )
  expect(e).toBeInstanceOf(ProbeAssertionError)
  return e as ProbeAssertionError
}

function probes<T>(time: VirtualTime) {
  return TestSource.probe<T>().toMat(TestSink.probe<T>(), Keep.both).run(time.materializer)
}

describe('TestSource.probe', () => {
  it('pushes sent elements only on demand, in order', async () => {
    const time = new VirtualTime()
    const [src, sink] = probes<number>(time)
    src.sendNext(1).sendNext(2).sendNext(3)
    await sink.expectNoMessage()
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([1, 2])
    await sink.expectNoMessage()
    sink.request(1)
    expect(await sink.expectNext()).toBe(3)
    sink.cancel()
    await assertAllStagesStopped(time.materializer)
  })

  it('counts pulls for expectRequest, whether or not a queued element satisfied them', async () => {
    const time = new VirtualTime()
    const [src, sink] = probes<number>(time)
    src.sendNext(1)
    sink.request(2)
    await src.expectRequest() // satisfied at once by the queued 1
    await src.expectRequest() // still open
    expect(src.pending).toBe(1)
    await sink.expectNext(1)
    const third = src.expectRequest()
    src.sendNext(2)
    await sink.expectNext(2)
    await sink.expectNoMessage()
    expect(src.pending).toBe(0)
    sink.request(1)
    await third
    expect(src.pending).toBe(1)
    sink.cancel()
  })

  it('expectRequest waits for a pull that has not happened yet', async () => {
    const time = new VirtualTime()
    const [src, sink] = probes<string>(time)
    const requested = src.expectRequest()
    let done = false
    void requested.then(() => (done = true))
    await sink.expectNoMessage()
    expect(done).toBe(false)
    expect(src.pending).toBe(0)
    sink.request(1)
    await requested
    expect(src.pending).toBe(1)
    src.sendNext('x')
    await sink.expectNext('x')
    expect(src.pending).toBe(0)
    sink.cancel()
  })

  it('completes after the queued elements were delivered', async () => {
    const time = new VirtualTime()
    const [src, sink] = probes<number>(time)
    src.sendNext(1).sendNext(2).sendComplete()
    sink.request(1)
    await sink.expectNext(1)
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext(2)
    await sink.expectComplete()
    expect(src.end).toEqual({ kind: 'completed' })
    await assertAllStagesStopped(time.materializer)
  })

  it('completes without demand when nothing is queued', async () => {
    const time = new VirtualTime()
    const [src, sink] = probes<number>(time)
    src.sendComplete()
    await sink.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('fails at once, without demand and ahead of queued elements', async () => {
    const time = new VirtualTime()
    const [src, sink] = probes<number>(time)
    const boom = new Error('boom')
    src.sendNext(1).sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(src.end).toEqual({ kind: 'failed', error: boom })
    await assertAllStagesStopped(time.materializer)
  })

  it('rejects sending after sendComplete or sendError as misuse', () => {
    const time = new VirtualTime()
    const [src] = probes<number>(time)
    src.sendComplete()
    expect(() => src.sendNext(1)).toThrow(ProbeAssertionError)
    try {
      src.sendError(new Error('late'))
    } catch (e) {
      expect((e as ProbeAssertionError).reason).toBe('misuse')
    }
    expect.assertions(2)
  })

  it('resolves expectCancellation with NoMoreElementsNeeded when take is satisfied', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<number>().take(2).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    sink.request(5)
    src.sendNext(1).sendNext(2)
    expect(await sink.expectNextN(2)).toEqual([1, 2])
    await sink.expectComplete()
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    expect(src.end).toEqual({ kind: 'cancelled', cause: NoMoreElementsNeeded })
    await assertAllStagesStopped(time.materializer)
  })

  it('resolves a waiting expectCancellation with the cause sent by downstream', async () => {
    const time = new VirtualTime()
    const [src, sink] = probes<number>(time)
    const cancelled = src.expectCancellation()
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await cancelled).toBe(cause)
  })

  it('rejects expectCancellation and expectRequest once the stage completed', async () => {
    const time = new VirtualTime()
    const [src, sink] = probes<number>(time)
    const cancellation = src.expectCancellation()
    src.sendComplete()
    await sink.expectComplete()
    expect((await rejection(cancellation)).reason).toBe('terminated')
    expect((await rejection(src.expectRequest())).reason).toBe('terminated')
  })

  it('rejects a waiting expectRequest once downstream cancelled', async () => {
    const time = new VirtualTime()
    const [src, sink] = probes<number>(time)
    const requested = src.expectRequest()
    sink.cancel()
    expect((await rejection(requested)).reason).toBe('terminated')
  })

  it('sees the demand of intermediate operators: filter pulls again for each dropped element', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<number>()
      .filter((x) => x % 2 === 0)
      .map((x) => x * 10)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1)
    await src.expectRequest()
    src.sendNext(3)
    await src.expectRequest()
    src.sendNext(4)
    expect(await sink.expectNext()).toBe(40)
    await sink.expectNoMessage()
    expect(src.pending).toBe(0)
    sink.cancel()
    await src.expectCancellation()
  })

  it('is pulled ahead by an async boundary while the sink holds back', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<number>().async().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    src.sendNext(1).sendNext(2).sendNext(3)
    await sink.expectNoMessage()
    expect(src.pending).toBe(1) // the boundary's buffer took all three and wants more
    sink.request(3)
    expect(await sink.expectNextN(3)).toEqual([1, 2, 3])
    src.sendComplete()
    await sink.request(1).expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('feeds a promise sink', async () => {
    const time = new VirtualTime()
    const [src, done] = TestSource.probe<string>().toMat(Sink.seq<string>(), Keep.both).run(time.materializer)
    src.sendNext('a').sendNext('b').sendComplete()
    expect(await done).toEqual(['a', 'b'])
  })

  it('reports an abrupt termination (materializer shut down) as the end of the stage', async () => {
    const mat = Materializer.create()
    const [src] = TestSource.probe<number>().toMat(Sink.ignore(), Keep.both).run(mat)
    await src.expectRequest()
    const cancellation = src.expectCancellation()
    mat.shutdown()
    expect((await rejection(cancellation)).reason).toBe('terminated')
    expect(src.end?.kind).toBe('failed')
    expect(src.end?.kind === 'failed' && src.end.error).toBeInstanceOf(AbruptTerminationError)
  })
})

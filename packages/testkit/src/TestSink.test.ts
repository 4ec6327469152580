import { afterEach, describe, expect, it, vi } from 'vitest'
import { AbruptTerminationError, InvalidArgumentError, Keep, Materializer, NoMoreElementsNeeded, Source } from '@weir/core'
import { ProbeAssertionError } from './expectations.js'
import { assertAllStagesStopped } from './leaks.js'
import { TestSink } from './TestSink.js'
import { TestSource } from './TestSource.js'
import { VirtualTime } from './VirtualTime.js'

/** Rejection of `p`, failing the test if it resolves. */
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

describe('TestSink.probe', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('delivers requested elements in order, then the completion', async () => {
    const time = new VirtualTime()
    const probe = Source.from([1, 2, 3]).map((x) => x * 10).runWith(TestSink.probe<number>(), time.materializer)
    expect(await probe.requestNext(10)).toBe(10)
    expect(await probe.request(3).expectNextN(2)).toEqual([20, 30])
    await probe.expectComplete()
    expect(probe.isStopped).toBe(true)
    await assertAllStagesStopped(time.materializer)
  })

  it('never pulls without request: elements wait upstream until demand is signalled', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<string>().toMat(TestSink.probe<string>(), Keep.both).run(time.materializer)
    src.sendNext('a')
    await sink.expectNoMessage()
    expect(src.pending).toBe(0)
    sink.request(1)
    await src.expectRequest()
    expect(await sink.expectNext()).toBe('a')
    src.sendNext('b')
    await sink.expectNoMessage()
    sink.request(1)
    expect(await sink.expectNext()).toBe('b')
    sink.cancel()
    await assertAllStagesStopped(time.materializer)
  })

  it('accumulates demand over several requests and pulls one element at a time', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    sink.request(1).request(2)
    src.sendNext(1).sendNext(2).sendNext(3).sendNext(4)
    expect(await sink.expectNextN(3)).toEqual([1, 2, 3])
    await sink.expectNoMessage()
    expect(src.pending).toBe(0)
    sink.request(1)
    expect(await sink.expectNext()).toBe(4)
    await time.settle()
    expect(src.pending).toBe(0)
    src.sendComplete()
    await sink.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('works through filter, take and an async boundary', async () => {
    const time = new VirtualTime()
    const probe = Source.range(1, 100)
      .filter((x) => x % 2 === 0)
      .async()
      .map((x) => x * 3)
      .take(3)
      .runWith(TestSink.probe<number>(), time.materializer)
    expect(await probe.request(10).expectNextN(3)).toEqual([6, 12, 18])
    await probe.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('answers expectations issued before the elements arrive, in the order they were issued', async () => {
    const time = new VirtualTime()
    const probe = Source.from(['x', 'y', 'z']).runWith(TestSink.probe<string>(), time.materializer)
    const first = probe.expectNext()
    const second = probe.expectNext('y')
    probe.request(4)
    expect(await first).toBe('x')
    expect(await second).toBe('y')
    await probe.expectNext('z')
    await probe.expectComplete()
  })

  it('compares expected elements by deep equality', async () => {
    const time = new VirtualTime()
    const probe = Source.from([{ id: 1, tags: ['a'] }]).runWith(TestSink.probe<{ id: number; tags: string[] }>(), time.materializer)
    expect(await probe.requestNext({ id: 1, tags: ['a'] })).toEqual({ id: 1, tags: ['a'] })
  })

  it('rejects with a mismatch carrying actual and expected when the element differs', async () => {
    const time = new VirtualTime()
    const probe = Source.from([{ id: 1 }]).runWith(TestSink.probe<{ id: number }>(), time.materializer)
    const e = await rejection(probe.requestNext({ id: 2 }))
    expect(e.reason).toBe('mismatch')
    expect(e.expectation).toBe('requestNext')
    expect(e.code).toBe('ERR_ASSERTION')
    expect(e.actual).toEqual({ id: 1 })
    expect(e.expected).toEqual({ id: 2 })
  })

  it('distinguishes an expected undefined element from no expectation', async () => {
    const time = new VirtualTime()
    const probe = Source.from<number | undefined>([1]).runWith(TestSink.probe<number | undefined>(), time.materializer)
    expect((await rejection(probe.requestNext(undefined))).reason).toBe('mismatch')
  })

  it('rejects expectNext when the stream completes instead', async () => {
    const time = new VirtualTime()
    const probe = Source.empty<number>().runWith(TestSink.probe<number>(), time.materializer)
    probe.request(1)
    const e = await rejection(probe.expectNext())
    expect(e.reason).toBe('unexpected-event')
    expect(e.actual).toEqual({ kind: 'complete' })
  })

  it('rejects expectComplete when an element arrives instead', async () => {
    const time = new VirtualTime()
    const probe = Source.from([7]).runWith(TestSink.probe<number>(), time.materializer)
    probe.request(1)
    const e = await rejection(probe.expectComplete())
    expect(e.reason).toBe('unexpected-event')
    expect(e.actual).toEqual({ kind: 'next', value: 7 })
  })

  it('resolves expectError with the failure of the stream', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    const probe = Source.from([1, 2, 3])
      .map((x) => {
        if (x === 2) throw boom
        return x
      })
      .runWith(TestSink.probe<number>(), time.materializer)
    await probe.request(5).expectNext(1)
    expect(await probe.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('delivers a failure without demand', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    const probe = Source.failed<number>(boom).runWith(TestSink.probe<number>(), time.materializer)
    expect(await probe.expectError()).toBe(boom)
  })

  it('rejects expectError when the stream completes instead', async () => {
    const time = new VirtualTime()
    const probe = Source.empty<number>().runWith(TestSink.probe<number>(), time.materializer)
    probe.request(1)
    expect((await rejection(probe.expectError())).reason).toBe('unexpected-event')
  })

  it('expectNoMessage fails when a signal is waiting, and leaves it to be consumed', async () => {
    const time = new VirtualTime()
    const probe = Source.from([1, 2]).runWith(TestSink.probe<number>(), time.materializer)
    probe.request(1)
    const e = await rejection(probe.expectNoMessage())
    expect(e.reason).toBe('unexpected-event')
    expect(await probe.expectNext()).toBe(1)
  })

  it('expectNoMessage lets pending work settle before asserting', async () => {
    let resolve!: (x: number) => void
    const time = new VirtualTime()
    const probe = Source.fromPromise(new Promise<number>((r) => (resolve = r))).runWith(TestSink.probe<number>(), time.materializer)
    probe.request(2)
    await probe.expectNoMessage()
    resolve(5)
    expect((await rejection(probe.expectNoMessage())).reason).toBe('unexpected-event')
    await probe.expectNext(5)
    await probe.expectComplete()
  })

  it('cancels upstream with NoMoreElementsNeeded by default', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    sink.cancel()
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream with the given cause, through intermediate operators', async () => {
    const time = new VirtualTime()
    const cause = new Error('client went away')
    const [src, sink] = TestSource.probe<number>()
      .map((x) => x + 1)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
  })

  it('rejects expectations at once after the probe cancelled', async () => {
    const time = new VirtualTime()
    const probe = Source.never<number>().runWith(TestSink.probe<number>(), time.materializer)
    const pending = probe.expectNext()
    probe.cancel()
    expect((await rejection(pending)).reason).toBe('terminated')
    expect((await rejection(probe.expectComplete())).reason).toBe('terminated')
  })

  it('rejects expectations at once after the terminal signal was consumed', async () => {
    const time = new VirtualTime()
    const probe = Source.empty<number>().runWith(TestSink.probe<number>(), time.materializer)
    probe.request(1)
    await probe.expectComplete()
    expect((await rejection(probe.expectNext())).reason).toBe('terminated')
  })

  it('reports an abrupt termination (materializer shut down) as an error', async () => {
    const mat = Materializer.create()
    const probe = Source.never<number>().runWith(TestSink.probe<number>(), mat)
    await probe.expectNoMessage()
    mat.shutdown()
    expect(await probe.expectError()).toBeInstanceOf(AbruptTerminationError)
  })

  it('fails an expectation with a timeout when nothing arrives within the real-time guard', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const time = new VirtualTime()
    const probe = Source.never<number>().runWith(TestSink.probe<number>({ timeoutMs: 500 }), time.materializer)
    const next = rejection(probe.requestNext())
    await time.settle()
    vi.advanceTimersByTime(499)
    await time.settle()
    vi.advanceTimersByTime(1)
    const e = await next
    expect(e.reason).toBe('timeout')
    probe.cancel()
  })

  it('exposes the materializer that runs the probed stream', () => {
    const time = new VirtualTime()
    const probe = Source.never<number>().runWith(TestSink.probe<number>(), time.materializer)
    expect(probe.materializer).toBe(time.materializer)
    probe.cancel()
  })

  it('rejects a non-positive request and a non-positive timeout', () => {
    const time = new VirtualTime()
    const probe = Source.never<number>().runWith(TestSink.probe<number>(), time.materializer)
    expect(() => probe.request(0)).toThrow(InvalidArgumentError)
    expect(() => probe.request(1.5)).toThrow(InvalidArgumentError)
    expect(() => TestSink.probe({ timeoutMs: 0 })).toThrow(InvalidArgumentError)
    probe.cancel()
  })

  it('accepts unbounded demand', async () => {
    const time = new VirtualTime()
    const probe = Source.range(1, 50).runWith(TestSink.probe<number>(), time.materializer)
    const xs = await probe.request(Infinity).expectNextN(50)
    expect(xs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    await probe.expectComplete()
  })
})

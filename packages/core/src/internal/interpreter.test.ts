/**
 * Specification of the interpreter and the executor: how islands run, with operator fusion on
 * and off (semantics must not differ).
 *
 * Shared contract: a stream never monopolises the event loop (work is sliced and the executor
 * yields to `setImmediate`); infinite sources stop when downstream is satisfied; deep chains and
 * many islands run without stack overflow; an async boundary prefetches at most its buffer size
 * and carries elements, completion, failures and cancellation causes across unchanged.
 */
import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, settle, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, Keep, Materializer, NoMoreElementsNeeded, NonFailureCancellation, Sink, Source } from '../index.js'

const fusion = [true, false]

/** Resolves after one turn of the event loop (immediates run). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe.each(fusion)('executor (operatorFusion %s)', (operatorFusion) => {
  it('lets an immediate scheduled before a 2 000 000-element stream run before the stream completes', async () => {
    const m = Materializer.create({ operatorFusion })
    const order: string[] = []
    setImmediate(() => order.push('immediate'))
    const count = await Source.range(1, 2_000_000)
      .map((x) => x + 1)
      .runWith(Sink.fold(0, (n: number) => n + 1), m)
      .then((n) => (order.push('done'), n))
    expect(count).toBe(2_000_000)
    expect(order).toEqual(['immediate', 'done'])
    await assertAllStagesStopped(m)
  })

  it('yields to the event loop even when every element comes from an already-resolved promise', async () => {
    const m = Materializer.create({ operatorFusion })
    const order: string[] = []
    setImmediate(() => order.push('immediate'))
    const count = await Source.range(1, 100_000)
      .mapAsync(4, (x) => Promise.resolve(x))
      .runWith(Sink.fold(0, (n: number) => n + 1), m)
      .then((n) => (order.push('done'), n))
    expect(count).toBe(100_000)
    expect(order).toEqual(['immediate', 'done'])
    await assertAllStagesStopped(m)
  })

  it('keeps the event loop turning while an endless stream emits nothing', async () => {
    const m = Materializer.create({ operatorFusion })
    let polled = 0
    const done = Source.repeat(1)
      .map((x) => (polled++, x))
      .filter(() => false)
      .runWith(Sink.ignore(), m)
    await nextTurn()
    const before = polled
    await nextTurn()
    await nextTurn()
    expect(polled).toBeGreaterThan(before)
    m.shutdown()
    await expect(done).rejects.toMatchObject({ code: 'WEIR_CORE_ABRUPT_TERMINATION' })
    expect(m.runningStages()).toEqual([])
  })

  it('lets two endless islands take turns', async () => {
    const m = Materializer.create({ operatorFusion })
    const seen = [0, 0]
    const a = Source.repeat(0).runWith(Sink.foreach((i: number) => seen[i]!++), m)
    const b = Source.repeat(1).runWith(Sink.foreach((i: number) => seen[i]!++), m)
    await nextTurn()
    await nextTurn()
    expect(seen[0]).toBeGreaterThan(0)
    expect(seen[1]).toBeGreaterThan(0)
    m.shutdown()
    await Promise.allSettled([a, b])
    expect(m.runningStages()).toEqual([])
  })
})

describe.each(fusion)('interpreter (operatorFusion %s)', (operatorFusion) => {
  it('stops an infinite Source.repeat with take', async () => {
    const m = Materializer.create({ operatorFusion })
    expect(await Source.repeat(1).take(5).runWith(Sink.seq(), m)).toEqual([1, 1, 1, 1, 1])
    expect(await Source.repeat(1).map((x) => x * 2).async().take(3).runWith(Sink.seq(), m)).toEqual([2, 2, 2])
    await assertAllStagesStopped(m)
  })

  it.each([500, 3000])('runs a linear chain of %i maps without stack overflow', async (depth) => {
    const m = Materializer.create({ operatorFusion })
    let chain = Flow.create<number>()
    for (let i = 0; i < depth; i++) chain = chain.map((x) => x + 1)
    const out = await Source.range(1, 200).via(chain).runWith(Sink.seq(), m)
    expect(out).toEqual(Array.from({ length: 200 }, (_, i) => i + 1 + depth))
    await assertAllStagesStopped(m)
  })

  it('runs 50 islands, one map each, in order', async () => {
    const m = Materializer.create({ operatorFusion })
    let s = Source.range(1, 1000)
    for (let i = 0; i < 50; i++) s = s.map((x) => x + 1).async()
    const out = await s.runWith(Sink.seq(), m)
    expect(out).toEqual(Array.from({ length: 1000 }, (_, i) => i + 51))
    await assertAllStagesStopped(m)
    expect(m.runningIslands).toBe(0)
  })
})

describe.each(fusion)('async boundary (operatorFusion %s)', (operatorFusion) => {
  /** TestSource → counting map → boundary (→ optional map) → TestSink; `passed` counts elements that left the source. */
  function across(time: VirtualTime, bufferSize?: number) {
    const counter = { passed: 0 }
    const [src, sink] = TestSource.probe<number>()
      .map((x) => (counter.passed++, x))
      .async(bufferSize)
      .map((x) => x)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    return { src, sink, counter }
  }

  it.each([undefined, 4, 1])('prefetches at most the buffer size (%s) when downstream has no demand', async (bufferSize) => {
    const time = new VirtualTime({ operatorFusion })
    const limit = bufferSize ?? time.materializer.inputBuffer
    const { src, sink, counter } = across(time, bufferSize)
    for (let i = 0; i < 100; i++) src.sendNext(i)
    await settle(time.materializer)
    expect(counter.passed).toBeGreaterThan(0)
    expect(counter.passed).toBeLessThanOrEqual(limit)
    let delivered = 0
    while (delivered < 100) {
      const n = Math.min(3, 100 - delivered)
      sink.request(n)
      expect(await sink.expectNextN(n)).toEqual(Array.from({ length: n }, (_, i) => delivered + i))
      delivered += n
      await settle(time.materializer)
      expect(counter.passed - delivered).toBeLessThanOrEqual(limit)
    }
    sink.cancel()
    await src.expectCancellation()
    await assertAllStagesStopped(time.materializer)
  })

  it('signals upstream completion downstream without waiting for demand', async () => {
    const time = new VirtualTime({ operatorFusion })
    const { src, sink } = across(time)
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    src.sendComplete()
    await sink.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('signals an upstream failure downstream without waiting for demand', async () => {
    const time = new VirtualTime({ operatorFusion })
    const { src, sink } = across(time)
    const boom = new Error('upstream broke')
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('honours the materializer inputBuffer setting', async () => {
    const time = new VirtualTime({ operatorFusion, inputBuffer: 2 })
    const { src, sink, counter } = across(time)
    for (let i = 0; i < 10; i++) src.sendNext(i)
    await settle(time.materializer)
    expect(counter.passed).toBeLessThanOrEqual(2)
    sink.cancel()
    await src.expectCancellation()
    await assertAllStagesStopped(time.materializer)
  })

  it('carries elements and then an upstream failure across, unchanged', async () => {
    const time = new VirtualTime({ operatorFusion })
    const { src, sink } = across(time)
    const boom = new Error('upstream broke')
    sink.request(5)
    src.sendNext(1).sendNext(2)
    expect(await sink.expectNextN(2)).toEqual([1, 2])
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails downstream across several boundaries', async () => {
    const time = new VirtualTime({ operatorFusion })
    const boom = new Error('boom')
    const out = Source.failed<number>(boom).async().map((x) => x).async().filter(() => true).async().runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it.each([
    ['NoMoreElementsNeeded', NoMoreElementsNeeded],
    ['a NonFailureCancellation', new NonFailureCancellation('client-went-away')],
    ['a failure', new Error('gone')],
  ])('carries a downstream cancellation cause upstream unchanged: %s', async (_name, cause) => {
    const time = new VirtualTime({ operatorFusion })
    const { src, sink } = across(time)
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream with the failure of a stage behind the boundary', async () => {
    const time = new VirtualTime({ operatorFusion })
    const boom = new Error('map broke')
    const [src, done] = TestSource.probe<number>()
      .async()
      .map((): number => {
        throw boom
      })
      .toMat(Sink.seq(), Keep.both)
      .run(time.materializer)
    src.sendNext(1)
    await expect(done).rejects.toBe(boom)
    expect(await src.expectCancellation()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })
})

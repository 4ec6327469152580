import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, RateExceededError, Source, WeirError, type ThrottleOptions } from '../index.js'

/** Every stage stopped and no timer left behind. */
async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

function probed(time: VirtualTime, elements: number, per: number | string, options?: ThrottleOptions<number>) {
  const flow = Flow.create<number>().throttle(elements, per, options)
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, sink }
}

describe('throttle (shaping)', () => {
  it('spaces elements exactly one token interval apart once the burst is spent', async () => {
    const time = new VirtualTime()
    const sink = Source.from([1, 2, 3]).throttle(1, 100, { maximumBurst: 1 }).runWith(TestSink.probe<number>(), time.materializer)
    sink.request(3)
    await sink.expectNext(1)
    await time.advance(99)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext(2)
    await time.advance(99)
    await sink.expectNoMessage()
    await time.advance(1)
    // upstream completed while 3 was held: completion follows it
    await sink.expectNext(3)
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('lets a full bucket of maximumBurst elements pass at once after a quiet period', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1, 100, { maximumBurst: 3 })
    sink.request(10)
    await time.advance(1000)
    for (const x of [1, 2, 3, 4]) src.sendNext(x)
    expect(await sink.expectNextN(3)).toEqual([1, 2, 3])
    await time.advance(99)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext(4)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('refills the bucket one token per interval, never above maximumBurst', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1, 100, { maximumBurst: 2 })
    sink.request(10)
    src.sendNext(1).sendNext(2)
    expect(await sink.expectNextN(2)).toEqual([1, 2])
    // 250 ms later two tokens arrived (at 100 and 200), the third would exceed the bucket only after 300
    await time.advance(250)
    src.sendNext(3).sendNext(4).sendNext(5)
    expect(await sink.expectNextN(2)).toEqual([3, 4])
    // tokens arrive at exact multiples of the interval: the next one at 300
    await time.advance(49)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext(5)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('bursts by default as many tokens as arrive in 100 ms (at least one)', async () => {
    const time = new VirtualTime()
    // 20 per second: a token every 50 ms, so a default burst of 2
    const sink = Source.from([1, 2, 3]).throttle(20, '1s').runWith(TestSink.probe<number>(), time.materializer)
    sink.request(3)
    expect(await sink.expectNextN(2)).toEqual([1, 2])
    await time.advance(49)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext(3)
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('charges cost(x) tokens per element', async () => {
    const time = new VirtualTime()
    // 10 tokens per second (one every 100 ms), bucket of 10: two elements of cost 5 pass, the third waits 500 ms
    const { src, sink } = probed(time, 10, '1s', { maximumBurst: 10, cost: (x) => x })
    sink.request(10)
    src.sendNext(5).sendNext(5).sendNext(5).sendNext(0)
    expect(await sink.expectNextN(2)).toEqual([5, 5])
    await time.advance(499)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext(5)
    // an element of cost 0 is free even while the bucket is empty
    await sink.expectNext(0)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('pulls upstream only on demand and pushes nothing without it', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1, 100, { maximumBurst: 1 })
    await time.advance(1000)
    expect(src.pending).toBe(0)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1).sendNext(2)
    await sink.expectNext(1)
    await time.advance(1000)
    await sink.expectNoMessage()
    expect(src.pending).toBe(0)
    sink.request(1)
    await sink.expectNext(2)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('fails at once on upstream failure, dropping a held element, and cancels its timer', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1, 100, { maximumBurst: 1 })
    sink.request(2)
    src.sendNext(1).sendNext(2)
    await sink.expectNext(1)
    const boom = new Error('boom')
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await expectStopped(time)
  })

  it('cancels upstream with the downstream cause while an element is held', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1, 100, { maximumBurst: 1 })
    sink.request(2)
    src.sendNext(1).sendNext(2)
    await sink.expectNext(1)
    const cause = new Error('client went away')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
    await time.advance(100)
    await sink.expectNoMessage()
    await expectStopped(time)
  })

  it('fails with InvalidArgumentError when cost returns a negative weight', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1, 100, { cost: () => -1 })
    sink.request(1)
    src.sendNext(1)
    const err = await sink.expectError()
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(await src.expectCancellation()).toBe(err)
    await expectStopped(time)
  })
})

describe('throttle (enforcing)', () => {
  it('fails with RateExceededError when an element comes before its token, and cancels upstream with it', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 2, '1s', { mode: 'enforcing', maximumBurst: 1 })
    sink.request(10)
    src.sendNext(1)
    await sink.expectNext(1)
    await time.advance(500)
    src.sendNext(2)
    await sink.expectNext(2)
    await time.advance(499)
    src.sendNext(3)
    const err = await sink.expectError()
    expect(err).toBeInstanceOf(RateExceededError)
    expect(err).toBeInstanceOf(WeirError)
    expect(err).toMatchObject({ code: 'WEIR_CORE_RATE_EXCEEDED', elements: 2, perMs: 1000, maximumBurst: 1 })
    expect(await src.expectCancellation()).toBe(err)
    await expectStopped(time)
  })

  it('passes a stream that keeps to the rate, however long it runs', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1, 100, { mode: 'enforcing' })
    sink.request(10)
    for (let i = 1; i <= 5; i++) {
      src.sendNext(i)
      await sink.expectNext(i)
      await time.advance(100)
    }
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })
})

describe('throttle arguments', () => {
  it.each<[string, () => unknown]>([
    ['elements', () => Source.single(1).throttle(0, 100)],
    ['elements', () => Source.single(1).throttle(1.5, 100)],
    ['per', () => Source.single(1).throttle(1, 0)],
    ['per', () => Source.single(1).throttle(1, 'infinite')],
    ['maximumBurst', () => Source.single(1).throttle(1, 100, { maximumBurst: -1 })],
    ['mode', () => Source.single(1).throttle(1, 100, { mode: 'lenient' as 'shaping' })],
  ])('rejects a bad %s when the blueprint is built', (argument, build) => {
    expect(build).toThrow(InvalidArgumentError)
    try {
      build()
    } catch (e) {
      expect(e).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument })
    }
  })
})

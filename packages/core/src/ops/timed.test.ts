import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, Source } from '../index.js'

/** Every stage stopped and no timer left behind. */
async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

function probed(time: VirtualTime, flow: Flow<number, number, unknown>) {
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, sink }
}

describe('initialDelay', () => {
  it('asks upstream for nothing before the delay elapsed, then passes elements through', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().initialDelay(1000))
    sink.request(2)
    await time.advance(999)
    expect(src.pending).toBe(0)
    await time.advance(1)
    await src.expectRequest()
    src.sendNext(1)
    await sink.expectNext(1)
    src.sendNext(2)
    await sink.expectNext(2)
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('delays the first element of an eager source by the delay', async () => {
    const time = new VirtualTime()
    const sink = Source.from([1, 2]).initialDelay('2s').runWith(TestSink.probe<number>(), time.materializer)
    sink.request(2)
    await time.advance(1999)
    await sink.expectNoMessage()
    await time.advance(1)
    expect(await sink.expectNextN(2)).toEqual([1, 2])
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('pulls only on demand once open', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().initialDelay(100))
    await time.advance(500)
    expect(src.pending).toBe(0)
    expect(time.pendingTimers).toBe(0)
    sink.request(1)
    await src.expectRequest()
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('completes at once when upstream completes during the delay, cancelling its timer', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().initialDelay(1000))
    sink.request(1)
    await time.advance(10)
    expect(time.pendingTimers).toBe(1)
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('fails at once on upstream failure and cancels upstream with the downstream cause', async () => {
    const time = new VirtualTime()
    const failing = probed(time, Flow.create<number>().initialDelay(1000))
    failing.sink.request(1)
    const boom = new Error('boom')
    failing.src.sendError(boom)
    expect(await failing.sink.expectError()).toBe(boom)
    const cancelled = probed(time, Flow.create<number>().initialDelay(1000))
    const cause = new Error('gone')
    cancelled.sink.cancel(cause)
    expect(await cancelled.src.expectCancellation()).toBe(cause)
    await expectStopped(time)
  })

  it('with a zero delay passes elements at once without a timer', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().initialDelay(0))
    sink.request(1)
    await src.expectRequest()
    expect(time.pendingTimers).toBe(0)
    src.sendNext(1).sendComplete()
    await sink.expectNext(1)
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('rejects a negative delay when the blueprint is built', () => {
    expect(() => Source.single(1).initialDelay(-1)).toThrow(InvalidArgumentError)
  })
})

describe('dropWithin', () => {
  it('drops the elements that arrive before the duration elapsed and passes those from then on', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().dropWithin(1000))
    sink.request(10)
    src.sendNext(1)
    await time.advance(999)
    src.sendNext(2)
    await sink.expectNoMessage()
    await time.advance(1)
    src.sendNext(3).sendNext(4)
    expect(await sink.expectNextN(2)).toEqual([3, 4])
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('asks upstream for a replacement of a dropped element, but pulls nothing without demand', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().dropWithin(1000))
    await time.advance(10)
    expect(src.pending).toBe(0)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1)
    await src.expectRequest()
    expect(src.pending).toBe(1)
    expect(time.pendingTimers).toBe(0)
    await time.advance(1000)
    src.sendNext(2)
    await sink.expectNext(2)
    expect(src.pending).toBe(0)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('passes completion, failure and cancellation through at once', async () => {
    const time = new VirtualTime()
    const completing = probed(time, Flow.create<number>().dropWithin(1000))
    completing.src.sendComplete()
    await completing.sink.expectComplete()
    const failing = probed(time, Flow.create<number>().dropWithin(1000))
    const boom = new Error('boom')
    failing.src.sendError(boom)
    expect(await failing.sink.expectError()).toBe(boom)
    const cancelled = probed(time, Flow.create<number>().dropWithin(1000))
    const cause = new Error('gone')
    cancelled.sink.cancel(cause)
    expect(await cancelled.src.expectCancellation()).toBe(cause)
    await expectStopped(time)
  })

  it('rejects a bad duration when the blueprint is built', () => {
    expect(() => Source.single(1).dropWithin('soon')).toThrow(InvalidArgumentError)
  })
})

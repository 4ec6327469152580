import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { InvalidArgumentError, Keep, NoMoreElementsNeeded, Sink, Source } from '../index.js'

async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

function probed(time: VirtualTime, duration: number | string) {
  const [src, sink] = TestSource.probe<string>().takeWithin(duration).toMat(TestSink.probe<string>(), Keep.both).run(time.materializer)
  return { src, sink }
}

describe('takeWithin', () => {
  it('passes elements until the duration elapsed, then completes and cancels upstream as not a failure', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1000)
    sink.request(10)
    src.sendNext('a')
    await sink.expectNext('a')
    await time.advance(999)
    src.sendNext('b')
    await sink.expectNext('b')
    await time.advance(1)
    await sink.expectComplete()
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    await expectStopped(time)
  })

  it('completes on time even when downstream is not pulling', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, '2s')
    src.sendNext('late')
    await time.advance(1999)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectComplete()
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    await expectStopped(time)
  })

  it('pulls only when downstream pulls (no element without demand)', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1000)
    src.sendNext('a').sendNext('b')
    await time.advance(0)
    expect(src.pending).toBe(0)
    sink.request(1)
    await sink.expectNext('a')
    await sink.expectNoMessage()
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('keeps the ticks of a tick source that fall within the duration', async () => {
    const time = new VirtualTime()
    const out = Source.tick(0, 100, 'beat').takeWithin(350).runWith(Sink.seq(), time.materializer)
    await time.advance(350)
    expect(await out).toEqual(['beat', 'beat', 'beat', 'beat'])
    await expectStopped(time)
  })

  it('passes upstream completion and failure through and cancels its timer', async () => {
    const time = new VirtualTime()
    const done = probed(time, 1000)
    done.sink.request(1)
    await time.advance(500)
    done.src.sendComplete()
    await done.sink.expectComplete()
    const failed = probed(time, 1000)
    const boom = new Error('boom')
    failed.src.sendError(boom)
    expect(await failed.sink.expectError()).toBe(boom)
    await expectStopped(time)
  })

  it('passes downstream cancellation upstream with its cause', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1000)
    const cause = new Error('gone')
    await time.advance(10)
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
    await expectStopped(time)
  })

  it('never completes on its own with an infinite duration', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 'infinite')
    sink.request(1)
    await time.advance(1e9)
    await sink.expectNoMessage()
    src.sendNext('x')
    await sink.expectNext('x')
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('rejects a bad duration when the blueprint is built', () => {
    expect(() => Source.never().takeWithin(-5)).toThrow(InvalidArgumentError)
    try {
      Source.never().takeWithin('later')
      expect.unreachable()
    } catch (e) {
      expect((e as InvalidArgumentError).code).toBe('WEIR_CORE_INVALID_ARGUMENT')
      expect((e as InvalidArgumentError).argument).toBe('duration')
    }
  })
})

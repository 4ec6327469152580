import { describe, expect, it, vi } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import {
  BackpressureTimeoutError,
  CompletionTimeoutError,
  Flow,
  IdleTimeoutError,
  InitialTimeoutError,
  InvalidArgumentError,
  Keep,
  Sink,
  Source,
  StreamTimeoutError,
  type Duration,
} from '../index.js'

/** Every stage stopped and no timer left behind. */
async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

/** A probe source through `flow` into a probe sink, on virtual time. */
function probed(time: VirtualTime, flow: Flow<number, number, unknown>) {
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, sink }
}

const operators: [string, (timeout: Duration) => Flow<number, number, unknown>][] = [
  ['idleTimeout', (t) => Flow.create<number>().idleTimeout(t)],
  ['initialTimeout', (t) => Flow.create<number>().initialTimeout(t)],
  ['completionTimeout', (t) => Flow.create<number>().completionTimeout(t)],
  ['backpressureTimeout', (t) => Flow.create<number>().backpressureTimeout(t)],
]

describe.each(operators)('%s (shared contract)', (_name, make) => {
  it('passes elements and completion through unchanged', async () => {
    const time = new VirtualTime()
    expect(await Source.from([1, 2, 3]).via(make(1000)).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3])
    await expectStopped(time)
  })

  it('pulls only when downstream pulls (no element without demand)', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, make(1000))
    await time.advance(0)
    expect(src.pending).toBe(0)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1).sendNext(2)
    await sink.expectNext(1)
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext(2)
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('passes an upstream failure through and cancels its timer', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, make(1000))
    const boom = new Error('boom')
    await time.advance(100)
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await expectStopped(time)
  })

  it('cancels upstream with the same cause when downstream cancels, and cancels its timer', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, make(1000))
    await time.advance(100)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
    await expectStopped(time)
  })

  it('accepts duration strings and treats an infinite timeout as none', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, make('infinite'))
    sink.request(1)
    await time.advance(0)
    expect(time.pendingTimers).toBe(0)
    await time.advance(1e9)
    await sink.expectNoMessage()
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('rejects a bad duration when the blueprint is built', () => {
    for (const bad of [-1, Number.NaN, 'soon', '10 parsecs']) {
      let error: unknown
      try {
        make(bad)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as InvalidArgumentError).code).toBe('WEIR_CORE_INVALID_ARGUMENT')
      expect((error as InvalidArgumentError).argument).toBe('timeout')
    }
  })
})

/** Expect the probe's next signal to be a timeout error of `type` with `code` and `timeoutMs`. */
async function expectTimeout(
  sink: { expectError(): Promise<unknown> },
  type: abstract new (...args: any[]) => StreamTimeoutError,
  code: string,
  timeoutMs: number,
): Promise<StreamTimeoutError> {
  const e = (await sink.expectError()) as StreamTimeoutError
  expect(e).toBeInstanceOf(type)
  expect(e).toBeInstanceOf(StreamTimeoutError)
  expect(e.code).toBe(code)
  expect(e.timeoutMs).toBe(timeoutMs)
  return e
}

describe('idleTimeout', () => {
  it('fails exactly when no element passed for the timeout since materialization', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().idleTimeout(1000))
    sink.request(1)
    await time.advance(999)
    await sink.expectNoMessage()
    await time.advance(1)
    const e = await expectTimeout(sink, IdleTimeoutError, 'WEIR_CORE_IDLE_TIMEOUT', 1000)
    expect(await src.expectCancellation()).toBe(e)
    await expectStopped(time)
  })

  it('measures from the last element (the deadline moves with each element)', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().idleTimeout('1s'))
    sink.request(3)
    await time.advance(600)
    src.sendNext(1)
    await sink.expectNext(1)
    await time.advance(300)
    src.sendNext(2)
    await sink.expectNext(2)
    // the last element passed at 900: the deadline is 1900
    await time.advance(999)
    await sink.expectNoMessage()
    await time.advance(1)
    await expectTimeout(sink, IdleTimeoutError, 'WEIR_CORE_IDLE_TIMEOUT', 1000)
    await expectStopped(time)
  })

  it('schedules no timer per element: one timer covers a burst shorter than the timeout', async () => {
    const time = new VirtualTime()
    const scheduled = vi.spyOn(time, 'scheduleOnce')
    const { src, sink } = probed(time, Flow.create<number>().idleTimeout(1000))
    sink.request(100)
    for (let i = 0; i < 50; i++) {
      await time.advance(10)
      src.sendNext(i)
    }
    expect(await sink.expectNextN(50)).toHaveLength(50)
    expect(scheduled).toHaveBeenCalledTimes(1)
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('gives each materialization its own deadline', async () => {
    const time = new VirtualTime()
    const flow = Flow.create<number>().idleTimeout(1000)
    const first = probed(time, flow)
    await time.advance(500)
    const second = probed(time, flow)
    await time.advance(500)
    await expectTimeout(first.sink, IdleTimeoutError, 'WEIR_CORE_IDLE_TIMEOUT', 1000)
    await second.sink.expectNoMessage()
    await time.advance(500)
    await expectTimeout(second.sink, IdleTimeoutError, 'WEIR_CORE_IDLE_TIMEOUT', 1000)
    await expectStopped(time)
  })

  it('fails while downstream backpressures, since nothing passes', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().idleTimeout(1000))
    src.sendNext(1)
    await time.advance(1000)
    await expectTimeout(sink, IdleTimeoutError, 'WEIR_CORE_IDLE_TIMEOUT', 1000)
    await expectStopped(time)
  })
})

describe('initialTimeout', () => {
  it('fails exactly at the timeout when the first element has not passed', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().initialTimeout(500))
    sink.request(1)
    await time.advance(499)
    await sink.expectNoMessage()
    await time.advance(1)
    const e = await expectTimeout(sink, InitialTimeoutError, 'WEIR_CORE_INITIAL_TIMEOUT', 500)
    expect(await src.expectCancellation()).toBe(e)
    await expectStopped(time)
  })

  it('never fires once the first element passed', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().initialTimeout(500))
    sink.request(2)
    await time.advance(499)
    src.sendNext(1)
    await sink.expectNext(1)
    expect(time.pendingTimers).toBe(0)
    await time.advance(10_000)
    await sink.expectNoMessage()
    src.sendNext(2).sendComplete()
    await sink.expectNext(2)
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('fails when upstream has an element but downstream did not ask for it in time', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().initialTimeout(500))
    src.sendNext(1)
    await time.advance(500)
    await expectTimeout(sink, InitialTimeoutError, 'WEIR_CORE_INITIAL_TIMEOUT', 500)
    await expectStopped(time)
  })
})

describe('completionTimeout', () => {
  it('fails exactly at the timeout even while elements flow', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().completionTimeout(1000))
    sink.request(10)
    for (let i = 1; i <= 9; i++) {
      await time.advance(100)
      src.sendNext(i)
      await sink.expectNext(i)
    }
    await time.advance(99)
    await sink.expectNoMessage()
    await time.advance(1)
    const e = await expectTimeout(sink, CompletionTimeoutError, 'WEIR_CORE_COMPLETION_TIMEOUT', 1000)
    expect(await src.expectCancellation()).toBe(e)
    await expectStopped(time)
  })

  it('completes normally and cancels its timer when upstream completes in time', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().completionTimeout('1s'))
    sink.request(1)
    await time.advance(999)
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })
})

describe('backpressureTimeout', () => {
  it('fails exactly when downstream did not pull within the timeout after an element', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().backpressureTimeout(1000))
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    await time.advance(999)
    await sink.expectNoMessage()
    await time.advance(1)
    const e = await expectTimeout(sink, BackpressureTimeoutError, 'WEIR_CORE_BACKPRESSURE_TIMEOUT', 1000)
    expect(await src.expectCancellation()).toBe(e)
    await expectStopped(time)
  })

  it('does not fire while downstream waits for a silent upstream', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().backpressureTimeout(1000))
    sink.request(1)
    await time.advance(10_000)
    await sink.expectNoMessage()
    expect(time.pendingTimers).toBe(0)
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('measures from the latest element once downstream pulled in time', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().backpressureTimeout(1000))
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    await time.advance(500)
    sink.request(1)
    await time.advance(200)
    src.sendNext(2)
    await sink.expectNext(2)
    // pushed at 700 with no pull since: the deadline is 1700
    await time.advance(999)
    await sink.expectNoMessage()
    await time.advance(1)
    await expectTimeout(sink, BackpressureTimeoutError, 'WEIR_CORE_BACKPRESSURE_TIMEOUT', 1000)
    await expectStopped(time)
  })

  it('schedules no timer per element while downstream keeps pulling', async () => {
    const time = new VirtualTime()
    const scheduled = vi.spyOn(time, 'scheduleOnce')
    const out = await Source.range(1, 100).backpressureTimeout(1000).runWith(Sink.seq(), time.materializer)
    expect(out).toHaveLength(100)
    expect(scheduled).toHaveBeenCalledTimes(1)
    await expectStopped(time)
  })

  it('does not fire when downstream pulls just in time', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().backpressureTimeout(1000))
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    await time.advance(999)
    sink.request(1)
    await time.advance(5000)
    await sink.expectNoMessage()
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })
})

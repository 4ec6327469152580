import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, Keep, NoMoreElementsNeeded, RestartFlow, Sink, Source, type Logger, type RestartSettings } from '../index.js'

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

const settings = (more: Partial<RestartSettings> = {}): RestartSettings => ({ minBackoff: 100, maxBackoff: 1000, randomFactor: 0, ...more })

/** Runs `flow` between two probes. */
function probed(time: VirtualTime, flow: Flow<number, number>) {
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, sink }
}

/** A wrapped flow that multiplies by 10 and fails on `failOn`; counts its runs and their start times. */
function failingOn(time: VirtualTime, failOn: number, error = new Error(`boom on ${failOn}`)) {
  const starts: number[] = []
  const factory = () => {
    starts.push(time.now())
    return Flow.create<number>().map((x) => {
      if (x === failOn) throw error
      return x * 10
    })
  }
  return { starts, factory, error }
}

describe('RestartFlow.withBackoff', () => {
  it('restarts a failed flow after the backoff; later elements go through the new run (the failing one is lost)', async () => {
    const time = new VirtualTime({ logger: quiet })
    const { starts, factory } = failingOn(time, 3)
    const { src, sink } = probed(time, RestartFlow.withBackoff(settings(), factory))
    sink.request(10)
    src.sendNext(1).sendNext(2).sendNext(3)
    expect(await sink.expectNextN(2)).toEqual([10, 20])
    await time.advance(99)
    src.sendNext(4)
    await sink.expectNoMessage() // backpressured during backoff
    await time.advance(1)
    await sink.expectNext(40)
    expect(starts).toEqual([0, 100])
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('restarts a flow that completes on its own (take), with growing delays', async () => {
    const time = new VirtualTime()
    const starts: number[] = []
    const flow = RestartFlow.withBackoff(settings({ maxRestartsWithin: 10_000 }), () => {
      starts.push(time.now())
      return Flow.create<number>().take(2)
    })
    const { src, sink } = probed(time, flow)
    sink.request(10)
    src.sendNext(1).sendNext(2).sendNext(3).sendNext(4).sendNext(5)
    expect(await sink.expectNextN(2)).toEqual([1, 2])
    await time.advance(100)
    expect(await sink.expectNextN(2)).toEqual([3, 4])
    await time.advance(200)
    await sink.expectNext(5)
    expect(starts).toEqual([0, 100, 300])
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('fails after maxRestarts with the wrapped flow’s failure and cancels upstream with it', async () => {
    const time = new VirtualTime({ logger: quiet })
    const { starts, factory, error } = failingOn(time, 1)
    const { src, sink } = probed(time, RestartFlow.withBackoff(settings({ maxRestarts: 1 }), factory))
    sink.request(10)
    src.sendNext(1)
    await time.advance(100)
    src.sendNext(1)
    expect(await sink.expectError()).toBe(error)
    expect(await src.expectCancellation()).toBe(error)
    expect(starts).toEqual([0, 100])
    await expectStopped(time)
  })

  it('passes upstream completion into the running flow and completes without restarting', async () => {
    const time = new VirtualTime()
    const { starts, factory } = failingOn(time, -1)
    const { src, sink } = probed(time, RestartFlow.withBackoff(settings(), factory))
    sink.request(10)
    src.sendNext(1).sendNext(2).sendComplete()
    expect(await sink.expectNextN(2)).toEqual([10, 20])
    await sink.expectComplete()
    await time.advance(1000)
    expect(starts).toHaveLength(1)
    await expectStopped(time)
  })

  it('passes upstream failure into the running flow and fails without restarting', async () => {
    const time = new VirtualTime()
    const { starts, factory } = failingOn(time, -1)
    const { src, sink } = probed(time, RestartFlow.withBackoff(settings(), factory))
    const boom = new Error('upstream broke')
    sink.request(1)
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await time.advance(1000)
    expect(starts).toHaveLength(1)
    await expectStopped(time)
  })

  it('cancels the running flow with downstream’s cause, then upstream with it, and never restarts', async () => {
    const time = new VirtualTime()
    const { starts, factory } = failingOn(time, -1)
    const { src, sink } = probed(time, RestartFlow.withBackoff(settings(), factory))
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(10)
    const cause = new Error('client went away')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
    await time.advance(1000)
    expect(starts).toHaveLength(1)
    await expectStopped(time)
  })

  it('stops at once, releasing its timer, when downstream cancels during backoff', async () => {
    const time = new VirtualTime({ logger: quiet })
    const { starts, factory } = failingOn(time, 1)
    const { src, sink } = probed(time, RestartFlow.withBackoff(settings(), factory))
    sink.request(1)
    src.sendNext(1)
    await time.advance(50)
    expect(time.pendingTimers).toBe(1)
    sink.cancel()
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    await expectStopped(time)
    await time.advance(1000)
    expect(starts).toHaveLength(1)
  })

  it('completes at once when upstream completes during backoff', async () => {
    const time = new VirtualTime({ logger: quiet })
    const { starts, factory } = failingOn(time, 1)
    const { src, sink } = probed(time, RestartFlow.withBackoff(settings(), factory))
    sink.request(1)
    src.sendNext(1)
    await time.advance(50)
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
    expect(starts).toHaveLength(1)
  })

  it('keeps an element that arrives during backoff for the next run', async () => {
    const time = new VirtualTime({ logger: quiet })
    let runs = 0
    const flow = RestartFlow.withBackoff(settings(), () =>
      ++runs === 1
        ? Flow.fromSinkAndSource(Sink.ignore<number>(), Source.failed<number>(new Error('down'))) // pulls upstream, then fails
        : Flow.create<number>().map((x) => x * 10),
    )
    const { src, sink } = probed(time, flow)
    sink.request(1)
    await time.advance(50)
    src.sendNext(1)
    await time.advance(50)
    await sink.expectNext(10)
    expect(runs).toBe(2)
    sink.cancel()
    await expectStopped(time)
  })
})

describe('RestartFlow.onFailuresWithBackoff', () => {
  it('completes with the wrapped flow, cancelling upstream as no failure', async () => {
    const time = new VirtualTime()
    let runs = 0
    const { src, sink } = probed(
      time,
      RestartFlow.onFailuresWithBackoff(settings(), () => {
        runs++
        return Flow.create<number>().take(2)
      }),
    )
    sink.request(10)
    src.sendNext(1).sendNext(2)
    expect(await sink.expectNextN(2)).toEqual([1, 2])
    await sink.expectComplete()
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    await time.advance(1000)
    expect(runs).toBe(1)
    await expectStopped(time)
  })

  it('restarts a failed flow, whichever of its ends reports the failure first', async () => {
    const time = new VirtualTime({ logger: quiet })
    const { starts, factory } = failingOn(time, 2)
    const { src, sink } = probed(time, RestartFlow.onFailuresWithBackoff(settings(), factory))
    sink.request(10)
    src.sendNext(1).sendNext(2)
    await sink.expectNext(10)
    await time.advance(100)
    src.sendNext(3)
    await sink.expectNext(30)
    expect(starts).toEqual([0, 100])
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('restarts a flow that fails only by cancelling its input with an error', async () => {
    const time = new VirtualTime({ logger: quiet })
    const starts: number[] = []
    const flow = RestartFlow.onFailuresWithBackoff(settings(), () => {
      starts.push(time.now())
      return starts.length === 1
        ? Flow.fromSinkAndSource(
            Sink.foreach<number>(() => {
              throw new Error('input rejected')
            }),
            Source.never<number>(),
          )
        : Flow.create<number>().map((x) => x * 10)
    })
    const { src, sink } = probed(time, flow)
    sink.request(1)
    src.sendNext(1) // the first run's input side fails; its output side would never end
    await time.advance(100)
    src.sendNext(2)
    await sink.expectNext(20)
    expect(starts).toEqual([0, 100])
    sink.cancel()
    await expectStopped(time)
  })

  it('cancels upstream as no failure when the flow stops taking input without failing, and keeps its output', async () => {
    const time = new VirtualTime()
    let runs = 0
    const flow = RestartFlow.onFailuresWithBackoff(settings(), () => {
      runs++
      return Flow.fromSinkAndSource(Sink.cancelled<number>(), Source.from([7, 8]))
    })
    const { src, sink } = probed(time, flow)
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    sink.request(5)
    expect(await sink.expectNextN(2)).toEqual([7, 8])
    await sink.expectComplete()
    expect(runs).toBe(1)
    await expectStopped(time)
  })
})

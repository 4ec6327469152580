import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, NoMoreElementsNeeded, RestartSink, Sink, type Logger, type RestartSettings } from '../index.js'

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

const settings = (more: Partial<RestartSettings> = {}): RestartSettings => ({ minBackoff: 100, maxBackoff: 1000, randomFactor: 0, ...more })

describe('RestartSink.withBackoff', () => {
  it('restarts a sink that completes on its own, with growing delays', async () => {
    const time = new VirtualTime()
    const got: number[][] = []
    const starts: number[] = []
    const sink = RestartSink.withBackoff(settings({ maxRestartsWithin: 10_000 }), () => {
      starts.push(time.now())
      const run: number[] = []
      got.push(run)
      return Flow.create<number>()
        .take(2)
        .to(Sink.foreach((x) => void run.push(x)))
    })
    const src = TestSource.probe<number>().to(sink).run(time.materializer)
    src.sendNext(1).sendNext(2).sendNext(3).sendNext(4).sendNext(5)
    await time.advance(1000)
    expect(got).toEqual([[1, 2], [3, 4], [5]])
    expect(starts).toEqual([0, 100, 300])
    src.sendComplete()
    await expectStopped(time)
  })

  it('restarts a failed sink; the element it failed on is lost', async () => {
    const time = new VirtualTime({ logger: quiet })
    const got: number[] = []
    let runs = 0
    const sink = RestartSink.withBackoff(settings(), () => {
      runs++
      return Sink.foreach<number>((x) => {
        if (x === 2) throw new Error('cannot store 2')
        got.push(x)
      })
    })
    const src = TestSource.probe<number>().to(sink).run(time.materializer)
    src.sendNext(1).sendNext(2).sendNext(3)
    await time.advance(100)
    expect(got).toEqual([1, 3])
    expect(runs).toBe(2)
    src.sendComplete()
    await expectStopped(time)
  })

  it('cancels upstream with the wrapped sink’s cause after maxRestarts', async () => {
    const time = new VirtualTime({ logger: quiet })
    const errors: Error[] = []
    const sink = RestartSink.withBackoff(settings({ maxRestarts: 2 }), () =>
      Sink.foreach<number>(() => {
        const e = new Error(`failure ${errors.length}`)
        errors.push(e)
        throw e
      }),
    )
    const src = TestSource.probe<number>().to(sink).run(time.materializer)
    src.sendNext(1).sendNext(2).sendNext(3)
    await time.advance(1000)
    expect(await src.expectCancellation()).toBe(errors[2])
    expect(errors).toHaveLength(3)
    await expectStopped(time)
  })

  it('completes the running sink when upstream completes, and does not restart it', async () => {
    const time = new VirtualTime()
    const results: Promise<number[]>[] = []
    const sink = RestartSink.withBackoff(settings(), () => Sink.seq<number>().mapMaterializedValue((p) => void results.push(p)))
    const src = TestSource.probe<number>().to(sink).run(time.materializer)
    src.sendNext(1).sendNext(2).sendComplete()
    await time.advance(1000)
    expect(results).toHaveLength(1)
    expect(await results[0]).toEqual([1, 2])
    await expectStopped(time)
  })

  it('fails the running sink with upstream’s failure, and does not restart it', async () => {
    const time = new VirtualTime()
    const results: Promise<number[]>[] = []
    const sink = RestartSink.withBackoff(settings(), () => Sink.seq<number>().mapMaterializedValue((p) => void results.push(p)))
    const src = TestSource.probe<number>().to(sink).run(time.materializer)
    const boom = new Error('upstream broke')
    await time.settle()
    src.sendError(boom)
    await time.advance(1000)
    await expect(results[0]).rejects.toBe(boom)
    expect(results).toHaveLength(1)
    await expectStopped(time)
  })

  it('stops at once, releasing its timer, when upstream completes during backoff', async () => {
    const time = new VirtualTime()
    let runs = 0
    const sink = RestartSink.withBackoff(settings(), () => {
      runs++
      return Sink.cancelled<number>()
    })
    const src = TestSource.probe<number>().to(sink).run(time.materializer)
    await time.advance(50)
    expect(time.pendingTimers).toBe(1)
    src.sendComplete()
    await expectStopped(time)
    await time.advance(1000)
    expect(runs).toBe(1)
  })

  it('pulls upstream only for the running sink, and cancels it as no failure when the sinks keep completing', async () => {
    const time = new VirtualTime()
    let runs = 0
    const src = TestSource.probe<number>()
      .to(
        RestartSink.withBackoff(settings({ maxRestarts: 1 }), () => {
          runs++
          return Sink.cancelled<number>()
        }),
      )
      .run(time.materializer)
    await time.advance(50)
    expect(src.pending).toBe(0) // the wrapped sink cancelled without pulling
    await time.advance(50)
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    expect(src.pending).toBe(0)
    expect(runs).toBe(2)
    await expectStopped(time)
  })
})

import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, type SourceProbe, VirtualTime } from '@weir/testkit'
import { InvalidArgumentError, RestartSource, Source, type Logger, type RestartSettings } from '../index.js'

/** A logger that records instead of printing. */
function recordingLogger(): Logger & { readonly warnings: unknown[][] } {
  const warnings: unknown[][] = []
  return { warnings, debug: () => {}, info: () => {}, warn: (...args) => void warnings.push(args), error: () => {} }
}

function setup() {
  const logger = recordingLogger()
  const time = new VirtualTime({ logger })
  return { time, logger }
}

async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

const settings = (more: Partial<RestartSettings> = {}): RestartSettings => ({ minBackoff: 100, maxBackoff: 1000, randomFactor: 0, ...more })

/** A factory of probed sources: each run's probe lands in `probes`, each start time in `starts`. */
function probedFactory(time: VirtualTime) {
  const probes: SourceProbe<number>[] = []
  const starts: number[] = []
  const factory = () => {
    starts.push(time.now())
    return TestSource.probe<number>().mapMaterializedValue((p) => void probes.push(p))
  }
  return { probes, starts, factory }
}

describe('RestartSource.withBackoff', () => {
  it('restarts a completed source after exponentially growing delays with jitter (exact with an injected random)', async () => {
    const { time } = setup()
    const starts: number[] = []
    const random = () => 0.5 // jitter factor 1 + 0.5 · 0.2 = 1.1
    const src = RestartSource.withBackoff(settings({ randomFactor: 0.2, random }), () => {
      starts.push(time.now())
      return Source.single(starts.length)
    })
    const sink = src.runWith(TestSink.probe<number>(), time.materializer)
    sink.request(100)
    await sink.expectNext(1)
    await time.advance(109)
    expect(starts).toEqual([0])
    await time.advance(1)
    await sink.expectNext(2)
    await time.advance(5000)
    // delays 110, 220, 440, 880, then capped: 1000 · 1.1 = 1100
    expect(starts.slice(0, 7)).toEqual([0, 110, 330, 770, 1650, 2750, 3850])
    sink.cancel()
    await expectStopped(time)
  })

  it('uses Math.random for the jitter by default: delays stay within [delay, delay · (1 + randomFactor)]', async () => {
    const { time } = setup()
    const starts: number[] = []
    const src = RestartSource.withBackoff(settings({ randomFactor: 0.5, maxRestarts: 3 }), () => {
      starts.push(time.now())
      return Source.empty<number>()
    })
    const done = src.runWith(TestSink.probe<number>(), time.materializer)
    await time.advance(10_000)
    await done.expectComplete()
    const delays = starts.slice(1).map((t, i) => t - starts[i]!)
    ;[100, 200, 400].forEach((d, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(d)
      expect(delays[i]).toBeLessThanOrEqual(d * 1.5)
    })
    await expectStopped(time)
  })

  it('completes after maxRestarts when the wrapped source keeps completing', async () => {
    const { time } = setup()
    let runs = 0
    const out = RestartSource.withBackoff(settings({ maxRestarts: 2 }), () => Source.single(++runs)).runWith(TestSink.probe<number>(), time.materializer)
    out.request(10)
    await time.advance(10_000)
    expect(await out.expectNextN(3)).toEqual([1, 2, 3])
    await out.expectComplete()
    expect(runs).toBe(3)
    await expectStopped(time)
  })

  it('fails with the last failure after maxRestarts, logging each restart', async () => {
    const { time, logger } = setup()
    const errors: Error[] = []
    const out = RestartSource.withBackoff(settings({ maxRestarts: 2 }), () => {
      const e = new Error(`boom ${errors.length}`)
      errors.push(e)
      return Source.failed<number>(e)
    }).runWith(TestSink.probe<number>(), time.materializer)
    await time.advance(10_000)
    expect(await out.expectError()).toBe(errors[2])
    expect(errors).toHaveLength(3)
    expect(logger.warnings.map((w) => w[1])).toEqual([errors[0], errors[1]])
    await expectStopped(time)
  })

  it('counts restarts within maxRestartsWithin of the latest (re)start, and starts over from minBackoff after a long run', async () => {
    const { time } = setup()
    const { probes, starts, factory } = probedFactory(time)
    const out = RestartSource.withBackoff(settings({ maxBackoff: 10_000, maxRestarts: 2, maxRestartsWithin: 1000 }), factory).runWith(
      TestSink.probe<number>(),
      time.materializer,
    )
    await time.settle()
    probes[0]!.sendComplete() // t=0: restart 1, after 100
    await time.advance(100)
    probes[1]!.sendComplete() // t=100: restart 2, after 200
    await time.advance(200)
    expect(starts).toEqual([0, 100, 300])
    await time.advance(1001) // the third run lasts longer than maxRestartsWithin
    probes[2]!.sendComplete() // t=1301: the count starts over: restart 1, after 100
    await time.advance(100)
    expect(starts).toEqual([0, 100, 300, 1401])
    probes[3]!.sendComplete() // restart 2, after 200
    await time.advance(200)
    probes[4]!.sendComplete() // within the window: maxRestarts reached
    await out.expectComplete()
    expect(starts).toEqual([0, 100, 300, 1401, 1601])
    await expectStopped(time)
  })

  it('stops restarting when maxRestarts is 0', async () => {
    const { time } = setup()
    const boom = new Error('boom')
    const e = await RestartSource.withBackoff(settings({ maxRestarts: 0 }), () => Source.failed<number>(boom))
      .runWith(TestSink.probe<number>(), time.materializer)
      .expectError()
    expect(e).toBe(boom)
    await expectStopped(time)
  })

  it('fails at once on a failure that restartOn rejects', async () => {
    const { time } = setup()
    const fatal = new Error('fatal')
    let runs = 0
    const out = RestartSource.withBackoff(settings({ restartOn: (e) => e !== fatal }), () => (++runs === 1 ? Source.failed<number>(new Error('transient')) : Source.failed<number>(fatal)))
      .runWith(TestSink.probe<number>(), time.materializer)
    await time.advance(1000)
    expect(await out.expectError()).toBe(fatal)
    expect(runs).toBe(2)
    await expectStopped(time)
  })

  it('pulls the wrapped source only on downstream demand, and passes outstanding demand to the next run', async () => {
    const { time } = setup()
    const { probes, factory } = probedFactory(time)
    const out = RestartSource.withBackoff(settings(), factory).runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    expect(probes[0]!.pending).toBe(0)
    out.request(1)
    await probes[0]!.expectRequest()
    probes[0]!.sendNext(7)
    await out.expectNext(7)
    out.request(1)
    await probes[0]!.expectRequest()
    probes[0]!.sendError(new Error('dropped'))
    await time.advance(100)
    await probes[1]!.expectRequest() // the pull made before the failure
    probes[1]!.sendNext(8)
    await out.expectNext(8)
    out.cancel()
    await expectStopped(time)
  })

  it('cancels the running wrapped source with downstream’s cause, and never restarts it', async () => {
    const { time } = setup()
    const { probes, starts, factory } = probedFactory(time)
    const out = RestartSource.withBackoff(settings(), factory).runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    const cause = new Error('client went away')
    out.cancel(cause)
    expect(await probes[0]!.expectCancellation()).toBe(cause)
    await time.advance(10_000)
    expect(starts).toHaveLength(1)
    await expectStopped(time)
  })

  it('stops during backoff when downstream cancels: the timer is released, nothing restarts', async () => {
    const { time } = setup()
    const { probes, starts, factory } = probedFactory(time)
    const out = RestartSource.withBackoff(settings(), factory).runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    probes[0]!.sendError(new Error('boom'))
    await time.advance(50)
    expect(time.pendingTimers).toBe(1)
    out.cancel()
    await expectStopped(time)
    await time.advance(10_000)
    expect(starts).toHaveLength(1)
  })

  it('fails when the factory throws', async () => {
    const { time } = setup()
    const boom = new Error('no source today')
    const e = await RestartSource.withBackoff(settings(), (): Source<number> => {
      throw boom
    })
      .runWith(TestSink.probe<number>(), time.materializer)
      .expectError()
    expect(e).toBe(boom)
    await expectStopped(time)
  })

  it('is a blueprint: each materialization restarts on its own', async () => {
    const { time } = setup()
    let runs = 0
    const src = RestartSource.withBackoff(settings({ maxRestarts: 1 }), () => Source.single(++runs))
    const a = src.runWith(TestSink.probe<number>(), time.materializer)
    const b = src.runWith(TestSink.probe<number>(), time.materializer)
    a.request(5)
    b.request(5)
    await time.advance(1000)
    expect([...(await a.expectNextN(2)), ...(await b.expectNextN(2))].sort()).toEqual([1, 2, 3, 4])
    await a.expectComplete()
    await b.expectComplete()
    await expectStopped(time)
  })
})

describe('RestartSource.onFailuresWithBackoff', () => {
  it('completes when the wrapped source completes', async () => {
    const { time } = setup()
    let runs = 0
    const out = RestartSource.onFailuresWithBackoff(settings(), () => {
      runs++
      return Source.from([1, 2])
    }).runWith(TestSink.probe<number>(), time.materializer)
    out.request(5)
    expect(await out.expectNextN(2)).toEqual([1, 2])
    await out.expectComplete()
    await time.advance(1000)
    expect(runs).toBe(1)
    await expectStopped(time)
  })

  it('restarts after failures, then fails with the last one after maxRestarts', async () => {
    const { time } = setup()
    const { probes, starts, factory } = probedFactory(time)
    const out = RestartSource.onFailuresWithBackoff(settings({ maxRestarts: 1 }), factory).runWith(TestSink.probe<number>(), time.materializer)
    out.request(5)
    await time.settle()
    await probes[0]!.expectRequest()
    probes[0]!.sendNext(1).sendError(new Error('first'))
    await out.expectNext(1)
    await time.advance(100)
    const last = new Error('second')
    probes[1]!.sendNext(2).sendError(last)
    await out.expectNext(2)
    expect(await out.expectError()).toBe(last)
    expect(starts).toEqual([0, 100])
    await expectStopped(time)
  })
})

describe('restart settings', () => {
  it('accepts durations as strings', () => {
    expect(() => RestartSource.withBackoff({ minBackoff: '1s', maxBackoff: '1m', randomFactor: 0.2, maxRestartsWithin: '10s' }, () => Source.empty())).not.toThrow()
  })

  it('rejects bad settings with InvalidArgumentError naming the setting', () => {
    const bad: [Partial<RestartSettings>, string][] = [
      [{ minBackoff: -1 }, 'RestartSource.settings.minBackoff'],
      [{ minBackoff: 'soon' }, 'RestartSource.settings.minBackoff'],
      [{ minBackoff: 'infinite' }, 'RestartSource.settings.minBackoff'],
      [{ maxBackoff: 50 }, 'RestartSource.settings.maxBackoff'],
      [{ maxBackoff: Infinity }, 'RestartSource.settings.maxBackoff'],
      [{ randomFactor: 1.5 }, 'RestartSource.settings.randomFactor'],
      [{ randomFactor: Number.NaN }, 'RestartSource.settings.randomFactor'],
      [{ maxRestarts: -1 }, 'RestartSource.settings.maxRestarts'],
      [{ maxRestarts: 1.5 }, 'RestartSource.settings.maxRestarts'],
      [{ maxRestartsWithin: -5 }, 'RestartSource.settings.maxRestartsWithin'],
    ]
    for (const [more, argument] of bad) {
      let error: unknown
      try {
        RestartSource.withBackoff(settings(more), () => Source.empty())
      } catch (e) {
        error = e
      }
      expect(error, argument).toBeInstanceOf(InvalidArgumentError)
      expect(error).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument })
    }
  })
})

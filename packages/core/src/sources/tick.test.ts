import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, VirtualTime } from '@weir/testkit'
import { InvalidArgumentError, Keep, Sink, Source } from '../index.js'

async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

/** Run a tick source into a sink that records the virtual time of each element. */
function recordTimes(time: VirtualTime, initialDelay: number | string, interval: number | string) {
  const at: number[] = []
  const [cancellable, done] = Source.tick(initialDelay, interval, 'beat')
    .toMat(
      Sink.foreach(() => {
        at.push(time.now())
      }),
      Keep.both,
    )
    .run(time.materializer)
  return { at, cancellable, done }
}

describe('Source.tick', () => {
  it('emits at the initial delay, then every interval', async () => {
    const time = new VirtualTime()
    const probe = Source.tick(0, 100, 'beat').runWith(TestSink.probe<string>(), time.materializer)
    probe.request(10)
    await time.advance(0)
    await probe.expectNext('beat')
    await time.advance(99)
    await probe.expectNoMessage()
    await time.advance(1)
    await probe.expectNext('beat')
    await time.advance(100)
    await probe.expectNext('beat')
    probe.cancel()
    await expectStopped(time)
  })

  it('ticks at exact deadlines (fixed rate)', async () => {
    const time = new VirtualTime()
    const { at, cancellable, done } = recordTimes(time, '50ms', '1s')
    await time.advance(3100)
    expect(at).toEqual([50, 1050, 2050, 3050])
    expect(cancellable.cancel()).toBe(true)
    await done
    await expectStopped(time)
  })

  it('completes when the materialized cancellable is cancelled; a second cancel returns false', async () => {
    const time = new VirtualTime()
    const [cancellable, out] = Source.tick(0, 100, 'beat').toMat(Sink.seq(), Keep.both).run(time.materializer)
    await time.advance(250)
    expect(cancellable.cancel()).toBe(true)
    expect(cancellable.cancel()).toBe(false)
    expect(await out).toEqual(['beat', 'beat', 'beat'])
    await expectStopped(time)
  })

  it('can be cancelled before it starts', async () => {
    const time = new VirtualTime()
    const [cancellable, out] = Source.tick(0, 100, 'beat').toMat(Sink.seq(), Keep.both).run(time.materializer)
    expect(cancellable.cancel()).toBe(true)
    await time.advance(1000)
    expect(await out).toEqual([])
    await expectStopped(time)
  })

  it('drops ticks that find no demand instead of buffering them', async () => {
    const time = new VirtualTime()
    const probe = Source.tick(0, 100, 'beat').runWith(TestSink.probe<string>(), time.materializer)
    await time.advance(1050)
    await probe.expectNoMessage()
    probe.request(5)
    await probe.expectNoMessage()
    await time.advance(50)
    await probe.expectNext('beat')
    await probe.expectNoMessage()
    probe.cancel()
    await expectStopped(time)
  })

  it('stops its timer when downstream cancels; the cancellable then returns false', async () => {
    const time = new VirtualTime()
    const [cancellable, out] = Source.tick(0, 100, 'beat').take(2).toMat(Sink.seq(), Keep.both).run(time.materializer)
    await time.advance(100)
    expect(await out).toEqual(['beat', 'beat'])
    await expectStopped(time)
    expect(cancellable.cancel()).toBe(false)
  })

  it('ticks once with an infinite interval, and never with an infinite initial delay', async () => {
    const time = new VirtualTime()
    const once = recordTimes(time, 10, 'infinite')
    const never = recordTimes(time, 'infinite', 10)
    await time.advance(1e6)
    expect(once.at).toEqual([10])
    expect(never.at).toEqual([])
    expect(time.pendingTimers).toBe(0)
    once.cancellable.cancel()
    never.cancellable.cancel()
    await Promise.all([once.done, never.done])
    await expectStopped(time)
  })

  it('gives each materialization its own schedule', async () => {
    const time = new VirtualTime()
    const ticks = Source.tick(0, 100, 1).take(2)
    const first = ticks.runWith(Sink.seq(), time.materializer)
    await time.advance(50)
    const at: number[] = []
    const second = ticks.runForeach(() => at.push(time.now()), time.materializer)
    await time.advance(200)
    expect(await first).toEqual([1, 1])
    await second
    expect(at).toEqual([50, 150])
    await expectStopped(time)
  })

  it('rejects a bad initial delay or a zero interval when the blueprint is built', () => {
    const argumentOf = (f: () => unknown): unknown => {
      try {
        f()
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidArgumentError)
        return (e as InvalidArgumentError).argument
      }
      return undefined
    }
    expect(argumentOf(() => Source.tick(-1, 100, 'x'))).toBe('initialDelay')
    expect(argumentOf(() => Source.tick('soon', 100, 'x'))).toBe('initialDelay')
    expect(argumentOf(() => Source.tick(0, 0, 'x'))).toBe('interval')
    expect(argumentOf(() => Source.tick(0, 'often', 'x'))).toBe('interval')
  })

})

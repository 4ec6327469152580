import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, Sink, Source } from '../index.js'

/** Every stage stopped and no timer left behind. */
async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

function probed(time: VirtualTime, flow: Flow<number, number[], unknown>) {
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number[]>(), Keep.both).run(time.materializer)
  return { src, sink }
}

const within = (n: number, d: number | string) => Flow.create<number>().groupedWithin(n, d)

describe('groupedWithin', () => {
  it('emits a group as soon as it holds n elements', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(3, 1000))
    sink.request(10)
    src.sendNext(1).sendNext(2).sendNext(3).sendNext(4)
    await sink.expectNext([1, 2, 3])
    await sink.expectNoMessage()
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('emits a partial group exactly when its window ends', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(3, 1000))
    sink.request(10)
    src.sendNext(1)
    await time.advance(500)
    src.sendNext(2)
    await time.advance(499)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext([1, 2])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('never emits an empty group and keeps no timer while idle', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(3, 100))
    sink.request(10)
    await time.advance(10_000)
    await sink.expectNoMessage()
    expect(time.pendingTimers).toBe(0)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('lays windows end to end from materialization', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(3, 100))
    sink.request(10)
    // windows end at 100, 200, 300, …: an element arriving at 250 goes out at 300
    await time.advance(250)
    src.sendNext(1)
    await time.advance(49)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext([1])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('starts a new window when a full group is emitted', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(2, 100))
    sink.request(10)
    await time.advance(30)
    src.sendNext(1).sendNext(2).sendNext(3)
    await sink.expectNext([1, 2])
    // the window restarted at 30: [3] is due at 130, not at 100
    await time.advance(99)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext([3])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('pulls eagerly and backpressures only with a full group and one more element held', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(2, 100))
    await src.expectRequest()
    src.sendNext(1)
    await src.expectRequest()
    src.sendNext(2)
    await src.expectRequest()
    src.sendNext(3)
    await time.advance(1000)
    expect(src.pending).toBe(0)
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext([1, 2])
    // 3 starts the next group (window from now), and upstream is asked again
    await src.expectRequest()
    sink.request(1)
    await time.advance(99)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext([3])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('emits a group whose window ended while downstream backpressured on the next pull, still filling it meanwhile', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(3, 100))
    src.sendNext(1)
    await time.advance(100)
    src.sendNext(2)
    await time.advance(500)
    sink.request(1)
    await sink.expectNext([1, 2])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('emits the open group when upstream completes, then completes', async () => {
    const time = new VirtualTime()
    expect(await Source.from([1, 2, 3, 4, 5]).groupedWithin(2, '1s').runWith(Sink.seq(), time.materializer)).toEqual([[1, 2], [3, 4], [5]])
    await expectStopped(time)
  })

  it('emits a held group and the element after it on completion, each on demand', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(2, 100))
    src.sendNext(1).sendNext(2).sendNext(3).sendComplete()
    await time.advance(10)
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext([1, 2])
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext([3])
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('completes at once when upstream completes with nothing held', async () => {
    const time = new VirtualTime()
    expect(await Source.empty<number>().groupedWithin(2, 100).runWith(Sink.seq(), time.materializer)).toEqual([])
    await expectStopped(time)
  })

  it('fails at once on upstream failure, dropping the open group, and cancels its timer', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(3, 100))
    sink.request(10)
    src.sendNext(1)
    await time.advance(10)
    expect(time.pendingTimers).toBe(1)
    const boom = new Error('boom')
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await expectStopped(time)
  })

  it('cancels upstream with the downstream cause', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, within(3, 100))
    sink.request(10)
    src.sendNext(1)
    await time.advance(10)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
    await expectStopped(time)
  })

  it.each<[string, () => unknown]>([
    ['n', () => Source.single(1).groupedWithin(0, 100)],
    ['n', () => Source.single(1).groupedWithin(1.5, 100)],
    ['interval', () => Source.single(1).groupedWithin(2, 0)],
    ['maxWeight', () => Source.single(1).groupedWeightedWithin(0, 100, () => 1)],
  ])('rejects a bad %s when the blueprint is built', (argument, build) => {
    expect(build).toThrow(InvalidArgumentError)
    try {
      build()
    } catch (e) {
      expect(e).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument })
    }
  })
})

describe('groupedWeightedWithin', () => {
  const weighted = (max: number, d: number) => Flow.create<number>().groupedWeightedWithin(max, d, (x) => x)

  it('cuts a group when the next element would exceed maxWeight, or when it weighs exactly maxWeight', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, weighted(10, 100))
    sink.request(10)
    src.sendNext(4).sendNext(4).sendNext(4)
    await sink.expectNext([4, 4])
    src.sendNext(6)
    await sink.expectNext([4, 6])
    await sink.expectNoMessage()
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('emits an element heavier than maxWeight as a group of its own', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, weighted(10, 100))
    sink.request(10)
    src.sendNext(3).sendNext(15).sendNext(2)
    await sink.expectNext([3])
    await sink.expectNext([15])
    await time.advance(100)
    await sink.expectNext([2])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('still cuts light groups when their window ends', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, weighted(10, 100))
    sink.request(10)
    src.sendNext(1).sendNext(2)
    await time.advance(99)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext([1, 2])
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('fails with InvalidArgumentError on a negative weight', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, weighted(10, 100))
    sink.request(10)
    src.sendNext(-1)
    const err = await sink.expectError()
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(err).toMatchObject({ argument: 'cost', value: -1 })
    expect(await src.expectCancellation()).toBe(err)
    await expectStopped(time)
  })
})

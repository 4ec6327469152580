import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, Sink, Source, Supervision, type Decider } from '../index.js'

/** Every stage stopped and no timer left behind. */
async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

function probed<O>(time: VirtualTime, flow: Flow<number, O, unknown>) {
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<O>(), Keep.both).run(time.materializer)
  return { src, sink }
}

/** Send `xs` one by one, each after upstream asked for it (proving the stage pulls without downstream demand). */
async function sendOnRequest(src: { expectRequest(): Promise<void>; sendNext(x: number): unknown }, ...xs: number[]) {
  for (const x of xs) {
    await src.expectRequest()
    src.sendNext(x)
  }
}

const sum = (a: number, b: number) => a + b

describe('conflate', () => {
  it('passes elements through unchanged while downstream keeps up', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().conflate(sum))
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    sink.request(1)
    src.sendNext(2)
    await sink.expectNext(2)
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('never backpressures and folds what arrives meanwhile into one element for the next pull', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().conflate(sum))
    await sendOnRequest(src, 1, 2, 3)
    await src.expectRequest()
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext(6)
    src.sendNext(4)
    await src.expectRequest()
    sink.request(1)
    await sink.expectNext(4)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('emits the last aggregate after upstream completed, then completes', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().conflate(sum))
    src.sendNext(1).sendNext(2).sendComplete()
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext(3)
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('completes at once when upstream completes with nothing aggregated', async () => {
    const time = new VirtualTime()
    expect(await Source.empty<number>().conflate(sum).runWith(Sink.seq(), time.materializer)).toEqual([])
    await expectStopped(time)
  })

  it('conflateWithSeed starts each aggregate with seed(x)', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(
      time,
      Flow.create<number>().conflateWithSeed(
        (x) => [x],
        (acc, x) => [...acc, x],
      ),
    )
    await sendOnRequest(src, 1, 2, 3)
    sink.request(1)
    await sink.expectNext([1, 2, 3])
    src.sendNext(4)
    sink.request(1)
    await sink.expectNext([4])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  describe('supervision of aggregate', () => {
    const failingOn3 = (a: number, b: number) => {
      if (b === 3) throw new Error('no 3')
      return a + b
    }
    const withDecider = (decider: Decider) => Flow.create<number>().conflate(failingOn3).withSupervision(decider)

    it('fails the stream and cancels upstream with the error under stop', async () => {
      const time = new VirtualTime()
      const { src, sink } = probed(time, withDecider(Supervision.stoppingDecider))
      await sendOnRequest(src, 1, 2, 3)
      const err = await sink.expectError()
      expect(err).toMatchObject({ message: 'no 3' })
      expect(await src.expectCancellation()).toBe(err)
      await expectStopped(time)
    })

    it('drops the element under resume', async () => {
      const time = new VirtualTime()
      const { src, sink } = probed(time, withDecider(Supervision.resumingDecider))
      await sendOnRequest(src, 1, 2, 3, 4)
      await src.expectRequest()
      sink.request(1)
      await sink.expectNext(7)
      sink.cancel()
      await src.expectCancellation()
      await expectStopped(time)
    })

    it('drops the aggregate too under restart', async () => {
      const time = new VirtualTime()
      const { src, sink } = probed(time, withDecider(Supervision.restartingDecider))
      await sendOnRequest(src, 1, 2, 3, 4)
      await src.expectRequest()
      sink.request(1)
      await sink.expectNext(4)
      sink.cancel()
      await src.expectCancellation()
      await expectStopped(time)
    })
  })

  it('fails at once on upstream failure, dropping the aggregate', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().conflate(sum))
    await sendOnRequest(src, 1)
    const boom = new Error('boom')
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await expectStopped(time)
  })
})

describe('batch', () => {
  const toArrays = (max: number) =>
    Flow.create<number>().batch(
      max,
      (x) => [x],
      (acc, x) => [...acc, x],
    )

  it('backpressures once max elements are aggregated and one more waits', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, toArrays(2))
    await sendOnRequest(src, 1, 2, 3)
    await time.advance(10)
    expect(src.pending).toBe(0)
    sink.request(1)
    await sink.expectNext([1, 2])
    // 3 seeds the next batch, and upstream is asked again
    await src.expectRequest()
    src.sendNext(4)
    await src.expectRequest()
    sink.request(1)
    await sink.expectNext([3, 4])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('emits the aggregate and then the waiting element after upstream completed', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, toArrays(2))
    src.sendNext(1).sendNext(2).sendNext(3).sendComplete()
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext([1, 2])
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext([3])
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('cancels upstream with the downstream cause', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, toArrays(2))
    await sendOnRequest(src, 1)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
    await expectStopped(time)
  })

  it('rejects a max below 1 when the blueprint is built', () => {
    expect(() => toArrays(0)).toThrow(InvalidArgumentError)
  })
})

describe('batchWeighted', () => {
  const byWeight = (max: number) =>
    Flow.create<number>().batchWeighted(
      max,
      (x) => x,
      (x) => [x],
      (acc, x) => [...acc, x],
    )

  it('aggregates up to max cost, an element costlier than max forming a batch of its own', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, byWeight(10))
    await sendOnRequest(src, 4, 5, 15)
    await time.advance(10)
    expect(src.pending).toBe(0)
    sink.request(1)
    await sink.expectNext([4, 5])
    await sendOnRequest(src, 1)
    await time.advance(10)
    expect(src.pending).toBe(0)
    sink.request(1)
    await sink.expectNext([15])
    sink.request(1)
    await sink.expectNext([1])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('fails with InvalidArgumentError on a negative cost', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, byWeight(10))
    await sendOnRequest(src, -1)
    expect(await sink.expectError()).toBeInstanceOf(InvalidArgumentError)
    await expectStopped(time)
  })
})

/** An endless repetition of `x` whose closing is recorded in `closed`. */
function repeating(closed: number[]) {
  return function* (x: number) {
    try {
      for (;;) yield x
    } finally {
      closed.push(x)
    }
  }
}

describe('expand', () => {
  it('repeats the last element while downstream is faster, and switches when upstream brings the next', async () => {
    const time = new VirtualTime()
    const closed: number[] = []
    const { src, sink } = probed(time, Flow.create<number>().expand(repeating(closed)))
    src.sendNext(1)
    sink.request(3)
    expect(await sink.expectNextN(3)).toEqual([1, 1, 1])
    src.sendNext(2)
    await sink.expectNoMessage()
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([2, 2])
    // the iterator of 1 was closed when 2 replaced it
    expect(closed).toEqual([1])
    sink.cancel()
    await src.expectCancellation()
    expect(closed).toEqual([1, 2])
    await expectStopped(time)
  })

  it('emits the first element of each iterator before asking upstream for the next element', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().expand(repeating([])))
    await sendOnRequest(src, 1)
    await time.advance(10)
    expect(src.pending).toBe(0)
    sink.request(1)
    await sink.expectNext(1)
    await src.expectRequest()
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('may replace the element, stops at the end of a finite iterator and skips an empty one', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(
      time,
      Flow.create<number>().expand((x) => (x === 0 ? [] : [x * 10, x * 100])),
    )
    sink.request(3)
    src.sendNext(1)
    expect(await sink.expectNextN(2)).toEqual([10, 100])
    await sink.expectNoMessage()
    src.sendNext(0).sendNext(2)
    await sink.expectNext(20)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('on completion still emits the first element owed, drops the rest and closes the iterator', async () => {
    const time = new VirtualTime()
    const closed: number[] = []
    const { src, sink } = probed(time, Flow.create<number>().expand(repeating(closed)))
    src.sendNext(1).sendComplete()
    await sink.expectNoMessage()
    sink.request(5)
    await sink.expectNext(1)
    await sink.expectComplete()
    expect(closed).toEqual([1])
    await expectStopped(time)
  })

  it('completes at once when upstream completes after the expansion started', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().expand(repeating([])))
    src.sendNext(1)
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([1, 1])
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('fails the stream when f throws, even under a resuming decider', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    const flow = Flow.create<number>()
      .expand((): number[] => {
        throw boom
      })
      .withSupervision(Supervision.resumingDecider)
    const { src, sink } = probed(time, flow)
    sink.request(1)
    src.sendNext(1)
    expect(await sink.expectError()).toBe(boom)
    expect(await src.expectCancellation()).toBe(boom)
    await expectStopped(time)
  })

  it('accepts an iterator as well as an iterable', async () => {
    const time = new VirtualTime()
    const out = await Source.single(3)
      .expand((x) => [x, x + 1][Symbol.iterator]())
      .take(1)
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([3])
    await expectStopped(time)
  })
})

describe('extrapolate', () => {
  const plusTenths = (x: number) => [x + 0.1, x + 0.2]

  it('emits every upstream element unchanged and extrapolates from it while downstream is faster', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().extrapolate(plusTenths))
    src.sendNext(1)
    sink.request(4)
    expect(await sink.expectNextN(3)).toEqual([1, 1.1, 1.2])
    await sink.expectNoMessage()
    src.sendNext(2)
    await sink.expectNext(2)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('never drops an upstream element for an extrapolated one', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().extrapolate(plusTenths))
    await sendOnRequest(src, 1)
    await time.advance(10)
    // 1 was not emitted yet: upstream is not asked for 2
    expect(src.pending).toBe(0)
    sink.request(1)
    await sink.expectNext(1)
    await sendOnRequest(src, 2)
    sink.request(1)
    await sink.expectNext(2)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('emits and extrapolates initial before the first upstream element, asking upstream only then', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.create<number>().extrapolate(plusTenths, 0))
    await time.advance(10)
    expect(src.pending).toBe(0)
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([0, 0.1])
    await src.expectRequest()
    src.sendNext(5)
    sink.request(1)
    await sink.expectNext(5)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('emits initial even when upstream completes empty', async () => {
    const time = new VirtualTime()
    expect(await Source.empty<number>().extrapolate(plusTenths, 0).runWith(Sink.seq(), time.materializer)).toEqual([0])
    await expectStopped(time)
  })

  it('completes after the last upstream element, dropping its extrapolation', async () => {
    const time = new VirtualTime()
    expect(await Source.from([1, 2]).extrapolate(plusTenths).runWith(Sink.seq(), time.materializer)).toEqual([1, 2])
    await expectStopped(time)
  })
})

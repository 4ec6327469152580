import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { BufferOverflowError, Flow, InvalidArgumentError, Keep, Sink, Source, type OverflowStrategy } from '../index.js'

/** Every stage stopped and no timer left behind. */
async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

function probed(time: VirtualTime, delay: number | string, overflowStrategy?: OverflowStrategy, bufferSize?: number) {
  const flow = Flow.create<number>().delay(delay, overflowStrategy, bufferSize)
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, sink }
}

describe('delay', () => {
  it('emits each element exactly delay after it arrived, in order', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 100)
    sink.request(10)
    src.sendNext(1)
    await time.advance(50)
    src.sendNext(2)
    await time.advance(49)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext(1)
    await time.advance(49)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext(2)
    src.sendComplete()
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('emits the buffered elements at their deadlines after upstream completed, then completes', async () => {
    const time = new VirtualTime()
    const sink = Source.from([1, 2, 3]).delay('1s').runWith(TestSink.probe<number>(), time.materializer)
    sink.request(3)
    await time.advance(999)
    await sink.expectNoMessage()
    await time.advance(1)
    expect(await sink.expectNextN(3)).toEqual([1, 2, 3])
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('holds due elements until downstream pulls, without a timer while nobody waits', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 100)
    sink.request(1)
    src.sendNext(1).sendNext(2).sendNext(3)
    await time.advance(100)
    await sink.expectNext(1)
    await time.advance(1000)
    await sink.expectNoMessage()
    expect(time.pendingTimers).toBe(0)
    // overdue elements go out on demand at once
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([2, 3])
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('starts pulling on the first demand, then pulls eagerly while the buffer has room', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 100, 'backpressure', 2)
    await time.advance(10)
    expect(src.pending).toBe(0)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1)
    await src.expectRequest()
    src.sendNext(2)
    // the buffer (2) is full: no more demand upstream
    await time.advance(50)
    expect(src.pending).toBe(0)
    await time.advance(50)
    await sink.expectNext(1)
    // room again: upstream is asked for the next element
    await src.expectRequest()
    expect(src.pending).toBe(1)
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it.each<[OverflowStrategy, number[]]>([
    ['dropHead', [2, 3]],
    ['dropTail', [1, 3]],
    ['dropBuffer', [3]],
    ['dropNew', [1, 2]],
  ])('applies %s when an element arrives and the buffer is full', async (strategy, expected) => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 100, strategy, 2)
    sink.request(10)
    src.sendNext(1).sendNext(2).sendNext(3).sendComplete()
    await time.advance(100)
    expect(await sink.expectNextN(expected.length)).toEqual(expected)
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('fails with BufferOverflowError under the fail strategy', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 100, 'fail', 2)
    sink.request(10)
    src.sendNext(1).sendNext(2).sendNext(3)
    const err = await sink.expectError()
    expect(err).toBeInstanceOf(BufferOverflowError)
    expect(err).toMatchObject({ code: 'WEIR_CORE_BUFFER_OVERFLOW', limit: 2 })
    expect(await src.expectCancellation()).toBe(err)
    await expectStopped(time)
  })

  it('defaults to a buffer of 16 with dropTail, as Pekko does', async () => {
    const time = new VirtualTime()
    const result = Source.range(1, 20).delay(100).runWith(Sink.seq(), time.materializer)
    await time.advance(100)
    expect(await result).toEqual([...Array.from({ length: 15 }, (_, i) => i + 1), 20])
    await expectStopped(time)
  })

  it('passes elements at once with a zero delay', async () => {
    const time = new VirtualTime()
    expect(await Source.from([1, 2, 3]).delay(0).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3])
    await expectStopped(time)
  })

  it('fails at once on upstream failure, dropping what it holds', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 100)
    sink.request(10)
    src.sendNext(1)
    await time.advance(10)
    const boom = new Error('boom')
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await expectStopped(time)
  })

  it('cancels upstream with the downstream cause and cancels its timer', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 100)
    sink.request(10)
    src.sendNext(1)
    await time.advance(10)
    expect(time.pendingTimers).toBe(1)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
    await expectStopped(time)
  })

  it.each<[string, () => unknown]>([
    ['delay', () => Source.single(1).delay('infinite')],
    ['delay', () => Source.single(1).delay(-1)],
    ['bufferSize', () => Source.single(1).delay(10, 'dropHead', 0)],
    ['overflowStrategy', () => Source.single(1).delay(10, 'emitEarly' as OverflowStrategy)],
  ])('rejects a bad %s when the blueprint is built', (argument, build) => {
    expect(build).toThrow(InvalidArgumentError)
    try {
      build()
    } catch (e) {
      expect(e).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument })
    }
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { BufferOverflowError, Flow, InvalidArgumentError, Keep, NonFailureCancellation, type OverflowStrategy } from '../index.js'

let time: VirtualTime
beforeEach(() => {
  time = new VirtualTime()
})
afterEach(async () => {
  await assertAllStagesStopped(time.materializer)
})

function probes(size: number, strategy: OverflowStrategy) {
  const flow = Flow.create<number>().buffer(size, strategy)
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, sink }
}

/** Send 1..n while downstream is silent, then drain: the buffer must have kept exactly `kept`. */
async function expectKept(strategy: OverflowStrategy, size: number, n: number, kept: number[]): Promise<void> {
  const { src, sink } = probes(size, strategy)
  for (let i = 1; i <= n; i++) src.sendNext(i)
  await sink.expectNoMessage()
  src.sendComplete()
  sink.request(n)
  expect(await sink.expectNextN(kept.length)).toEqual(kept)
  await sink.expectComplete()
}

describe('buffer', () => {
  it('passes elements through in order and completes after draining', async () => {
    const { src, sink } = probes(4, 'backpressure')
    src.sendNext(1).sendNext(2).sendNext(3).sendComplete()
    await sink.expectNoMessage()
    sink.request(3)
    expect(await sink.expectNextN(3)).toEqual([1, 2, 3])
    await sink.expectComplete()
  })

  it('pulls upstream eagerly before any downstream demand', async () => {
    const { src, sink } = probes(2, 'backpressure')
    await src.expectRequest()
    src.sendNext(1)
    await src.expectRequest()
    await sink.expectNoMessage()
    sink.cancel()
    await src.expectCancellation()
  })

  it('hands an element straight to a waiting downstream', async () => {
    const { src, sink } = probes(2, 'fail')
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    for (let i = 2; i <= 3; i++) src.sendNext(i) // fills the buffer exactly: no overflow
    await sink.expectNoMessage()
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([2, 3])
    src.sendComplete()
    await sink.expectComplete()
  })

  it('backpressure: stops pulling when full and resumes when downstream takes an element', async () => {
    const { src, sink } = probes(3, 'backpressure')
    src.sendNext(1).sendNext(2).sendNext(3)
    await sink.expectNoMessage()
    expect(src.pending).toBe(0) // full: no further pull
    sink.request(1)
    await sink.expectNext(1)
    await time.settle()
    expect(src.pending).toBe(1) // room for one: pulled again
    src.sendNext(4).sendNext(5)
    await time.settle()
    expect(src.pending).toBe(0) // 4 filled it; 5 still waits upstream
    src.sendComplete()
    sink.request(4)
    expect(await sink.expectNextN(4)).toEqual([2, 3, 4, 5])
    await sink.expectComplete()
  })

  it('dropHead: drops the oldest buffered element for each new one', async () => {
    await expectKept('dropHead', 3, 5, [3, 4, 5])
  })

  it('dropTail: replaces the newest buffered element by each new one', async () => {
    await expectKept('dropTail', 3, 5, [1, 2, 5])
  })

  it('dropBuffer: clears the buffer when an element arrives and it is full', async () => {
    await expectKept('dropBuffer', 3, 5, [4, 5])
    await expectKept('dropBuffer', 3, 8, [7, 8])
  })

  it('dropNew: drops the incoming elements while full', async () => {
    await expectKept('dropNew', 3, 5, [1, 2, 3])
  })

  it('fail: fails with BufferOverflowError when an element arrives and it is full', async () => {
    const { src, sink } = probes(3, 'fail')
    for (let i = 1; i <= 4; i++) src.sendNext(i)
    const err = await sink.expectError()
    expect(err).toBeInstanceOf(BufferOverflowError)
    expect(err).toMatchObject({ code: 'WEIR_CORE_BUFFER_OVERFLOW', limit: 3 })
    expect(await src.expectCancellation()).toBe(err)
  })

  it('fails at once when upstream fails, dropping the buffered elements', async () => {
    const { src, sink } = probes(3, 'backpressure')
    const boom = new Error('boom')
    src.sendNext(1).sendNext(2)
    await time.settle()
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
  })

  it('cancels upstream with the cause of the downstream cancellation', async () => {
    const { src, sink } = probes(3, 'dropHead')
    src.sendNext(1)
    await time.settle()
    const cause = new NonFailureCancellation('client-gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
  })

  it('rejects a size below 1 and an unknown strategy', () => {
    expect(() => Flow.create<number>().buffer(0, 'dropHead')).toThrow(InvalidArgumentError)
    try {
      Flow.create<number>().buffer(2, 'dropOldest' as OverflowStrategy)
      expect.unreachable()
    } catch (e) {
      expect(e).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'overflowStrategy', value: 'dropOldest' })
    }
  })
})

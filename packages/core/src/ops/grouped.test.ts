import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, NonFailureCancellation, Sink, Source } from '../index.js'

let time: VirtualTime
beforeEach(() => {
  time = new VirtualTime()
})
afterEach(async () => {
  await assertAllStagesStopped(time.materializer)
})

function probes<T>(flow: Flow<number, T>) {
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<T>(), Keep.both).run(time.materializer)
  return { src, sink }
}

const run = <T>(source: Source<T>): Promise<T[]> => source.runWith(Sink.seq(), time.materializer)
const boom = new Error('boom')

describe('grouped', () => {
  it('chunks elements into arrays of n, the last one shorter', async () => {
    expect(await run(Source.range(1, 5).grouped(2))).toEqual([[1, 2], [3, 4], [5]])
  })

  it('emits no empty group when the stream length is a multiple of n, nor for an empty stream', async () => {
    expect(await run(Source.range(1, 4).grouped(2))).toEqual([
      [1, 2],
      [3, 4],
    ])
    expect(await run(Source.empty<number>().grouped(2))).toEqual([])
  })

  it('pulls only what one group needs, on demand, and emits fresh arrays', async () => {
    const { src, sink } = probes(Flow.create<number>().grouped(2))
    await time.settle()
    expect(src.pending).toBe(0)
    sink.request(1)
    src.sendNext(1).sendNext(2).sendNext(3)
    const first = await sink.expectNext([1, 2])
    await sink.expectNoMessage()
    expect(src.pending).toBe(0) // 3 waits upstream until the next demand
    sink.request(1)
    src.sendComplete()
    const last = await sink.expectNext([3])
    expect(last).not.toBe(first)
    await sink.expectComplete()
  })

  it('emits the partial group at completion only when demanded', async () => {
    const { src, sink } = probes(Flow.create<number>().grouped(3))
    sink.request(1)
    src.sendNext(1).sendNext(2).sendComplete()
    await sink.expectNext([1, 2])
    await sink.expectComplete()
  })

  it('fails at once when upstream fails, dropping the partial group', async () => {
    const { src, sink } = probes(Flow.create<number>().grouped(3))
    sink.request(1)
    src.sendNext(1).sendError(boom)
    expect(await sink.expectError()).toBe(boom)
  })

  it('cancels upstream with the cause of the downstream cancellation', async () => {
    const { src, sink } = probes(Flow.create<number>().grouped(3))
    const cause = new NonFailureCancellation('client-gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
  })

  it('rejects n below 1', () => {
    expect(() => Source.range(1, 3).grouped(0)).toThrow(InvalidArgumentError)
  })
})

describe('sliding', () => {
  it('moves a window of n by one element by default', async () => {
    expect(await run(Source.range(1, 4).sliding(2))).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
    ])
  })

  it('moves the window by step; a last shorter window holds the elements no full window covered', async () => {
    expect(await run(Source.range(1, 4).sliding(3, 2))).toEqual([
      [1, 2, 3],
      [3, 4],
    ])
    expect(await run(Source.range(1, 6).sliding(3, 2))).toEqual([
      [1, 2, 3],
      [3, 4, 5],
      [5, 6],
    ])
  })

  it('emits no extra window when the last full window ends the stream', async () => {
    expect(await run(Source.range(1, 5).sliding(3, 2))).toEqual([
      [1, 2, 3],
      [3, 4, 5],
    ])
    expect(await run(Source.range(1, 3).sliding(3))).toEqual([[1, 2, 3]])
  })

  it('emits one shorter window when the stream has fewer than n elements, none when it is empty', async () => {
    expect(await run(Source.range(1, 2).sliding(3))).toEqual([[1, 2]])
    expect(await run(Source.empty<number>().sliding(3))).toEqual([])
  })

  it('skips the elements between windows when step exceeds n', async () => {
    expect(await run(Source.range(1, 6).sliding(2, 3))).toEqual([
      [1, 2],
      [4, 5],
    ])
    expect(await run(Source.range(1, 7).sliding(2, 3))).toEqual([[1, 2], [4, 5], [7]])
    expect(await run(Source.range(1, 3).sliding(2, 4))).toEqual([[1, 2]])
  })

  it('emits tumbling windows when step equals n', async () => {
    expect(await run(Source.range(1, 5).sliding(2, 2))).toEqual([[1, 2], [3, 4], [5]])
  })

  it('pulls on demand only and never pushes without demand', async () => {
    const { src, sink } = probes(Flow.create<number>().sliding(2))
    sink.request(1)
    src.sendNext(1).sendNext(2).sendNext(3)
    const w1 = await sink.expectNext([1, 2])
    await sink.expectNoMessage()
    expect(src.pending).toBe(0)
    sink.request(1)
    const w2 = await sink.expectNext([2, 3])
    expect(w1).toEqual([1, 2]) // windows are fresh arrays, not a shared buffer
    expect(w2).not.toBe(w1)
    src.sendComplete()
    await sink.expectComplete()
  })

  it('fails at once when upstream fails', async () => {
    const { src, sink } = probes(Flow.create<number>().sliding(3))
    sink.request(1)
    src.sendNext(1).sendError(boom)
    expect(await sink.expectError()).toBe(boom)
  })

  it('cancels upstream with the cause of the downstream cancellation', async () => {
    const { src, sink } = probes(Flow.create<number>().sliding(3))
    const cause = new NonFailureCancellation('client-gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
  })

  it('rejects n or step below 1', () => {
    expect(() => Source.range(1, 3).sliding(0)).toThrow(InvalidArgumentError)
    try {
      Source.range(1, 3).sliding(2, 0)
      expect.unreachable()
    } catch (e) {
      expect(e).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'step', value: 0 })
    }
  })
})

describe('intersperse', () => {
  it('puts the separator between elements', async () => {
    expect(await run(Source.from(['a', 'b', 'c']).intersperse(','))).toEqual(['a', ',', 'b', ',', 'c'])
    expect(await run(Source.from(['a']).intersperse(','))).toEqual(['a'])
  })

  it('adds start and end around the elements', async () => {
    expect(await run(Source.from(['a', 'b']).intersperse(',', { start: '[', end: ']' }))).toEqual(['[', 'a', ',', 'b', ']'])
    expect(await run(Source.from(['a', 'b']).intersperse(',', { start: '[' }))).toEqual(['[', 'a', ',', 'b'])
    expect(await run(Source.from(['a', 'b']).intersperse(',', { end: ']' }))).toEqual(['a', ',', 'b', ']'])
  })

  it('emits start and end for an empty stream, nothing without them', async () => {
    expect(await run(Source.empty<string>().intersperse(',', { start: '[', end: ']' }))).toEqual(['[', ']'])
    expect(await run(Source.empty<string>().intersperse(','))).toEqual([])
  })

  it('pushes the separator and the element on separate demands', async () => {
    const { src, sink } = probes(Flow.create<number>().intersperse(0, { end: -1 }))
    sink.request(1)
    src.sendNext(1).sendNext(2)
    await sink.expectNext(1)
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext(0)
    await sink.expectNoMessage()
    expect(src.pending).toBe(0) // 2 waits inside the stage for the next demand
    src.sendComplete()
    sink.request(1)
    await sink.expectNext(2)
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext(-1)
    await sink.expectComplete()
  })

  it('fails at once when upstream fails', async () => {
    const { src, sink } = probes(Flow.create<number>().intersperse(0, { end: -1 }))
    sink.request(5)
    src.sendNext(1).sendError(boom)
    await sink.expectNext(1)
    expect(await sink.expectError()).toBe(boom)
  })

  it('cancels upstream with the cause of the downstream cancellation', async () => {
    const { src, sink } = probes(Flow.create<number>().intersperse(0))
    sink.request(2)
    src.sendNext(1).sendNext(2)
    expect(await sink.expectNextN(2)).toEqual([1, 0])
    const cause = new NonFailureCancellation('client-gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
  })
})

import { assertAllStagesStopped, TestSink, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AbruptTerminationError,
  BufferOverflowError,
  InvalidArgumentError,
  Keep,
  QueueConcurrencyError,
  Sink,
  Source,
  type BackpressuredOfferResult,
  type QueueOverflowStrategy,
} from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

function queue(bufferSize: number, strategy: QueueOverflowStrategy) {
  const [q, out] = Source.queue<number>(bufferSize, strategy).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { q, out }
}

function backpressured(bufferSize: number, maxConcurrentOffers?: number) {
  const [q, out] = Source.queueBackpressured<number>(bufferSize, maxConcurrentOffers).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { q, out }
}

/** Track a promise: `result()` is undefined until it settled. */
function track<T>(p: Promise<T>): { result(): { value: T } | { error: unknown } | undefined } {
  let r: { value: T } | { error: unknown } | undefined
  p.then(
    (value) => (r = { value }),
    (error: unknown) => (r = { error }),
  )
  return { result: () => r }
}

describe('Source.queue', () => {
  it('emits offered elements in order, only on demand', async () => {
    const { q, out } = queue(4, 'dropNew')
    expect(q.offer(1)).toBe('enqueued')
    expect(q.offer(2)).toBe('enqueued')
    expect(q.size).toBe(2)
    await out.expectNoMessage()
    out.request(1)
    await out.expectNext(1)
    expect(q.size).toBe(1)
    out.request(2)
    await out.expectNext(2)
    expect(q.offer(3)).toBe('enqueued') // downstream is waiting: the offer wakes the stage
    await out.expectNext(3)
    q.complete()
    await out.expectComplete()
    await q.watchCompletion()
  })

  it.each([
    ['dropHead', 'enqueued', [2, 3]],
    ['dropTail', 'enqueued', [1, 3]],
    ['dropBuffer', 'enqueued', [3]],
    ['dropNew', 'dropped', [1, 2]],
  ] as const)('%s: an offer to a full buffer answers %s and leaves %j', async (strategy, answer, left) => {
    const { q, out } = queue(2, strategy)
    expect(q.offer(1)).toBe('enqueued')
    expect(q.offer(2)).toBe('enqueued')
    expect(q.offer(3)).toBe(answer)
    expect(q.size).toBe(left.length)
    q.complete()
    out.request(10)
    expect(await out.expectNextN(left.length)).toEqual(left)
    await out.expectComplete()
  })

  it('fail: an offer to a full buffer fails the stream with BufferOverflowError', async () => {
    const { q, out } = queue(2, 'fail')
    q.offer(1)
    q.offer(2)
    const result = q.offer(3)
    expect(typeof result === 'object' && result.failure instanceof BufferOverflowError).toBe(true)
    const error = (result as { failure: BufferOverflowError }).failure
    expect([error.code, error.limit]).toEqual(['WEIR_CORE_BUFFER_OVERFLOW', 2])
    expect(await out.expectError()).toBe(error)
    expect(q.offer(4)).toEqual({ failure: error })
    await expect(q.watchCompletion()).rejects.toBe(error)
  })

  it('complete() delivers what was offered, then completes; later offers answer closed', async () => {
    const { q, out } = queue(4, 'dropNew')
    q.offer(1)
    q.complete()
    q.complete()
    expect(q.offer(2)).toBe('closed')
    await out.expectNoMessage()
    out.request(1)
    await out.expectNext(1)
    await out.expectComplete()
    await q.watchCompletion()
    expect(q.offer(3)).toBe('closed')
  })

  it('complete() with an empty buffer completes without demand', async () => {
    const { q, out } = queue(4, 'dropNew')
    q.complete()
    await out.expectComplete()
  })

  it('fail(error) fails the stream at once, dropping the buffer; later offers answer the failure', async () => {
    const { q, out } = queue(4, 'dropNew')
    q.offer(1)
    q.fail(boom)
    expect(q.offer(2)).toEqual({ failure: boom })
    expect(await out.expectError()).toBe(boom)
    await expect(q.watchCompletion()).rejects.toBe(boom)
    q.complete() // ignored
    expect(q.offer(3)).toEqual({ failure: boom })
  })

  it('downstream cancelling closes the queue', async () => {
    const { q, out } = queue(4, 'dropNew')
    q.offer(1)
    out.cancel()
    await q.watchCompletion()
    expect(q.offer(2)).toBe('closed')
    expect(q.size).toBe(0)
  })

  it('downstream cancelling with a failure cause fails the queue with it', async () => {
    const { q, out } = queue(4, 'dropNew')
    out.cancel(boom)
    await expect(q.watchCompletion()).rejects.toBe(boom)
    expect(q.offer(1)).toEqual({ failure: boom })
  })

  it('answers with AbruptTerminationError once the stream was torn down', async () => {
    const other = new VirtualTime()
    const q = Source.queue<number>(4, 'dropNew').to(Sink.ignore()).run(other.materializer)
    await other.settle()
    other.materializer.shutdown()
    await expect(q.watchCompletion()).rejects.toBeInstanceOf(AbruptTerminationError)
    const result = q.offer(1)
    expect(typeof result === 'object' && result.failure instanceof AbruptTerminationError).toBe(true)
  })

  it('works with a stream that consumes as fast as it is fed', async () => {
    const [q, done] = Source.queue<number>(8, 'fail').toMat(Sink.seq(), Keep.both).run(time.materializer)
    for (let i = 0; i < 100; i++) {
      expect(q.offer(i)).toBe('enqueued')
      if (i % 8 === 7) await time.settle()
    }
    q.complete()
    expect(await done).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('rejects invalid arguments', () => {
    expect(() => Source.queue(0, 'dropNew')).toThrow(InvalidArgumentError)
    expect(() => Source.queue(4, 'backpressure' as QueueOverflowStrategy)).toThrow(InvalidArgumentError)
  })
})

describe('Source.queueBackpressured', () => {
  it('resolves an offer at once while the buffer has room, and when room frees up otherwise', async () => {
    const { q, out } = backpressured(1)
    expect(await q.offer(1)).toBe('enqueued')
    const second = track(q.offer(2))
    await time.settle()
    expect(second.result()).toBeUndefined()
    out.request(1)
    await out.expectNext(1)
    await time.settle()
    expect(second.result()).toEqual({ value: 'enqueued' })
    expect(q.size).toBe(1)
    out.request(1)
    await out.expectNext(2)
    q.complete()
    await out.expectComplete()
  })

  it('rejects an offer beyond maxConcurrentOffers with QueueConcurrencyError', async () => {
    const { q, out } = backpressured(1, 2)
    await q.offer(1)
    const waiting = [track(q.offer(2)), track(q.offer(3))]
    const error = await q.offer(4).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(QueueConcurrencyError)
    expect([(error as QueueConcurrencyError).code, (error as QueueConcurrencyError).operation, (error as QueueConcurrencyError).limit]).toEqual([
      'WEIR_CORE_QUEUE_CONCURRENCY',
      'offer',
      2,
    ])
    out.request(3)
    expect(await out.expectNextN(3)).toEqual([1, 2, 3])
    for (const w of waiting) expect(w.result()).toEqual({ value: 'enqueued' })
    q.complete()
    await out.expectComplete()
  })

  it('with bufferSize 0 an offer resolves once its element was pushed downstream', async () => {
    const { q, out } = backpressured(0)
    const first = track(q.offer(1))
    await time.settle()
    expect(first.result()).toBeUndefined()
    out.request(1)
    await out.expectNext(1)
    expect(first.result()).toEqual({ value: 'enqueued' })
    out.request(1)
    await time.settle()
    expect(await q.offer(2)).toBe('enqueued') // downstream was already waiting
    await out.expectNext(2)
    q.complete()
    await out.expectComplete()
  })

  it('complete() still delivers waiting offers; later offers answer closed', async () => {
    const { q, out } = backpressured(1)
    await q.offer(1)
    const waiting = track(q.offer(2))
    q.complete()
    expect(await q.offer(3)).toBe('closed')
    out.request(2)
    expect(await out.expectNextN(2)).toEqual([1, 2])
    await out.expectComplete()
    expect(waiting.result()).toEqual({ value: 'enqueued' })
    await q.watchCompletion()
  })

  it('waiting offers answer closed when downstream cancels, and the failure when failed', async () => {
    const cancelled = backpressured(1)
    await cancelled.q.offer(1)
    const closed = cancelled.q.offer(2)
    cancelled.out.cancel()
    expect(await closed).toBe('closed')
    expect(await cancelled.q.offer(3)).toBe('closed')

    const failed = backpressured(1)
    await failed.q.offer(1)
    const failure = failed.q.offer(2)
    failed.q.fail(boom)
    expect(await failure).toEqual({ failure: boom } satisfies BackpressuredOfferResult)
    expect(await failed.out.expectError()).toBe(boom)
    expect(await failed.q.offer(3)).toEqual({ failure: boom })
  })

  it('waiting offers answer AbruptTerminationError when the stream is torn down', async () => {
    const other = new VirtualTime()
    const q = Source.queueBackpressured<number>(1).to(TestSink.probe<number>()).run(other.materializer)
    await q.offer(1)
    const waiting = q.offer(2)
    await other.settle()
    other.materializer.shutdown()
    const result = await waiting
    expect(typeof result === 'object' && result.failure instanceof AbruptTerminationError).toBe(true)
  })

  it('rejects invalid arguments', () => {
    expect(() => Source.queueBackpressured(-1)).toThrow(InvalidArgumentError)
    expect(() => Source.queueBackpressured(1, 0)).toThrow(InvalidArgumentError)
  })
})

import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, RetryFlow, Source, StageProtocolError, type RetryFlowSettings } from '../index.js'

async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

const settings = (more: Partial<RetryFlowSettings> = {}): RetryFlowSettings => ({ minBackoff: 100, maxBackoff: 1000, randomFactor: 0, maxRetries: 10, ...more })

/** A flow that answers `x` with `answer(x)` and records what it was called with, and when. */
function recorded<T>(time: VirtualTime, answer: (x: number) => T) {
  const calls: [number, number][] = []
  const flow = Flow.create<number>().map((x) => {
    calls.push([x, time.now()])
    return answer(x)
  })
  return { calls, flow }
}

describe('RetryFlow.withBackoff', () => {
  it('retries with the element decideRetry returns, after exponentially growing delays', async () => {
    const time = new VirtualTime()
    const { calls, flow } = recorded(time, (x) => x * 2)
    // retry with x + 1 while the answer is below 10
    const retry = RetryFlow.withBackoff(settings({ randomFactor: 0.5, random: () => 0.5 }), flow, (x, out) => (out < 10 ? x + 1 : undefined))
    const out = Source.single(1).via(retry).runWith(TestSink.probe<number>(), time.materializer)
    out.request(1)
    await time.advance(10_000)
    await out.expectNext(10)
    await out.expectComplete()
    // delays 100, 200, 400, 800, each · 1.25
    expect(calls).toEqual([
      [1, 0],
      [2, 125],
      [3, 375],
      [4, 875],
      [5, 1875],
    ])
    await expectStopped(time)
  })

  it('emits the result without asking once maxRetries retries were made', async () => {
    const time = new VirtualTime()
    const { calls, flow } = recorded(time, () => 'failed')
    let asked = 0
    const retry = RetryFlow.withBackoff(settings({ maxRetries: 2 }), flow, (x) => {
      asked++
      return x
    })
    const out = await Source.single(7).via(retry).runWith(TestSink.probe<string>(), time.materializer).request(1)
    await time.advance(1000)
    await out.expectNext('failed')
    expect(calls.map(([x]) => x)).toEqual([7, 7, 7])
    expect(asked).toBe(2)
    await out.expectComplete()
    await expectStopped(time)
  })

  it('starts each upstream element with a fresh retry count and backoff', async () => {
    const time = new VirtualTime()
    const { calls, flow } = recorded(time, (x) => x)
    const retried = new Set<number>()
    // each element is retried once
    const retry = RetryFlow.withBackoff(settings(), flow, (x) => (retried.has(x) ? undefined : (retried.add(x), x)))
    const out = Source.from([1, 2]).via(retry).runWith(TestSink.probe<number>(), time.materializer)
    out.request(2)
    await time.advance(1000)
    expect(await out.expectNextN(2)).toEqual([1, 2])
    expect(calls).toEqual([
      [1, 0],
      [1, 100],
      [2, 100],
      [2, 200],
    ])
    await out.expectComplete()
    await expectStopped(time)
  })

  it('keeps one element in flight: upstream is pulled only after the previous result was emitted', async () => {
    const time = new VirtualTime()
    const { flow } = recorded(time, (x) => x * 10)
    let first = true
    const retry = RetryFlow.withBackoff(settings(), flow, (x) => (first ? ((first = false), x) : undefined))
    const [src, out] = TestSource.probe<number>().via(retry).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    out.request(5)
    await src.expectRequest()
    src.sendNext(1)
    await time.advance(50) // the retry waits for its backoff
    expect(src.pending).toBe(0)
    await time.advance(50)
    await out.expectNext(10)
    await src.expectRequest()
    src.sendNext(2)
    await out.expectNext(20)
    src.sendComplete()
    await out.expectComplete()
    await expectStopped(time)
  })

  it('emits the element in flight before completing when upstream completes', async () => {
    const time = new VirtualTime()
    const { flow } = recorded(time, (x) => x)
    let retries = 0
    const retry = RetryFlow.withBackoff(settings(), flow, (x) => (retries++ < 2 ? x : undefined))
    const [src, out] = TestSource.probe<number>().via(retry).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    out.request(1)
    src.sendNext(5).sendComplete()
    await time.advance(1000)
    await out.expectNext(5)
    await out.expectComplete()
    await expectStopped(time)
  })

  it('stops a pending retry when downstream cancels', async () => {
    const time = new VirtualTime()
    const { calls, flow } = recorded(time, (x) => x)
    const retry = RetryFlow.withBackoff(settings(), flow, (x) => x) // always retry
    const [src, out] = TestSource.probe<number>().via(retry).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    out.request(1)
    src.sendNext(1)
    await time.advance(50)
    out.cancel()
    await src.expectCancellation()
    await expectStopped(time)
    expect(calls).toHaveLength(1)
  })

  it('keeps the wrapped flow’s materialized value', async () => {
    const time = new VirtualTime()
    const flow = Flow.create<number>().mapMaterializedValue(() => 'wrapped')
    const [mat, done] = Source.from([1, 2])
      .viaMat(RetryFlow.withBackoff(settings(), flow, () => undefined), Keep.right)
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    expect(mat).toBe('wrapped')
    done.request(2)
    expect(await done.expectNextN(2)).toEqual([1, 2])
    await done.expectComplete()
    await expectStopped(time)
  })

  it('fails when the wrapped flow is not one-in one-out', async () => {
    const time = new VirtualTime()
    const twice = Flow.create<number>().mapConcat((x) => [x, x])
    const [src, out] = TestSource.probe<number>().via(RetryFlow.withBackoff(settings(), twice, () => undefined)).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    out.request(5)
    src.sendNext(1)
    await out.expectNext(1)
    const e = await out.expectError() // the second answer to 1 arrived with nothing in flight
    expect(await src.expectCancellation()).toBe(e)
    expect(e).toBeInstanceOf(StageProtocolError)
    expect(e).toMatchObject({ code: 'WEIR_CORE_PROTOCOL', port: 'RetryFlow.internalIn' })
    await expectStopped(time)
  })

  it('fails with the error decideRetry throws', async () => {
    const time = new VirtualTime()
    const boom = new Error('cannot decide')
    const retry = RetryFlow.withBackoff(settings(), Flow.create<number>(), () => {
      throw boom
    })
    const out = Source.single(1).via(retry).runWith(TestSink.probe<number>(), time.materializer)
    out.request(1)
    expect(await out.expectError()).toBe(boom)
    await expectStopped(time)
  })

  it('rejects bad settings, naming them', () => {
    expect(() => RetryFlow.withBackoff(settings({ maxRetries: -1 }), Flow.create<number>(), () => undefined)).toThrow(
      expect.objectContaining({ argument: 'RetryFlow.settings.maxRetries' }),
    )
    expect(() => RetryFlow.withBackoff(settings({ minBackoff: 'x' }), Flow.create<number>(), () => undefined)).toThrow(InvalidArgumentError)
  })
})

import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Attributes, InvalidArgumentError, Keep, Sink, Source, type Decider } from '../index.js'

async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

function probed(time: VirtualTime, maxIdle: number | string, inject: () => string = () => 'ka', decider?: Decider) {
  let source = TestSource.probe<string>().keepAlive(maxIdle, inject)
  if (decider !== undefined) source = source.withAttributes(Attributes.supervisionStrategy(decider))
  const [src, sink] = source.toMat(TestSink.probe<string>(), Keep.both).run(time.materializer)
  return { src, sink }
}

describe('keepAlive', () => {
  it('passes upstream elements and completion through', async () => {
    const time = new VirtualTime()
    expect(await Source.from(['a', 'b']).keepAlive(100, () => 'ka').runWith(Sink.seq(), time.materializer)).toEqual(['a', 'b'])
    await expectStopped(time)
  })

  it('injects exactly when downstream has waited maxIdle without an element', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1000)
    sink.request(1)
    await time.advance(999)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext('ka')
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('keeps injecting every maxIdle while upstream stays idle and downstream keeps pulling', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, '1s')
    sink.request(3)
    for (let i = 0; i < 3; i++) {
      await time.advance(999)
      await sink.expectNoMessage()
      await time.advance(1)
      await sink.expectNext('ka')
    }
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('measures idleness from the last element that passed', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1000)
    sink.request(2)
    await time.advance(600)
    src.sendNext('a')
    await sink.expectNext('a')
    // downstream pulled again at 600: the injection is due at 1600
    await time.advance(999)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext('ka')
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('never injects without demand, and injections do not accumulate', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 100)
    await time.advance(10_000)
    await sink.expectNoMessage()
    expect(time.pendingTimers).toBe(0)
    sink.request(1)
    await src.expectRequest()
    await time.advance(100)
    await sink.expectNext('ka')
    await time.advance(1000)
    await sink.expectNoMessage()
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('gives upstream maxIdle to answer a pull that comes after a long backpressure', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1000)
    sink.request(1)
    src.sendNext('a')
    await sink.expectNext('a')
    await time.advance(5000)
    sink.request(1)
    await time.advance(500)
    src.sendNext('b')
    await sink.expectNext('b')
    sink.request(1)
    await time.advance(999)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext('ka')
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('holds an element that arrives after an injection until the next pull, also across completion', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, 1000)
    sink.request(1)
    await time.advance(1000)
    await sink.expectNext('ka')
    // upstream was pulled before the injection: its answer waits for demand
    src.sendNext('a').sendComplete()
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext('a')
    await sink.expectComplete()
    await expectStopped(time)
  })

  it('passes upstream failure and downstream cancellation through and cancels its timer', async () => {
    const time = new VirtualTime()
    const failed = probed(time, 1000)
    failed.sink.request(1)
    await time.advance(10)
    const boom = new Error('boom')
    failed.src.sendError(boom)
    expect(await failed.sink.expectError()).toBe(boom)
    const cancelled = probed(time, 1000)
    cancelled.sink.request(1)
    await time.advance(10)
    const cause = new Error('gone')
    cancelled.sink.cancel(cause)
    expect(await cancelled.src.expectCancellation()).toBe(cause)
    await expectStopped(time)
  })

  it('fails the stream when inject throws under the default (stop) supervision', async () => {
    const time = new VirtualTime()
    const boom = new Error('no heartbeat')
    const { src, sink } = probed(time, 1000, () => {
      throw boom
    })
    sink.request(1)
    await time.advance(1000)
    expect(await sink.expectError()).toBe(boom)
    expect(await src.expectCancellation()).toBe(boom)
    await expectStopped(time)
  })

  it('skips an injection whose inject throws under resume supervision, and tries again maxIdle later', async () => {
    const time = new VirtualTime()
    let calls = 0
    const inject = (): string => {
      if (++calls === 1) throw new Error('flaky')
      return `ka${calls}`
    }
    const { src, sink } = probed(time, 1000, inject, () => 'resume')
    sink.request(1)
    await time.advance(1000)
    await sink.expectNoMessage()
    await time.advance(999)
    await sink.expectNoMessage()
    await time.advance(1)
    await sink.expectNext('ka2')
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('types the output as the union of element and injected types', async () => {
    const time = new VirtualTime()
    const out: Promise<(number | string)[]> = Source.from([1]).keepAlive(10, () => 'ka').runWith(Sink.seq(), time.materializer)
    expect(await out).toEqual([1])
    await expectStopped(time)
  })

  it('rejects a zero or bad maxIdle when the blueprint is built', () => {
    for (const bad of [0, '0s', -1, 'often']) {
      try {
        Source.never().keepAlive(bad, () => 'ka')
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidArgumentError)
        expect((e as InvalidArgumentError).argument).toBe('maxIdle')
      }
    }
  })
})

/**
 * Lifecycle: however a stream ends — completion, failure, cancellation, a timer firing, or the
 * materializer shutting down — it leaves nothing behind: no scheduled timer, no running stage,
 * no async callback that would still be accepted, across async boundaries.
 *
 * Shared contract (checked by `expectClean` after every ending): `assertAllStagesStopped`
 * passes, virtual time holds no pending timer, and moving the clock far ahead changes nothing.
 */
import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, settle, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import {
  CompletionTimeoutError,
  Flow,
  FlowShape,
  GraphStageLogic,
  GraphStageWithMaterializedValue,
  IdleTimeoutError,
  Inlet,
  Keep,
  Outlet,
  Sink,
  Source,
  StreamDetachedError,
  type AsyncCallback,
  type InHandler,
  type OutHandler,
} from './index.js'

async function expectClean(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
  await time.advance(1_000_000)
  expect(time.pendingTimers).toBe(0)
  expect(time.materializer.runningStages()).toEqual([])
}

/** A pass-through stage with its own fixed-rate timer and an async callback (materialized). */
class TickingLogic extends GraphStageLogic implements InHandler, OutHandler {
  readonly poke: AsyncCallback<number>
  ticks = 0
  constructor(readonly flow: FlowShape<number, number>) {
    super(flow)
    this.setHandlers(flow.in, flow.out, this)
    this.poke = this.getAsyncCallback((_n: number) => {})
  }
  override preStart(): void {
    this.scheduleAtFixedRate('tick', 10, 10)
  }
  protected override onTimer(): void {
    this.ticks++
  }
  onPush(): void {
    this.push(this.flow.out, this.grab(this.flow.in))
  }
  onPull(): void {
    this.pull(this.flow.in)
  }
}

class TickingStage extends GraphStageWithMaterializedValue<FlowShape<number, number>, AsyncCallback<number>> {
  readonly shape = new FlowShape(new Inlet<number>('Ticking.in'), new Outlet<number>('Ticking.out'))
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, AsyncCallback<number>] {
    const logic = new TickingLogic(this.shape)
    return [logic, logic.poke]
  }
}

const ticking = () => Flow.fromGraph(new TickingStage())

const graphs: [string, () => Flow<number, number, AsyncCallback<number>>][] = [
  ['a user stage with a timer', () => ticking()],
  ['idleTimeout and keepAlive', () => ticking().idleTimeout(1000).keepAlive(100, () => -1)],
  ['initial, completion and backpressure timeouts', () => ticking().initialTimeout(5000).completionTimeout(10_000).backpressureTimeout(5000)],
  ['takeWithin', () => ticking().takeWithin(10_000)],
  [
    'timers on both sides of async boundaries',
    () => ticking().idleTimeout(1000).async().keepAlive(100, () => -1).async().via(ticking()).completionTimeout(10_000),
  ],
]

function run(time: VirtualTime, flow: Flow<number, number, AsyncCallback<number>>) {
  const [[src, poke], sink] = TestSource.probe<number>().viaMat(flow, Keep.both).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, poke, sink }
}

/** After the stream ended, the user stage's callback is refused. */
async function expectCallbackRefused(poke: AsyncCallback<number>): Promise<void> {
  expect(poke.invoke(1)).toBe(false)
  await expect(poke.invokeWithFeedback(1)).rejects.toBeInstanceOf(StreamDetachedError)
}

describe.each(graphs)('a graph with %s', (_name, flow) => {
  it('leaves nothing behind when it completes', async () => {
    const time = new VirtualTime()
    const { src, poke, sink } = run(time, flow())
    sink.request(10)
    await time.advance(50)
    src.sendNext(1)
    await sink.expectNext(1)
    src.sendComplete()
    await sink.expectComplete()
    await expectClean(time)
    await expectCallbackRefused(poke)
  })

  it('leaves nothing behind when it fails', async () => {
    const time = new VirtualTime()
    const { src, poke, sink } = run(time, flow())
    const boom = new Error('boom')
    sink.request(10)
    await time.advance(50)
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await expectClean(time)
    await expectCallbackRefused(poke)
  })

  it('leaves nothing behind when it is cancelled', async () => {
    const time = new VirtualTime()
    const { src, poke, sink } = run(time, flow())
    sink.request(1)
    await time.advance(50)
    sink.cancel()
    await src.expectCancellation()
    await expectClean(time)
    await expectCallbackRefused(poke)
  })

  it('leaves nothing behind when the materializer shuts down', async () => {
    const time = new VirtualTime()
    const { src, poke, sink } = run(time, flow())
    sink.request(1)
    await time.advance(50)
    expect(time.pendingTimers).toBeGreaterThan(0)
    time.materializer.shutdown()
    await settle(time.materializer)
    expect(sink.isStopped).toBe(true)
    expect(src.end).toBeDefined()
    expect(time.pendingTimers).toBe(0)
    expect(time.materializer.runningStages()).toEqual([])
    await expectCallbackRefused(poke)
  })
})

describe('endings driven by timers', () => {
  it('idleTimeout failing the stream cancels upstream and every timer, across boundaries', async () => {
    const time = new VirtualTime()
    const { src, sink } = run(time, ticking().async().idleTimeout(1000).async().keepAlive(300, () => -1))
    sink.request(1)
    await time.advance(300)
    await sink.expectNext(-1)
    await time.advance(700)
    expect(await sink.expectError()).toBeInstanceOf(IdleTimeoutError)
    expect(await src.expectCancellation()).toBeInstanceOf(IdleTimeoutError)
    await expectClean(time)
  })

  it('takeWithin completing the stream cancels upstream and every timer, across boundaries', async () => {
    const time = new VirtualTime()
    const { src, sink } = run(time, ticking().async().takeWithin(1000).via(ticking()))
    sink.request(5)
    src.sendNext(1)
    await sink.expectNext(1)
    await time.advance(1000)
    await sink.expectComplete()
    await src.expectCancellation()
    await expectClean(time)
  })
})

describe('Source.tick', () => {
  it('completed by take leaves no timer behind', async () => {
    const time = new VirtualTime()
    const out = Source.tick(0, 100, 'x').async().take(3).runWith(Sink.seq(), time.materializer)
    await time.advance(200)
    expect(await out).toEqual(['x', 'x', 'x'])
    await expectClean(time)
  })

  it('stopped through its Cancellable completes and leaves no timer behind', async () => {
    const time = new VirtualTime()
    const [tick, out] = Source.tick(0, 100, 1).async().toMat(Sink.seq(), Keep.both).run(time.materializer)
    await time.advance(250)
    tick.cancel()
    expect(await out).toEqual([1, 1, 1])
    await expectClean(time)
  })

  it('failed by completionTimeout leaves no timer behind', async () => {
    const time = new VirtualTime()
    const out = Source.tick(0, 100, 1).completionTimeout(250).async().runWith(Sink.ignore(), time.materializer)
    await time.advance(250)
    await expect(out).rejects.toBeInstanceOf(CompletionTimeoutError)
    await expectClean(time)
  })

  it('cancelled downstream leaves no timer behind', async () => {
    const time = new VirtualTime()
    const probe = Source.tick(0, 100, 1).async().runWith(TestSink.probe<number>(), time.materializer)
    probe.request(2)
    await time.advance(100)
    expect(await probe.expectNextN(2)).toEqual([1, 1])
    probe.cancel()
    await expectClean(time)
  })

  it('stopped by a materializer shutdown leaves no timer behind', async () => {
    const time = new VirtualTime()
    const out = Source.tick(0, 100, 1).async().idleTimeout(5000).runWith(Sink.ignore(), time.materializer)
    await time.advance(350)
    time.materializer.shutdown()
    await expect(out).rejects.toMatchObject({ code: expect.stringMatching(/^WEIR_CORE_(ABRUPT_TERMINATION|DETACHED)$/) })
    expect(time.pendingTimers).toBe(0)
    expect(time.materializer.runningStages()).toEqual([])
  })
})

/**
 * Specification of the GraphStageLogic API, through stages written the way users write them
 * (timers, async callbacks and keep-going: GraphStageLogic.external.test.ts).
 *
 * Shared contract: push only after a pull, pull once until an element arrived, grab only an
 * available element — misuse fails the stage at once with a StageProtocolError naming the port;
 * `emit` queues behind demand and defers `complete`; a throwing handler fails the stage;
 * `postStop` runs exactly once; cancellation causes travel upstream intact.
 * Every test ends with every stage stopped and no timer left behind.
 */
import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, settle, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import {
  Flow,
  FlowShape,
  GraphStage,
  GraphStageLogic,
  GraphStageWithMaterializedValue,
  Inlet,
  isNonFailureCancellation,
  Keep,
  NoMoreElementsNeeded,
  NonFailureCancellation,
  Outlet,
  Sink,
  Source,
  StageProtocolError,
  type InHandler,
  type Materializer,
  type OutHandler,
} from '../index.js'

async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

/** Probe → flow → probe on virtual time. */
function probed<M>(time: VirtualTime, flow: Flow<number, number, M>) {
  const [[src, mat], sink] = TestSource.probe<number>()
    .viaMat(flow, Keep.both)
    .toMat(TestSink.probe<number>(), Keep.both)
    .run(time.materializer)
  return { src, mat, sink }
}

// ---- protocol misuse ----

type Misuse = 'push twice' | 'push before pull' | 'pull twice' | 'grab with nothing available' | 'pull a closed port'

class MisuseLogic extends GraphStageLogic implements InHandler, OutHandler {
  constructor(
    readonly flow: FlowShape<number, number>,
    readonly misuse: Misuse,
  ) {
    super(flow)
    this.setHandlers(flow.in, flow.out, this)
  }
  override preStart(): void {
    if (this.misuse === 'push before pull') this.push(this.flow.out, 0)
  }
  onPull(): void {
    const { in: inlet, out } = this.flow
    if (this.misuse === 'push twice') {
      this.push(out, 1)
      this.push(out, 2)
    } else if (this.misuse === 'grab with nothing available') this.grab(inlet)
    else {
      this.pull(inlet)
      if (this.misuse === 'pull twice') this.pull(inlet)
    }
  }
  onPush(): void {
    this.push(this.flow.out, this.grab(this.flow.in))
  }
  onUpstreamFinish(): void {
    if (this.misuse === 'pull a closed port') this.pull(this.flow.in)
    else this.completeStage()
  }
}

class MisuseStage extends GraphStage<FlowShape<number, number>> {
  readonly shape = new FlowShape(new Inlet<number>('Misuse.in'), new Outlet<number>('Misuse.out'))
  constructor(readonly misuse: Misuse) {
    super()
  }
  createLogic(): GraphStageLogic {
    return new MisuseLogic(this.shape, this.misuse)
  }
}

describe('port protocol', () => {
  const cases: [Misuse, string, string][] = [
    ['push twice', 'Misuse.out', 'push'],
    ['push before pull', 'Misuse.out', 'push'],
    ['pull twice', 'Misuse.in', 'pull'],
    ['grab with nothing available', 'Misuse.in', 'grab'],
    ['pull a closed port', 'Misuse.in', 'pull'],
  ]
  it.each(cases)('%s fails the stage at once with StageProtocolError naming %s', async (misuse, port, operation) => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.fromGraph(new MisuseStage(misuse)))
    sink.request(1)
    if (misuse === 'push twice') await sink.expectNext(1)
    if (misuse === 'pull a closed port') src.sendComplete()
    const error = await sink.expectError()
    expect(error).toBeInstanceOf(StageProtocolError)
    expect(error).toMatchObject({ code: 'WEIR_CORE_PROTOCOL', port, operation })
    if (misuse !== 'pull a closed port') expect(await src.expectCancellation()).toBe(error)
    await expectStopped(time)
  })
})

/** Records what the port queries answer at each step of the protocol. */
class QueryLogic extends GraphStageLogic implements InHandler, OutHandler {
  constructor(
    readonly flow: FlowShape<number, number>,
    readonly seen: string[],
  ) {
    super(flow)
    this.setHandlers(flow.in, flow.out, this)
  }
  #note(step: string): void {
    const { in: i, out: o } = this.flow
    this.seen.push(`${step}: pulled=${this.hasBeenPulled(i)} in=${this.isAvailable(i)} out=${this.isAvailable(o)} closed=${this.isClosed(i)}`)
  }
  override preStart(): void {
    this.#note('start')
  }
  onPull(): void {
    this.#note('onPull')
    this.pull(this.flow.in)
    this.#note('pulled')
  }
  onPush(): void {
    this.#note('onPush')
    const x = this.grab(this.flow.in)
    this.#note('grabbed')
    this.push(this.flow.out, x)
    this.#note('pushed')
  }
  onUpstreamFinish(): void {
    this.#note('finished')
    this.completeStage()
  }
}

class QueryStage extends GraphStageWithMaterializedValue<FlowShape<number, number>, string[]> {
  readonly shape = new FlowShape(new Inlet<number>('Query.in'), new Outlet<number>('Query.out'))
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, string[]] {
    const seen: string[] = []
    return [new QueryLogic(this.shape, seen), seen]
  }
}

describe('port queries', () => {
  it('hasBeenPulled, isAvailable and isClosed follow the protocol', async () => {
    const time = new VirtualTime()
    const { src, mat: seen, sink } = probed(time, Flow.fromGraph(new QueryStage()))
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1)
    await sink.expectNext(1)
    src.sendComplete()
    await sink.expectComplete()
    expect(seen).toEqual([
      'start: pulled=false in=false out=false closed=false',
      'onPull: pulled=false in=false out=true closed=false',
      'pulled: pulled=true in=false out=true closed=false',
      'onPush: pulled=false in=true out=true closed=false',
      'grabbed: pulled=false in=false out=true closed=false',
      'pushed: pulled=false in=false out=false closed=false',
      'finished: pulled=false in=false out=false closed=true',
    ])
    await expectStopped(time)
  })
})

// ---- emit ----

/** Emits x, x+1, x+2 for every x, logging when each group went out. */
class TripleLogic extends GraphStageLogic implements InHandler, OutHandler {
  constructor(
    readonly flow: FlowShape<number, number>,
    readonly record: string[],
  ) {
    super(flow)
    this.setHandlers(flow.in, flow.out, this)
  }
  onPush(): void {
    const x = this.grab(this.flow.in)
    this.emitMultiple(this.flow.out, [x, x + 1], () => this.emit(this.flow.out, x + 2, () => this.record.push(`sent ${x}`)))
    this.record.push(`emitting=${this.isEmitting(this.flow.out)}`)
  }
  onPull(): void {
    this.pull(this.flow.in)
  }
}

class TripleStage extends GraphStageWithMaterializedValue<FlowShape<number, number>, string[]> {
  readonly shape = new FlowShape(new Inlet<number>('Triple.in'), new Outlet<number>('Triple.out'))
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, string[]] {
    const log: string[] = []
    return [new TripleLogic(this.shape, log), log]
  }
}

describe('emit and emitMultiple', () => {
  it('deliver in order, one element per pull, and run andThen after the last one went out', async () => {
    const time = new VirtualTime()
    const { src, mat: log, sink } = probed(time, Flow.fromGraph(new TripleStage()))
    sink.request(1)
    await src.expectRequest()
    src.sendNext(10)
    await sink.expectNext(10)
    await sink.expectNoMessage()
    expect(log).toEqual(['emitting=true'])
    sink.request(1)
    await sink.expectNext(11)
    expect(log).toEqual(['emitting=true'])
    sink.request(1)
    await sink.expectNext(12)
    expect(log).toEqual(['emitting=true', 'sent 10'])
    expect(src.pending).toBe(0)
    sink.request(1)
    await src.expectRequest()
    sink.cancel()
    await src.expectCancellation()
    await expectStopped(time)
  })

  it('defers complete until the emitted elements went out', async () => {
    const time = new VirtualTime()
    const { src, sink } = probed(time, Flow.fromGraph(new TripleStage()))
    sink.request(1)
    src.sendNext(1).sendComplete()
    await sink.expectNext(1)
    await sink.expectNoMessage()
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([2, 3])
    await sink.expectComplete()
    await expectStopped(time)
  })
})

// ---- postStop, failures and cancellation causes ----

interface Watch {
  stops: number
  cause: unknown
}

/** Passes elements through; counts postStop; with `recordCause`, overrides onDownstreamFinish to record the cause. */
class WatchLogic extends GraphStageLogic implements InHandler, OutHandler {
  constructor(
    readonly flow: FlowShape<number, number>,
    readonly watch: Watch,
    readonly boom: Error | undefined,
  ) {
    super(flow)
    this.setHandlers(flow.in, flow.out, this)
  }
  onPush(): void {
    const x = this.grab(this.flow.in)
    if (this.boom !== undefined) throw this.boom
    this.push(this.flow.out, x)
  }
  onPull(): void {
    this.pull(this.flow.in)
  }
  override postStop(): void {
    this.watch.stops++
  }
}

class RecordingLogic extends WatchLogic {
  onDownstreamFinish(cause: unknown): void {
    this.watch.cause = cause
    this.cancelStage(cause)
  }
}

class WatchStage extends GraphStageWithMaterializedValue<FlowShape<number, number>, Watch> {
  readonly shape = new FlowShape(new Inlet<number>('Watch.in'), new Outlet<number>('Watch.out'))
  constructor(readonly options: { boom?: Error; recordCause?: boolean } = {}) {
    super()
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Watch] {
    const watch: Watch = { stops: 0, cause: undefined }
    const Logic = this.options.recordCause === true ? RecordingLogic : WatchLogic
    return [new Logic(this.shape, watch, this.options.boom), watch]
  }
}

const watch = (options?: { boom?: Error; recordCause?: boolean }) => Flow.fromGraph(new WatchStage(options))

describe('postStop', () => {
  const endings: [string, (m: Materializer) => Watch][] = [
    ['completion', (m) => Source.from([1, 2]).viaMat(watch(), Keep.right).to(Sink.ignore()).run(m)],
    ['failure', (m) => Source.failed<number>(new Error('up')).viaMat(watch(), Keep.right).to(Sink.ignore()).run(m)],
    ['cancellation', (m) => Source.repeat(1).viaMat(watch(), Keep.right).take(2).to(Sink.ignore()).run(m)],
    ['a failing handler', (m) => Source.from([1]).viaMat(watch({ boom: new Error('boom') }), Keep.right).to(Sink.ignore()).run(m)],
  ]
  it.each(endings)('runs exactly once on %s', async (_name, run) => {
    const time = new VirtualTime()
    const w = run(time.materializer)
    await expectStopped(time)
    expect(w.stops).toBe(1)
  })

  it('runs exactly once when the materializer shuts down', async () => {
    const time = new VirtualTime()
    const w = Source.never<number>().viaMat(watch(), Keep.right).to(Sink.ignore()).run(time.materializer)
    await settle(time.materializer)
    expect(w.stops).toBe(0)
    time.materializer.shutdown()
    await settle(time.materializer)
    expect(w.stops).toBe(1)
    expect(time.materializer.runningStages()).toEqual([])
  })
})

type Where = 'preStart' | 'onPull' | 'onUpstreamFinish' | 'an async callback' | 'onTimer'

/** Throws `boom` from the handler named by `where`; otherwise passes elements through. */
class ThrowingLogic extends GraphStageLogic implements InHandler, OutHandler {
  constructor(
    readonly flow: FlowShape<number, number>,
    readonly where: Where,
    readonly boom: Error,
  ) {
    super(flow)
    this.setHandlers(flow.in, flow.out, this)
  }
  #throwIf(where: Where): void {
    if (this.where === where) throw this.boom
  }
  override preStart(): void {
    this.#throwIf('preStart')
    if (this.where === 'onTimer') this.scheduleOnce('t', 10)
    if (this.where === 'an async callback') this.getAsyncCallback(() => this.#throwIf('an async callback')).invoke()
  }
  protected override onTimer(): void {
    this.#throwIf('onTimer')
  }
  onPush(): void {
    this.push(this.flow.out, this.grab(this.flow.in))
  }
  onPull(): void {
    this.#throwIf('onPull')
    this.pull(this.flow.in)
  }
  onUpstreamFinish(): void {
    this.#throwIf('onUpstreamFinish')
    this.completeStage()
  }
}

class ThrowingStage extends GraphStage<FlowShape<number, number>> {
  readonly shape = new FlowShape(new Inlet<number>('Throwing.in'), new Outlet<number>('Throwing.out'))
  constructor(
    readonly where: Where,
    readonly boom: Error,
  ) {
    super()
  }
  createLogic(): GraphStageLogic {
    return new ThrowingLogic(this.shape, this.where, this.boom)
  }
}

describe('a handler that throws', () => {
  it('in onPush fails the stage: the error reaches downstream and cancels upstream', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    const { src, mat: w, sink } = probed(time, watch({ boom }))
    sink.request(1)
    src.sendNext(1)
    expect(await sink.expectError()).toBe(boom)
    expect(await src.expectCancellation()).toBe(boom)
    await expectStopped(time)
    expect(w.stops).toBe(1)
  })

  it.each<Where>(['preStart', 'onPull', 'an async callback', 'onTimer'])('in %s fails the stage the same way', async (where) => {
    const time = new VirtualTime()
    const boom = new Error(where)
    const { src, sink } = probed(time, Flow.fromGraph(new ThrowingStage(where, boom)))
    sink.request(1)
    await time.advance(10)
    expect(await sink.expectError()).toBe(boom)
    expect(await src.expectCancellation()).toBe(boom)
    await expectStopped(time)
  })

  it('in onUpstreamFinish fails downstream with the error', async () => {
    const time = new VirtualTime()
    const boom = new Error('finish')
    const { src, sink } = probed(time, Flow.fromGraph(new ThrowingStage('onUpstreamFinish', boom)))
    src.sendComplete()
    expect(await sink.expectError()).toBe(boom)
    await expectStopped(time)
  })
})

class ClientWentAway extends NonFailureCancellation {
  constructor() {
    super('client-went-away')
  }
}

describe('cancellation causes', () => {
  const causes: [string, unknown, boolean][] = [
    ['NoMoreElementsNeeded', NoMoreElementsNeeded, true],
    ['a NonFailureCancellation subclass', new ClientWentAway(), true],
    ['a failure', new Error('downstream broke'), false],
  ]
  describe.each([true, false])('operatorFusion %s', (operatorFusion) => {
    it.each(causes)('travel upstream intact through default handlers: %s', async (_name, cause, nonFailure) => {
      const time = new VirtualTime({ operatorFusion })
      const flow = watch().map((x) => x + 1).via(watch()).filter(() => true)
      const { src, sink } = probed(time, flow)
      sink.request(1)
      src.sendNext(1)
      await sink.expectNext(2)
      sink.cancel(cause)
      const seen = await src.expectCancellation()
      expect(seen).toBe(cause)
      expect(isNonFailureCancellation(seen)).toBe(nonFailure)
      await expectStopped(time)
    })
  })

  it('reach an overridden onDownstreamFinish unchanged', async () => {
    const time = new VirtualTime()
    const cause = new ClientWentAway()
    const { src, mat: w, sink } = probed(time, watch({ recordCause: true }))
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
    expect(w.cause).toBe(cause)
    await expectStopped(time)
  })
})

// ---- the user-written stage documented in GraphStage.ts ----

class EveryNthLogic<T> extends GraphStageLogic implements InHandler, OutHandler {
  #seen = 0
  constructor(
    readonly flow: FlowShape<T, T>,
    readonly n: number,
  ) {
    super(flow)
    this.setHandlers(flow.in, flow.out, this)
  }
  onPush(): void {
    const x = this.grab(this.flow.in)
    if (++this.#seen % this.n === 0) this.push(this.flow.out, x)
    else this.pull(this.flow.in)
  }
  onPull(): void {
    this.pull(this.flow.in)
  }
}

class EveryNth<T> extends GraphStage<FlowShape<T, T>> {
  readonly shape = new FlowShape(new Inlet<T>('EveryNth.in'), new Outlet<T>('EveryNth.out'))
  constructor(readonly n: number) {
    super()
  }
  createLogic(): GraphStageLogic {
    return new EveryNthLogic(this.shape, this.n)
  }
}

describe('the EveryNth example of GraphStage.ts', () => {
  it('passes on every n-th element, as documented, and each materialization counts afresh', async () => {
    const time = new VirtualTime()
    const everyThird = Flow.fromGraph(new EveryNth<number>(3))
    expect(await Source.range(1, 10).via(everyThird).runWith(Sink.seq(), time.materializer)).toEqual([3, 6, 9])
    expect(await Source.range(1, 10).via(everyThird).runWith(Sink.seq(), time.materializer)).toEqual([3, 6, 9])
    await expectStopped(time)
  })
})

/**
 * Specification of the GraphStageLogic API for events from outside the island: keyed timers,
 * async callbacks, and keep-going while a stage waits for them (stages written as users write them).
 *
 * Shared contract: timers are keyed and fire at exact deadlines (fixed rate never drifts, fixed
 * delay counts from the handled tick); scheduling a key again replaces its timer, and the stale
 * tick of a replaced or cancelled timer is dropped even if it already fired; every timer is
 * cancelled when the stage stops. Async callbacks invoked before start are delivered after
 * `preStart`; after stop they are refused (`invoke` returns false, `invokeWithFeedback` rejects
 * with StreamDetachedError). Every test ends with every stage stopped and no timer left behind.
 */
import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, settle, TestSink, VirtualTime } from '@weir/testkit'
import {
  Attributes,
  GraphStageLogic,
  GraphStageWithMaterializedValue,
  Inlet,
  Keep,
  Materializer,
  Outlet,
  Sink,
  SinkShape,
  Source,
  SourceShape,
  StreamDetachedError,
  type AsyncCallback,
  type Cancellable,
  type InHandler,
  type OutHandler,
  type Scheduler,
} from '../index.js'

async function expectStopped(time: VirtualTime): Promise<void> {
  await assertAllStagesStopped(time.materializer)
  expect(time.pendingTimers).toBe(0)
}

// ---- timers ----

type Fired = [key: string, at: number][]
interface TimerScript {
  start(l: TimerLogic): void
  tick?(l: TimerLogic, key: string): void
}

class TimerLogic extends GraphStageLogic implements OutHandler {
  constructor(
    shape: SourceShape<never>,
    readonly script: TimerScript,
    readonly fired: Fired,
  ) {
    super(shape)
    this.setHandler(shape.out, this)
  }
  override preStart(): void {
    this.script.start(this)
  }
  protected override onTimer(key: unknown): void {
    this.fired.push([key as string, this.now()])
    this.script.tick?.(this, key as string)
  }
  onPull(): void {}
}

class TimerStage extends GraphStageWithMaterializedValue<SourceShape<never>, Fired> {
  readonly shape = new SourceShape(new Outlet<never>('Timers.out'))
  constructor(readonly script: TimerScript) {
    super()
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Fired] {
    const fired: Fired = []
    return [new TimerLogic(this.shape, this.script, fired), fired]
  }
}

function runTimers(materializer: Materializer, script: TimerScript) {
  const [fired, sink] = Source.fromGraph(new TimerStage(script)).toMat(TestSink.probe<never>(), Keep.both).run(materializer)
  return { fired, sink }
}

/** A scheduler that fires every task `lateBy` ms after its deadline, as a busy event loop would. */
class LateClock implements Scheduler {
  #now = 0
  #seq = 0
  readonly #tasks: { at: number; seq: number; run: (() => void) | undefined }[] = []
  readonly materializer: Materializer = Materializer.create({ scheduler: this })
  constructor(readonly lateBy: number) {}
  now(): number {
    return this.#now
  }
  scheduleOnce(delayMs: number, task: () => void): Cancellable {
    const t = { at: this.#now + Math.max(0, delayMs) + this.lateBy, seq: this.#seq++, run: task as (() => void) | undefined }
    this.#tasks.push(t)
    return { cancel: () => (t.run === undefined ? false : ((t.run = undefined), true)) }
  }
  /** Fire due tasks up to `target`; with `together`, tasks due at one instant all fire before the streams react. */
  async advanceTo(target: number, together = false): Promise<void> {
    await settle(this.materializer)
    for (;;) {
      const due = this.#tasks.filter((t) => t.run !== undefined && t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)
      if (due.length === 0) break
      const group = together ? due.filter((t) => t.at === due[0]!.at) : [due[0]!]
      this.#now = due[0]!.at
      for (const t of group) {
        const run = t.run!
        t.run = undefined
        run()
      }
      await settle(this.materializer)
    }
    this.#now = target
  }
}

describe('keyed timers', () => {
  it('scheduleOnce fires onTimer once, at the deadline', async () => {
    const time = new VirtualTime()
    const { fired, sink } = runTimers(time.materializer, { start: (l) => l.scheduleOnce('a', 100) })
    await time.advance(99)
    expect(fired).toEqual([])
    await time.advance(1)
    expect(fired).toEqual([['a', 100]])
    await time.advance(1000)
    expect(fired).toEqual([['a', 100]])
    expect(time.pendingTimers).toBe(0)
    sink.cancel()
    await expectStopped(time)
  })

  it('scheduleAtFixedRate fires at the initial delay, then at every interval', async () => {
    const time = new VirtualTime()
    const { fired, sink } = runTimers(time.materializer, { start: (l) => l.scheduleAtFixedRate('r', 50, 100) })
    await time.advance(350)
    expect(fired).toEqual([['r', 50], ['r', 150], ['r', 250], ['r', 350]])
    sink.cancel()
    await expectStopped(time)
  })

  it('scheduleAtFixedRate keeps exact deadlines when ticks are handled late (no drift)', async () => {
    const clock = new LateClock(5)
    const { fired, sink } = runTimers(clock.materializer, { start: (l) => l.scheduleAtFixedRate('r', 50, 100) })
    await clock.advanceTo(300)
    expect(fired).toEqual([['r', 55], ['r', 155], ['r', 255]])
    sink.cancel()
    await assertAllStagesStopped(clock.materializer)
  })

  it('scheduleWithFixedDelay waits the delay after each handled tick', async () => {
    const clock = new LateClock(5)
    const { fired, sink } = runTimers(clock.materializer, { start: (l) => l.scheduleWithFixedDelay('d', 50, 100) })
    await clock.advanceTo(300)
    expect(fired).toEqual([['d', 55], ['d', 160], ['d', 265]])
    sink.cancel()
    await assertAllStagesStopped(clock.materializer)
  })

  it('cancelTimer stops a timer before it fires', async () => {
    const time = new VirtualTime()
    const { fired, sink } = runTimers(time.materializer, {
      start: (l) => {
        l.scheduleOnce('a', 100)
        l.scheduleOnce('c', 50)
      },
      tick: (l, key) => {
        if (key === 'c') l.cancelTimer('a')
      },
    })
    await time.advance(500)
    expect(fired).toEqual([['c', 50]])
    expect(time.pendingTimers).toBe(0)
    sink.cancel()
    await expectStopped(time)
  })

  it('scheduling a key again replaces the timer (the old deadline passes silently)', async () => {
    const time = new VirtualTime()
    const { fired, sink } = runTimers(time.materializer, {
      start: (l) => {
        l.scheduleOnce('a', 100)
        l.scheduleOnce('x', 50)
      },
      tick: (l, key) => {
        if (key === 'x') l.scheduleOnce('a', 100)
      },
    })
    await time.advance(500)
    expect(fired).toEqual([['x', 50], ['a', 150]])
    sink.cancel()
    await expectStopped(time)
  })

  it('drops the stale tick of a timer that fired but was replaced or cancelled before its tick was handled', async () => {
    const clock = new LateClock(0)
    const { fired, sink } = runTimers(clock.materializer, {
      start: (l) => {
        l.scheduleOnce('x', 100)
        l.scheduleOnce('replaced', 100)
        l.scheduleOnce('cancelled', 100)
      },
      tick: (l, key) => {
        if (key !== 'x') return
        l.scheduleOnce('replaced', 100)
        l.cancelTimer('cancelled')
      },
    })
    await clock.advanceTo(100, true)
    expect(fired).toEqual([['x', 100]])
    await clock.advanceTo(300, true)
    expect(fired).toEqual([['x', 100], ['replaced', 200]])
    sink.cancel()
    await assertAllStagesStopped(clock.materializer)
  })

  it('keeps every key apart whichever timer leaves first, and counts them (one timer is kept without a Map)', async () => {
    const time = new VirtualTime()
    const seen: [active: number, a: boolean, b: boolean, c: boolean][] = []
    const look = (l: TimerLogic): void => void seen.push([l.activeTimers, l.isTimerActive('a'), l.isTimerActive('b'), l.isTimerActive('c')])
    const { fired, sink } = runTimers(time.materializer, {
      start: (l) => {
        l.scheduleOnce('a', 10) // the first timer
        l.scheduleOnce('b', 30) // the others
        l.scheduleOnce('c', 40)
        look(l)
      },
      tick: (l, key) => {
        if (key === 'a') {
          look(l) // 'a' left: the first place is free while 'b' and 'c' wait elsewhere
          l.scheduleOnce('b', 5) // replaces 'b' (it must not stay in two places)
          l.scheduleOnce(Number.NaN as unknown as string, 15) // keys compare as a Map compares them
          look(l)
        }
        if (key === 'b') {
          l.cancelTimer(Number.NaN as unknown as string)
          look(l)
        }
      },
    })
    await time.advance(100)
    expect(fired).toEqual([['a', 10], ['b', 15], ['c', 40]])
    expect(seen).toEqual([
      [3, true, true, true],
      [2, false, true, true],
      [3, false, true, true],
      [1, false, false, true],
    ])
    expect(time.pendingTimers).toBe(0)
    sink.cancel()
    await expectStopped(time)
  })

  it('cancels every timer when the stage stops (onTimer never runs after stop)', async () => {
    const time = new VirtualTime()
    const { fired, sink } = runTimers(time.materializer, {
      start: (l) => {
        l.scheduleAtFixedRate('r', 10, 10)
        l.scheduleOnce('o', 1000)
      },
    })
    await time.advance(20)
    sink.cancel()
    await expectStopped(time)
    await time.advance(5000)
    expect(fired).toEqual([['r', 10], ['r', 20]])
  })
})

// ---- async callbacks ----

type Command = number | 'stop' | Error
interface CallbackHandle {
  readonly cb: AsyncCallback<Command>
  readonly events: string[]
}

class CallbackLogic extends GraphStageLogic implements OutHandler {
  readonly cb: AsyncCallback<Command>
  constructor(
    readonly src: SourceShape<number>,
    readonly events: string[],
    early: number | undefined,
  ) {
    super(src)
    this.setHandler(src.out, this)
    this.cb = this.getAsyncCallback((c: Command) => {
      this.events.push(`cb ${String(c)}`)
      if (c instanceof Error) throw c
      if (c === 'stop') this.completeStage()
      else this.emit(this.src.out, c)
    })
    if (early !== undefined) this.cb.invoke(early)
  }
  override preStart(): void {
    this.events.push('preStart')
  }
  onPull(): void {}
  override postStop(): void {
    this.events.push('postStop')
  }
}

class CallbackStage extends GraphStageWithMaterializedValue<SourceShape<number>, CallbackHandle> {
  readonly shape = new SourceShape(new Outlet<number>('Callback.out'))
  constructor(readonly early?: number) {
    super()
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, CallbackHandle] {
    const events: string[] = []
    const logic = new CallbackLogic(this.shape, events, this.early)
    return [logic, { cb: logic.cb, events }]
  }
}

function runCallback(time: VirtualTime, early?: number) {
  const [h, sink] = Source.fromGraph(new CallbackStage(early)).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { ...h, sink }
}

describe('getAsyncCallback', () => {
  it('buffers an invocation made before the logic is attached, and delivers it after preStart', async () => {
    const time = new VirtualTime()
    const { events, sink } = runCallback(time, 7)
    await sink.requestNext(7)
    expect(events).toEqual(['preStart', 'cb 7'])
    sink.cancel()
    await expectStopped(time)
  })

  it('accepts an invocation right after run(), before the stream started, and delivers it after preStart', async () => {
    const time = new VirtualTime()
    const { cb, events, sink } = runCallback(time)
    expect(cb.invoke(1)).toBe(true)
    expect(events).toEqual([])
    await sink.requestNext(1)
    expect(events).toEqual(['preStart', 'cb 1'])
    sink.cancel()
    await expectStopped(time)
  })

  it('runs a plain function handler with the logic as `this` (one function can serve every instance)', async () => {
    const time = new VirtualTime()
    const seen: unknown[] = []
    function handler(this: GraphStageLogic, n: number): void {
      seen.push(this instanceof ThisLogic ? `logic ${n}` : `other ${n}`)
    }
    class ThisLogic extends GraphStageLogic implements OutHandler {
      readonly cb = this.getAsyncCallback(handler)
      constructor(shape: SourceShape<never>) {
        super(shape)
        this.setHandler(shape.out, this)
        this.cb.invoke(1) // before the logic is attached
      }
      onPull(): void {}
    }
    class ThisStage extends GraphStageWithMaterializedValue<SourceShape<never>, AsyncCallback<number>> {
      readonly shape = new SourceShape(new Outlet<never>('This.out'))
      createLogicAndMaterializedValue(): readonly [GraphStageLogic, AsyncCallback<number>] {
        const l = new ThisLogic(this.shape)
        return [l, l.cb]
      }
    }
    const [cb, sink] = Source.fromGraph(new ThisStage()).toMat(TestSink.probe<never>(), Keep.both).run(time.materializer)
    await settle(time.materializer)
    cb.invoke(2)
    await cb.invokeWithFeedback(3)
    expect(seen).toEqual(['logic 1', 'logic 2', 'logic 3'])
    sink.cancel()
    await expectStopped(time)
  })

  it('runs the handler inside the stage while the stream runs; invokeWithFeedback resolves after it ran', async () => {
    const time = new VirtualTime()
    const { cb, events, sink } = runCallback(time)
    sink.request(2)
    await settle(time.materializer)
    expect(cb.invoke(1)).toBe(true)
    await sink.expectNext(1)
    await cb.invokeWithFeedback(2)
    expect(events).toContain('cb 2')
    await sink.expectNext(2)
    sink.cancel()
    await expectStopped(time)
  })

  it('refuses invocations after the stage stopped: invoke returns false, invokeWithFeedback rejects with StreamDetachedError', async () => {
    const time = new VirtualTime()
    const { cb, events, sink } = runCallback(time)
    cb.invoke('stop')
    await sink.expectComplete()
    await expectStopped(time)
    expect(cb.invoke(1)).toBe(false)
    const error = await cb.invokeWithFeedback(1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StreamDetachedError)
    expect(error).toMatchObject({ code: 'WEIR_CORE_DETACHED' })
    expect(events).toEqual(['preStart', 'cb stop', 'postStop'])
  })

  it('rejects a pending invokeWithFeedback with StreamDetachedError when the stage stops before the handler ran', async () => {
    const time = new VirtualTime()
    const { cb, events, sink } = runCallback(time)
    cb.invoke('stop')
    const error = await cb.invokeWithFeedback(1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StreamDetachedError)
    await sink.expectComplete()
    expect(events).not.toContain('cb 1')
    await expectStopped(time)
  })

  it('settles invokeWithFeedback with a rejection when the handler throws (the stage fails with the error)', async () => {
    const time = new VirtualTime()
    const { cb, sink } = runCallback(time)
    const boom = new Error('handler broke')
    let outcome: unknown = 'pending'
    cb.invokeWithFeedback(boom).then(
      () => (outcome = 'resolved'),
      (e: unknown) => (outcome = e),
    )
    expect(await sink.expectError()).toBe(boom)
    await expectStopped(time)
    expect(outcome).not.toBe('pending')
    expect(outcome === boom || outcome instanceof StreamDetachedError).toBe(true)
  })
})

// ---- setKeepGoing ----

interface KeepGoingHandle {
  readonly release: AsyncCallback<void>
  readonly events: string[]
}

class KeepGoingLogic extends GraphStageLogic implements InHandler {
  readonly release: AsyncCallback<void>
  constructor(
    readonly sink: SinkShape<number>,
    readonly keepGoing: boolean,
    readonly events: string[],
  ) {
    super(sink)
    this.setHandler(sink.in, this)
    this.release = this.getAsyncCallback(() => {
      this.events.push('released')
      this.setKeepGoing(false)
    })
  }
  override preStart(): void {
    this.setKeepGoing(this.keepGoing)
    this.pull(this.sink.in)
  }
  onPush(): void {
    this.grab(this.sink.in)
    this.pull(this.sink.in)
  }
  onUpstreamFinish(): void {
    this.events.push('upstream finished')
  }
  override postStop(): void {
    this.events.push('postStop')
  }
}

class KeepGoingStage extends GraphStageWithMaterializedValue<SinkShape<number>, KeepGoingHandle> {
  readonly shape = new SinkShape(new Inlet<number>('KeepGoing.in'))
  constructor(readonly keepGoing: boolean) {
    super()
  }
  override get initialAttributes(): Attributes {
    return Attributes.named('KeepGoing')
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, KeepGoingHandle] {
    const events: string[] = []
    const logic = new KeepGoingLogic(this.shape, this.keepGoing, events)
    return [logic, { release: logic.release, events }]
  }
}

describe('setKeepGoing', () => {
  it('keeps a stage whose ports all closed running until keep-going is turned off', async () => {
    const time = new VirtualTime()
    const { release, events } = Source.from([1, 2]).runWith(Sink.fromGraph(new KeepGoingStage(true)), time.materializer)
    await settle(time.materializer)
    expect(events).toEqual(['upstream finished'])
    expect(time.materializer.runningStages()).toEqual(['KeepGoing'])
    expect(release.invoke()).toBe(true)
    await expectStopped(time)
    expect(events).toEqual(['upstream finished', 'released', 'postStop'])
  })

  it('without it, a stage stops as soon as its last port closed', async () => {
    const time = new VirtualTime()
    const { release, events } = Source.from([1, 2]).runWith(Sink.fromGraph(new KeepGoingStage(false)), time.materializer)
    await expectStopped(time)
    expect(events).toEqual(['upstream finished', 'postStop'])
    expect(release.invoke()).toBe(false)
  })
})


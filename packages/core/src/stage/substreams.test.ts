import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import {
  Attributes,
  Flow,
  FlowShape,
  GraphStage,
  GraphStageLogic,
  GraphStageWithMaterializedValue,
  Inlet,
  Keep,
  NoMoreElementsNeeded,
  Outlet,
  Sink,
  Source,
  SourceShape,
  StreamDetachedError,
  SubSinkInlet,
  SubSourceOutlet,
  SubstreamMaterializationError,
  type NotUsed,
} from '../index.js'

// ---- test stages ----

interface ExposeOptions {
  /** Close the sub-source explicitly when the input ends (otherwise leave it to the owner-stop backstop). */
  readonly explicit: boolean
  /** Subscription timeout in ms (owner timer), if any. */
  readonly timeoutMs?: number
}

/** Remembers what the owner saw, for assertions. */
class OwnerLog {
  cancelCause: unknown = undefined
  timedOut: boolean | undefined = undefined
}

/**
 * Emits one element: a Source exposing its own input through a SubSourceOutlet. Pulls its input
 * only when the sub-source's consumer pulls.
 */
class ExposeLogic<T> extends GraphStageLogic {
  readonly sub: SubSourceOutlet<T>
  constructor(
    readonly flowShape: FlowShape<T, Source<T>>,
    readonly options: ExposeOptions,
    readonly ownerLog: OwnerLog,
  ) {
    super(flowShape)
    const log = ownerLog
    const { in: inlet, out } = flowShape
    const sub = (this.sub = new SubSourceOutlet<T>(this, 'Expose.sub'))
    sub.setHandler({
      onPull: () => this.pull(inlet),
      onDownstreamFinish: (cause) => {
        log.cancelCause = cause
        this.cancelStage(cause)
      },
    })
    this.setHandler(out, {
      onPull: () => {
        this.push(out, sub.source)
        this.complete(out)
      },
    })
    this.setHandler(inlet, {
      onPush: () => sub.push(this.grab(inlet)),
      onUpstreamFinish: () => {
        if (options.explicit) sub.complete()
        this.completeStage()
      },
      onUpstreamFailure: (e) => {
        if (options.explicit) sub.fail(e)
        this.failStage(e)
      },
    })
  }
  override preStart(): void {
    if (this.options.timeoutMs !== undefined) this.scheduleOnce('subscription', this.options.timeoutMs)
  }
  protected override onTimer(): void {
    this.ownerLog.timedOut = this.sub.timeout(this.options.timeoutMs!)
  }
}

class Expose<T> extends GraphStage<FlowShape<T, Source<T>>> {
  readonly shape = new FlowShape(new Inlet<T>('Expose.in'), new Outlet<Source<T>>('Expose.out'))
  constructor(
    readonly options: ExposeOptions,
    readonly log = new OwnerLog(),
  ) {
    super()
  }
  override get initialAttributes(): Attributes {
    return Attributes.named('Expose')
  }
  createLogic(): GraphStageLogic {
    return new ExposeLogic(this.shape, this.options, this.log)
  }
}

const expose = <T>(options: ExposeOptions = { explicit: true }, log?: OwnerLog): Flow<T, Source<T>> =>
  Flow.fromGraph(new Expose<T>(options, log))

/**
 * A source whose elements come from a SubSinkInlet; its materialized value is the sub-inlet's
 * Sink, for the test to run whatever it likes into it.
 */
class DrainLogic<T> extends GraphStageLogic {
  readonly sub: SubSinkInlet<T>
  constructor(shape: SourceShape<T>, explicit: boolean) {
    super(shape)
    const out = shape.out
    const sub = (this.sub = new SubSinkInlet<T>(this, 'Drain.sub'))
    sub.setHandler({ onPush: () => this.push(out, sub.grab()) })
    this.setHandler(out, {
      onPull: () => sub.pull(),
      onDownstreamFinish: (cause) => {
        if (explicit) sub.cancel(cause)
        this.cancelStage(cause)
      },
    })
  }
}

class Drain<T> extends GraphStageWithMaterializedValue<SourceShape<T>, Sink<T, NotUsed>> {
  readonly shape = new SourceShape(new Outlet<T>('Drain.out'))
  constructor(readonly explicit: boolean) {
    super()
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Sink<T, NotUsed>] {
    const logic = new DrainLogic<T>(this.shape, this.explicit)
    return [logic, logic.sub.sink]
  }
}

const drain = <T>(explicit = true): Source<T, Sink<T, NotUsed>> => Source.fromGraph(new Drain<T>(explicit))

// ---- specifications ----

describe('SubSourceOutlet', () => {
  it('exposes elements to a graph run later, separately, with the consumer’s demand controlling the pushes', async () => {
    const time = new VirtualTime()
    const [upstream, sourceP] = TestSource.probe<number>().via(expose()).toMat(Sink.head(), Keep.both).run(time.materializer)
    const source = await sourceP
    await time.settle()
    expect(upstream.pending).toBe(0) // nobody consumes the sub-source yet: the owner never pulls

    const inner = source.runWith(TestSink.probe<number>(), time.materializer)
    await inner.expectNoMessage()
    expect(upstream.pending).toBe(0) // materialized, but no demand yet

    inner.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await inner.expectNext(1)
    await inner.expectNoMessage()
    await time.settle()
    expect(upstream.pending).toBe(0) // one element per pull, no read-ahead

    inner.request(2)
    await upstream.expectRequest()
    upstream.sendNext(2)
    await upstream.expectRequest()
    upstream.sendNext(3)
    expect(await inner.expectNextN(2)).toEqual([2, 3])

    upstream.sendComplete()
    await inner.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('can be materialized within the same run that received it', async () => {
    const time = new VirtualTime()
    let inner: Promise<number[]> | undefined
    const done = Source.from([1, 2, 3])
      .via(expose())
      .runForeach((src) => {
        inner = src.runWith(Sink.seq(), time.materializer)
      }, time.materializer)
    await time.settle()
    await done
    expect(await inner).toEqual([1, 2, 3])
    await assertAllStagesStopped(time.materializer)
  })

  it('tells the owner about a cancellation from inside, with its cause', async () => {
    const time = new VirtualTime()
    const log = new OwnerLog()
    const [upstream, sourceP] = TestSource.probe<number>().via(expose({ explicit: true }, log)).toMat(Sink.head(), Keep.both).run(time.materializer)
    const inner = (await sourceP).runWith(TestSink.probe<number>(), time.materializer)
    inner.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await inner.expectNext(1)

    const cause = new Error('consumer went away')
    inner.cancel(cause)
    expect(await upstream.expectCancellation()).toBe(cause) // the owner's handler cancelled with the same cause
    expect(log.cancelCause).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('passes a non-failure cancellation (take) through as such', async () => {
    const time = new VirtualTime()
    const log = new OwnerLog()
    const src = await Source.repeat(7).via(expose({ explicit: true }, log)).runWith(Sink.head(), time.materializer)
    expect(await src.take(2).runWith(Sink.seq(), time.materializer)).toEqual([7, 7])
    await time.settle()
    expect(log.cancelCause).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails the inner source with the owner’s failure', async () => {
    const time = new VirtualTime()
    const [upstream, sourceP] = TestSource.probe<number>().via(expose()).toMat(Sink.head(), Keep.both).run(time.materializer)
    const inner = (await sourceP).runWith(TestSink.probe<number>(), time.materializer)
    const boom = new Error('boom')
    upstream.sendError(boom)
    expect(await inner.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('delivers a completion given before the source was materialized', async () => {
    const time = new VirtualTime()
    const [upstream, sourceP] = TestSource.probe<number>().via(expose()).toMat(Sink.head(), Keep.both).run(time.materializer)
    const source = await sourceP
    upstream.sendComplete()
    await time.settle()
    expect(time.materializer.runningStages()).toEqual([]) // the owner stopped; nothing of the sub-source runs yet
    expect(await source.runWith(Sink.seq(), time.materializer)).toEqual([])
    await assertAllStagesStopped(time.materializer)
  })

  it('fails the inner source when the owner stops without closing it', async () => {
    const time = new VirtualTime()
    const [upstream, sourceP] = TestSource.probe<number>().via(expose({ explicit: false })).toMat(Sink.head(), Keep.both).run(time.materializer)
    const inner = (await sourceP).runWith(TestSink.probe<number>(), time.materializer)
    inner.request(5)
    await upstream.expectRequest()
    upstream.sendComplete() // the owner completes its stage but forgets its sub-source
    const e = await inner.expectError()
    expect(e).toBeInstanceOf(StreamDetachedError)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails a second materialization with SubstreamMaterializationError and leaves the first one working', async () => {
    const time = new VirtualTime()
    const [upstream, sourceP] = TestSource.probe<number>().via(expose()).toMat(Sink.head(), Keep.both).run(time.materializer)
    const source = await sourceP
    const first = source.runWith(TestSink.probe<number>(), time.materializer)
    const second = source.runWith(TestSink.probe<number>(), time.materializer)
    const e = await second.expectError()
    expect(e).toBeInstanceOf(SubstreamMaterializationError)
    expect((e as SubstreamMaterializationError).code).toBe('WEIR_CORE_SUBSTREAM')
    expect((e as SubstreamMaterializationError).port).toBe('Expose.sub')

    first.request(1)
    await upstream.expectRequest()
    upstream.sendNext(42)
    await first.expectNext(42)
    upstream.sendComplete()
    await first.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('times out when not materialized within the owner’s subscription timeout', async () => {
    const time = new VirtualTime()
    const log = new OwnerLog()
    const [upstream, sourceP] = TestSource.probe<number>()
      .via(expose({ explicit: true, timeoutMs: 1000 }, log))
      .toMat(Sink.head(), Keep.both)
      .run(time.materializer)
    const source = await sourceP
    await time.advance(999)
    expect(log.timedOut).toBeUndefined()
    await time.advance(1)
    expect(log.timedOut).toBe(true)

    const late = source.runWith(TestSink.probe<number>(), time.materializer)
    const e = await late.expectError()
    expect(e).toBeInstanceOf(SubstreamMaterializationError)
    upstream.sendComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('does not time out once materialized', async () => {
    const time = new VirtualTime()
    const log = new OwnerLog()
    const [upstream, sourceP] = TestSource.probe<number>()
      .via(expose({ explicit: true, timeoutMs: 1000 }, log))
      .toMat(Sink.head(), Keep.both)
      .run(time.materializer)
    const inner = (await sourceP).runWith(TestSink.probe<number>(), time.materializer)
    await time.advance(1000)
    expect(log.timedOut).toBe(false)
    inner.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1).sendComplete()
    await inner.expectNext(1)
    await inner.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('rejects a push without a pull, naming the port', async () => {
    const time = new VirtualTime()
    class Eager extends GraphStage<SourceShape<number>> {
      readonly shape = new SourceShape(new Outlet<number>('Eager.out'))
      createLogic(): GraphStageLogic {
        return new EagerLogic(this.shape)
      }
    }
    const out = await Source.fromGraph(new Eager()).runWith(Sink.head(), time.materializer).catch((e: unknown) => e)
    expect(out).toMatchObject({ code: 'WEIR_CORE_PROTOCOL', port: 'Eager.sub', operation: 'push' })
    await assertAllStagesStopped(time.materializer)
  })
})

class EagerLogic extends GraphStageLogic {
  constructor(shape: SourceShape<number>) {
    super(shape)
    const sub = new SubSourceOutlet<number>(this, 'Eager.sub')
    sub.setHandler({ onPull: () => {} })
    this.setHandler(shape.out, { onPull: () => sub.push(1) })
  }
}

describe('SubSinkInlet', () => {
  it('feeds the owner from a graph run later, pulling only on the owner’s demand', async () => {
    const time = new VirtualTime()
    const [sink, out] = drain<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    out.request(1) // the owner pulls its sub-inlet before anything is materialized: remembered
    await out.expectNoMessage()

    const upstream = TestSource.probe<number>().to(sink).run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await out.expectNext(1)
    await time.settle()
    expect(upstream.pending).toBe(0) // no demand beyond the owner's

    out.request(2)
    await upstream.expectRequest()
    upstream.sendNext(2)
    await upstream.expectRequest()
    upstream.sendNext(3)
    expect(await out.expectNextN(2)).toEqual([2, 3])
    upstream.sendComplete()
    await out.expectComplete() // default handler: the owner completes
    await assertAllStagesStopped(time.materializer)
  })

  it('refuses a second materialization of its sink, also one asked for after the first ran (the owner keeps its stream)', async () => {
    const time = new VirtualTime()
    let logic: DrainLogic<number> | undefined
    class Capture extends Drain<number> {
      override createLogicAndMaterializedValue(): readonly [GraphStageLogic, Sink<number, NotUsed>] {
        const r = super.createLogicAndMaterializedValue()
        logic = r[0] as DrainLogic<number>
        return r
      }
    }
    const [sink, out] = Source.fromGraph(new Capture(true)).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    const first = TestSource.probe<number>().to(sink).run(time.materializer)
    const again = TestSource.probe<number>().to(sink).run(time.materializer)
    const cause = await again.expectCancellation()
    expect(cause).toBeInstanceOf(SubstreamMaterializationError)
    expect((cause as Error).message).toContain('materialized more than once')
    // the blueprint is not kept once it ran: asking again gives a new one, refused the same way
    const later = TestSource.probe<number>().to(logic!.sub.sink).run(time.materializer)
    expect(await later.expectCancellation()).toBeInstanceOf(SubstreamMaterializationError)
    out.request(1)
    await first.expectRequest()
    first.sendNext(7)
    await out.expectNext(7)
    first.sendComplete()
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('fails the owner (default handler) with the inner producer’s failure', async () => {
    const time = new VirtualTime()
    const [sink, out] = drain<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    const boom = new Error('boom')
    Source.failed<number>(boom).to(sink).run(time.materializer)
    expect(await out.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels the inner producer with the owner’s cause', async () => {
    const time = new VirtualTime()
    const [sink, out] = drain<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    const upstream = TestSource.probe<number>().to(sink).run(time.materializer)
    const cause = new Error('client went away')
    out.cancel(cause)
    expect(await upstream.expectCancellation()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels an inner producer materialized after the owner cancelled', async () => {
    const time = new VirtualTime()
    const [sink, out] = drain<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    out.cancel()
    await time.settle()
    const upstream = TestSource.probe<number>().to(sink).run(time.materializer)
    expect(await upstream.expectCancellation()).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels the inner producer with StreamDetachedError when the owner stops without cancelling it', async () => {
    const time = new VirtualTime()
    const [sink, out] = drain<number>(false).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    const upstream = TestSource.probe<number>().to(sink).run(time.materializer)
    out.cancel()
    expect(await upstream.expectCancellation()).toBeInstanceOf(StreamDetachedError)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails a second materialization with SubstreamMaterializationError', async () => {
    const time = new VirtualTime()
    const [sink, out] = drain<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    const first = TestSource.probe<number>().to(sink).run(time.materializer)
    const second = TestSource.probe<number>().to(sink).run(time.materializer)
    const cause = await second.expectCancellation()
    expect(cause).toBeInstanceOf(SubstreamMaterializationError)
    expect((cause as SubstreamMaterializationError).code).toBe('WEIR_CORE_SUBSTREAM')

    out.request(1)
    await first.expectRequest()
    first.sendNext(5).sendComplete()
    await out.expectNext(5)
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('tells the owner when the inner stage is torn down (materializer shutdown)', async () => {
    const time = new VirtualTime()
    const other = new VirtualTime()
    const [sink, out] = drain<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    Source.never<number>().to(sink).run(other.materializer)
    await other.settle()
    other.materializer.shutdown()
    expect(await out.expectError()).toBeInstanceOf(StreamDetachedError)
    await assertAllStagesStopped(time.materializer)
  })
})

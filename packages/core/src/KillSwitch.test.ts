import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { Flow, isNonFailureCancellation, Keep, KillSwitches, Sink, Source, UniqueKillSwitch, type SharedKillSwitch } from './index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** probe → single kill switch → probe. */
function killable() {
  const [[src, kill], sink] = TestSource.probe<number>()
    .viaMat(KillSwitches.single(), Keep.both)
    .toMat(TestSink.probe<number>(), Keep.both)
    .run(time.materializer)
  return { src, kill, sink }
}

describe('KillSwitches.single', () => {
  it('passes elements, completion and demand through until triggered', async () => {
    const { src, kill, sink } = killable()
    expect(kill).toBeInstanceOf(UniqueKillSwitch)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1)
    await sink.expectNext(1)
    await sink.expectNoMessage()
    expect(src.pending).toBe(0)
    sink.request(1)
    src.sendNext(2).sendComplete()
    await sink.expectNext(2)
    await sink.expectComplete()
  })

  it('shutdown completes downstream and cancels upstream with a non-failure cause', async () => {
    const { src, kill, sink } = killable()
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    kill.shutdown()
    await sink.expectComplete()
    expect(isNonFailureCancellation(await src.expectCancellation())).toBe(true)
  })

  it('abort fails downstream and cancels upstream with the error', async () => {
    const { src, kill, sink } = killable()
    sink.request(1)
    await src.expectRequest()
    kill.abort(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await src.expectCancellation()).toBe(boom)
  })

  it('shutdown before the stream started stops it as soon as it starts', async () => {
    const { src, kill, sink } = killable()
    kill.shutdown()
    await sink.expectComplete()
    expect(isNonFailureCancellation(await src.expectCancellation())).toBe(true)
  })

  it('abort before the stream started fails it as soon as it starts', async () => {
    const { src, kill, sink } = killable()
    kill.abort(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await src.expectCancellation()).toBe(boom)
  })

  it('only the first trigger counts', async () => {
    const { src, kill, sink } = killable()
    kill.shutdown()
    kill.abort(boom)
    await sink.expectComplete()
    expect(isNonFailureCancellation(await src.expectCancellation())).toBe(true)
  })

  it('is harmless once the stream has ended', async () => {
    const [kill, xs] = Source.from([1, 2]).viaMat(KillSwitches.single(), Keep.right).toMat(Sink.seq(), Keep.both).run(time.materializer)
    expect(await xs).toEqual([1, 2])
    await time.settle()
    expect(() => kill.shutdown()).not.toThrow()
    expect(() => kill.abort(boom)).not.toThrow()
  })

  it('materializes a distinct switch per run of the same blueprint', async () => {
    const graph = Source.never<number>().viaMat(KillSwitches.single(), Keep.right).toMat(Sink.seq(), Keep.both)
    const [k1, xs1] = graph.run(time.materializer)
    const [k2, xs2] = graph.run(time.materializer)
    expect(k1).not.toBe(k2)
    k1.shutdown()
    expect(await xs1).toEqual([])
    await time.settle()
    expect(time.materializer.runningStages().length).toBeGreaterThan(0) // the second stream still runs
    k2.abort(boom)
    await expect(xs2).rejects.toBe(boom)
  })

  it('stops a ticking stream whose termination is watched', async () => {
    const [kill, done] = Source.tick(0, 100, 'beat').viaMat(KillSwitches.single(), Keep.right).watchTermination(Keep.both).to(Sink.ignore()).run(time.materializer)
    await time.advance(350)
    kill.shutdown()
    await done
  })
})

describe('KillSwitches.shared', () => {
  /** Three graphs through the same switch: [source probe, sink probe] each. */
  function threeGraphs(sw: SharedKillSwitch) {
    return [1, 2, 3].map(() => {
      const [src, sink] = TestSource.probe<number>().via(sw.flow<number>()).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
      return { src, sink }
    })
  }

  it('materializes the switch itself and names its stages after it', async () => {
    const sw = KillSwitches.shared('ingest')
    expect(sw.name).toBe('ingest')
    const [mat, xs] = Source.never<number>().viaMat(sw.flow<number>(), Keep.right).toMat(Sink.seq(), Keep.both).run(time.materializer)
    expect(mat).toBe(sw)
    await time.settle()
    expect(time.materializer.runningStages()).toContain('ingest')
    sw.shutdown()
    expect(await xs).toEqual([])
  })

  it('shutdown completes every stream it was materialized into', async () => {
    const sw = KillSwitches.shared('all')
    const graphs = threeGraphs(sw)
    for (const [i, { src, sink }] of graphs.entries()) {
      sink.request(1)
      src.sendNext(i)
      await sink.expectNext(i)
    }
    expect(sw.isTriggered).toBe(false)
    sw.shutdown()
    expect(sw.isTriggered).toBe(true)
    for (const { src, sink } of graphs) {
      await sink.expectComplete()
      expect(isNonFailureCancellation(await src.expectCancellation())).toBe(true)
    }
  })

  it('abort fails every stream with the error', async () => {
    const sw = KillSwitches.shared('all')
    const graphs = threeGraphs(sw)
    await time.settle()
    sw.abort(boom)
    for (const { src, sink } of graphs) {
      expect(await sink.expectError()).toBe(boom)
      expect(await src.expectCancellation()).toBe(boom)
    }
  })

  it('stops streams at once when they are materialized after the switch was triggered', async () => {
    const shut = KillSwitches.shared('shut')
    shut.shutdown()
    const [src, sink] = TestSource.probe<number>().via(shut.flow<number>()).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    await sink.expectComplete()
    expect(isNonFailureCancellation(await src.expectCancellation())).toBe(true)

    const aborted = KillSwitches.shared('aborted')
    aborted.abort(boom)
    aborted.shutdown() // ignored: the first trigger counts
    const xs = Source.repeat(1).via(aborted.flow()).runWith(Sink.seq(), time.materializer)
    await expect(xs).rejects.toBe(boom)
  })

  it('lets streams that ended on their own go, and still stops the others', async () => {
    const sw = KillSwitches.shared('mixed')
    const [first, second, third] = threeGraphs(sw)
    first!.src.sendComplete()
    await first!.sink.expectComplete()
    second!.sink.cancel(boom)
    expect(await second!.src.expectCancellation()).toBe(boom)
    sw.shutdown()
    await third!.sink.expectComplete()
  })

  it('works inside a reusable Flow', async () => {
    const sw = KillSwitches.shared('flow')
    const guarded = Flow.create<number>().map((x) => x + 1).via(sw.flow())
    const a = Source.from([1, 2]).via(guarded).runWith(Sink.seq(), time.materializer)
    expect(await a).toEqual([2, 3])
    const b = Source.never<number>().via(guarded).runWith(Sink.seq(), time.materializer)
    sw.shutdown()
    expect(await b).toEqual([])
  })
})

describe('KillSwitches.singleBidi', () => {
  /** a → in1 → out1 → x, and b → in2 → out2 → y, with the switch between. */
  function bidiGraph() {
    const [[a, kill], y] = TestSource.probe<number>()
      .viaMat(
        KillSwitches.singleBidi<number, string>().joinMat(Flow.fromSinkAndSourceMat(TestSink.probe<number>(), TestSource.probe<string>(), Keep.both), Keep.both),
        Keep.both,
      )
      .toMat(TestSink.probe<string>(), Keep.both)
      .run(time.materializer)
    const [k, [x, b]] = kill
    return { a, b, x, y, kill: k }
  }

  it('passes both directions through independently', async () => {
    const { a, b, x, y } = bidiGraph()
    x.request(1)
    a.sendNext(1)
    await x.expectNext(1)
    y.request(1)
    b.sendNext('one')
    await y.expectNext('one')
    a.sendComplete()
    await x.expectComplete()
    y.request(1)
    b.sendNext('still open')
    await y.expectNext('still open')
    y.cancel(boom)
    expect(await b.expectCancellation()).toBe(boom)
  })

  it('shutdown completes both outputs and cancels both inputs', async () => {
    const { a, b, x, y, kill } = bidiGraph()
    kill.shutdown()
    await x.expectComplete()
    await y.expectComplete()
    expect(isNonFailureCancellation(await a.expectCancellation())).toBe(true)
    expect(isNonFailureCancellation(await b.expectCancellation())).toBe(true)
  })

  it('abort fails both outputs and cancels both inputs with the error', async () => {
    const { a, b, x, y, kill } = bidiGraph()
    x.request(1)
    await a.expectRequest()
    kill.abort(boom)
    expect(await x.expectError()).toBe(boom)
    expect(await y.expectError()).toBe(boom)
    expect(await a.expectCancellation()).toBe(boom)
    expect(await b.expectCancellation()).toBe(boom)
  })
})

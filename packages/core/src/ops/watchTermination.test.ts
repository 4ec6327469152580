import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { AbruptTerminationError, Flow, Keep, KillSwitches, NonFailureCancellation, Sink, Source } from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** A probe → watchTermination → probe graph: returns [source probe, done, sink probe]. */
function watched() {
  const [[src, done], sink] = TestSource.probe<number>().watchTermination(Keep.both).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, done, sink }
}

/** 'pending' while the promise is unsettled once the streams settled, else how it settled. */
async function state(p: Promise<void>): Promise<string> {
  let s = 'pending'
  p.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  )
  await time.settle()
  return s
}

describe('watchTermination', () => {
  it('passes elements through with backpressure, and resolves when upstream completes', async () => {
    const { src, done, sink } = watched()
    expect(await state(done)).toBe('pending')
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1)
    await sink.expectNext(1)
    await sink.expectNoMessage()
    expect(src.pending).toBe(0) // no demand: nothing was pulled ahead
    sink.request(1)
    src.sendNext(2).sendComplete()
    await sink.expectNext(2)
    await sink.expectComplete()
    expect(await state(done)).toBe('resolved')
    await expect(done).resolves.toBeUndefined()
  })

  it('rejects with the error when upstream fails, and passes the failure on', async () => {
    const { src, done, sink } = watched()
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await expect(done).rejects.toBe(boom)
  })

  it('resolves when downstream cancels with a non-failure cause, passing the cause upstream', async () => {
    const { src, done, sink } = watched()
    const clientGone = new NonFailureCancellation('client-went-away')
    sink.cancel(clientGone)
    expect(await src.expectCancellation()).toBe(clientGone)
    await expect(done).resolves.toBeUndefined()
  })

  it('resolves when a downstream take is satisfied', async () => {
    const [done, xs] = Source.repeat(1).watchTermination(Keep.right).take(2).toMat(Sink.seq(), Keep.both).run(time.materializer)
    expect(await xs).toEqual([1, 1])
    await expect(done).resolves.toBeUndefined()
  })

  it('rejects with the cause when downstream cancels with a failure cause', async () => {
    const { src, done, sink } = watched()
    sink.cancel(boom)
    expect(await src.expectCancellation()).toBe(boom)
    await expect(done).rejects.toBe(boom)
  })

  it('rejects with AbruptTerminationError when the stream is torn down', async () => {
    const doomed = new VirtualTime()
    const done = Source.never().watchTermination(Keep.right).to(Sink.ignore()).run(doomed.materializer)
    await doomed.settle()
    doomed.materializer.shutdown()
    const error = await done.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AbruptTerminationError)
    expect(error).toMatchObject({ code: 'WEIR_CORE_ABRUPT_TERMINATION', stage: 'watchTermination' })
    expect(doomed.materializer.runningStages()).toEqual([])
  })

  it('combines the materialized value before it with the termination promise', async () => {
    const [left, done] = Source.single(1).mapMaterializedValue(() => 'left').watchTermination(Keep.both).to(Sink.ignore()).run(time.materializer)
    expect(left).toBe('left')
    await expect(done).resolves.toBeUndefined()
    const mapped = Source.single(1).watchTermination((_, d) => d.then(() => 'finished')).to(Sink.ignore()).run(time.materializer)
    await expect(mapped).resolves.toBe('finished')
  })

  it('settles a separate promise for each materialization of a Flow', async () => {
    const flow = Flow.create<number>().watchTermination(Keep.right)
    const ok = Source.single(1).viaMat(flow, Keep.right).to(Sink.ignore()).run(time.materializer)
    const ko = Source.failed<number>(boom).viaMat(flow, Keep.right).to(Sink.ignore()).run(time.materializer)
    await expect(ok).resolves.toBeUndefined()
    await expect(ko).rejects.toBe(boom)
  })

  it('resolves when a kill switch shuts the stream down (the ticking example)', async () => {
    const [kill, done] = Source.tick(0, 100, 'beat').viaMat(KillSwitches.single(), Keep.right).watchTermination(Keep.both).to(Sink.ignore()).run(time.materializer)
    await time.advance(250)
    expect(await state(done)).toBe('pending')
    kill.shutdown()
    await done
    await time.advance(1000)
  })

  it('rejects with the error when a kill switch aborts the stream', async () => {
    const [kill, done] = Source.never<string>().viaMat(KillSwitches.single(), Keep.right).watchTermination(Keep.both).to(Sink.ignore()).run(time.materializer)
    kill.abort(boom)
    await expect(done).rejects.toBe(boom)
  })
})

import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { AbruptTerminationError, InvalidArgumentError, isNonFailureCancellation, Keep, MergeHub, NoMoreElementsNeeded, Sink, Source, StageWasCompleted, type NotUsed } from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** A hub read by a probe; `produce()` attaches a probe-driven producer. */
function hub(perProducerBufferSize = 4) {
  const [sink, out] = MergeHub.source<number>(perProducerBufferSize).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  const produce = (): SourceProbe<number> => TestSource.probe<number>().to(sink).run(time.materializer)
  return { sink, out, produce }
}

describe('MergeHub', () => {
  it('merges the elements of every producer; the sink can be run any number of times', async () => {
    const { out, produce } = hub()
    const p1 = produce()
    const p2 = produce()
    out.request(4)
    p1.sendNext(1).sendNext(3)
    p2.sendNext(2).sendNext(4)
    expect((await out.expectNextN(4)).sort()).toEqual([1, 2, 3, 4])
    out.cancel()
    await p1.expectCancellation()
    await p2.expectCancellation()
  })

  it('keeps the order of each producer', async () => {
    const [sink, done] = MergeHub.sourceWithDraining<number>(2).toMat(Sink.seq(), Keep.both).run(time.materializer)
    const producers = [0, 1, 2].map((p) => Source.range(p * 100, p * 100 + 9).watchTermination(Keep.right).to(sink[0]).run(time.materializer))
    await Promise.all(producers)
    sink[1].drainAndComplete()
    const xs = await done
    for (const p of [0, 1, 2]) expect(xs.filter((x) => Math.floor(x / 100) === p)).toEqual(Array.from({ length: 10 }, (_, i) => p * 100 + i))
  })

  it('holds each producer to perProducerBufferSize and returns credit in batches of half of it', async () => {
    const { out, produce } = hub(4)
    const p = produce()
    for (let i = 1; i <= 4; i++) {
      await p.expectRequest()
      p.sendNext(i)
    }
    await time.settle()
    expect(p.pending).toBe(0) // no fifth pull: the hub holds 4 of its elements
    out.request(1)
    await out.expectNext(1)
    await time.settle()
    expect(p.pending).toBe(0) // one credit back is below the batch of 2
    out.request(1)
    await out.expectNext(2)
    await p.expectRequest() // two credits back: the producer pulls again
    out.cancel()
    await p.expectCancellation()
  })

  it('a slow consumer backpressures every producer', async () => {
    const { out, produce } = hub(2)
    const ps = [produce(), produce(), produce()]
    for (const [i, p] of ps.entries()) p.sendNext(i * 10).sendNext(i * 10 + 1).sendNext(i * 10 + 2)
    await time.settle()
    for (const p of ps) expect(p.pending).toBe(0)
    out.request(6)
    expect((await out.expectNextN(6)).sort((a, b) => a - b)).toEqual([0, 1, 10, 11, 20, 21])
    out.request(3)
    expect((await out.expectNextN(3)).sort((a, b) => a - b)).toEqual([2, 12, 22])
    out.cancel()
  })

  it('a producer that completes or fails detaches; the others and the hub go on', async () => {
    const { out, produce } = hub()
    const p1 = produce()
    const p2 = produce()
    const p3 = produce()
    p1.sendNext(1).sendComplete()
    p3.sendError(boom)
    out.request(1)
    await out.expectNext(1)
    out.request(1)
    p2.sendNext(2)
    await out.expectNext(2)
    await out.expectNoMessage()
    out.cancel()
    await p2.expectCancellation()
  })

  it('cancelling the hub cancels every producer with the same cause, and later producers at once', async () => {
    const { out, produce } = hub()
    const p1 = produce()
    const p2 = produce()
    await time.settle()
    const cause = new Error('client went away')
    out.cancel(cause)
    expect(await p1.expectCancellation()).toBe(cause)
    expect(await p2.expectCancellation()).toBe(cause)
    expect(await produce().expectCancellation()).toBe(cause)
  })

  it('producers cancel with AbruptTerminationError when the hub is torn down', async () => {
    const other = new VirtualTime()
    const sink = MergeHub.source<number>().to(Sink.ignore()).run(other.materializer)
    const p = TestSource.probe<number>().to(sink).run(time.materializer)
    await time.settle()
    other.materializer.shutdown()
    expect(await p.expectCancellation()).toBeInstanceOf(AbruptTerminationError)
  })

  it('drainAndComplete refuses new producers and completes once the attached ones completed', async () => {
    const [[sink, draining], out] = MergeHub.sourceWithDraining<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    const p1 = TestSource.probe<number>().to(sink).run(time.materializer)
    const p2 = TestSource.probe<number>().to(sink).run(time.materializer)
    await time.settle()
    draining.drainAndComplete()
    expect(await TestSource.probe<number>().to(sink).run(time.materializer).expectCancellation()).toBe(StageWasCompleted)
    p1.sendNext(1).sendComplete()
    out.request(10)
    await out.expectNext(1)
    p2.sendNext(2)
    await out.expectNext(2)
    await out.expectNoMessage() // p2 is still attached
    p2.sendNext(3).sendComplete()
    await out.expectNext(3)
    await out.expectComplete()
    expect(isNonFailureCancellation(await TestSource.probe<number>().to(sink).run(time.materializer).expectCancellation())).toBe(true)
  })

  it('drainAndComplete completes at once when no producer is attached, and emits what is queued first', async () => {
    const [[sink, draining], out] = MergeHub.sourceWithDraining<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    await Source.from([1, 2]).watchTermination(Keep.right).to(sink).run(time.materializer)
    draining.drainAndComplete()
    draining.drainAndComplete()
    await out.expectNoMessage() // two elements wait for demand
    out.request(2)
    expect(await out.expectNextN(2)).toEqual([1, 2])
    await out.expectComplete()
  })

  it('100 producers joining and leaving leave no running stage', async () => {
    const [[sink, draining], done] = MergeHub.sourceWithDraining<number>(2).toMat(Sink.seq(), Keep.both).run(time.materializer)
    for (let i = 0; i < 100; i++) await Source.single(i).watchTermination(Keep.right).to(sink).run(time.materializer)
    await Promise.all(Array.from({ length: 100 }, (_, i) => Source.range(1000 + i * 5, 1004 + i * 5).watchTermination(Keep.right).to(sink).run(time.materializer)))
    draining.drainAndComplete()
    const xs = await done
    expect(xs.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(xs.slice(100).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => 1000 + i))
  })

  it('the default cancellation of a finished consumer is not a failure', async () => {
    const sink: Sink<number, NotUsed> = MergeHub.source<number>().take(1).to(Sink.ignore()).run(time.materializer)
    const p = TestSource.probe<number>().to(sink).run(time.materializer)
    p.sendNext(1)
    expect(await p.expectCancellation()).toBe(NoMoreElementsNeeded)
  })

  it('rejects invalid arguments', () => {
    expect(() => MergeHub.source(0)).toThrow(InvalidArgumentError)
    expect(() => MergeHub.sourceWithDraining(2.5)).toThrow(InvalidArgumentError)
  })
})

import { getEventListeners } from 'node:events'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { abortOn, Keep, Sink, Source } from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const stop = new Error('user left')

function aborted() {
  const controller = new AbortController()
  const [src, sink] = TestSource.probe<number>().via(abortOn(controller.signal)).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { controller, src, sink }
}

describe('abortOn', () => {
  it('passes elements through with backpressure until the signal aborts', async () => {
    const { controller, src, sink } = aborted()
    sink.request(1)
    await src.expectRequest()
    src.sendNext(1)
    await sink.expectNext(1)
    await time.settle()
    expect(src.pending).toBe(0)
    controller.abort(stop)
  })

  it("fails downstream and cancels upstream with the signal's reason when it aborts", async () => {
    const { controller, src, sink } = aborted()
    await time.settle()
    controller.abort(stop)
    expect(await sink.expectError()).toBe(stop)
    expect(await src.expectCancellation()).toBe(stop)
  })

  it('fails with an AbortError when the signal aborts without a reason', async () => {
    const controller = new AbortController()
    const done = Source.never<number>().via(abortOn(controller.signal)).runWith(Sink.ignore(), time.materializer)
    await time.settle()
    controller.abort()
    await expect(done).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('fails at once when the signal has already aborted', async () => {
    const done = Source.from([1, 2]).via(abortOn(AbortSignal.abort(stop))).runWith(Sink.seq(), time.materializer)
    await expect(done).rejects.toBe(stop)
  })

  it('completes normally when upstream completes, and stops listening to the signal', async () => {
    const controller = new AbortController()
    const done = Source.from([1, 2, 3]).via(abortOn(controller.signal)).runWith(Sink.seq(), time.materializer)
    expect(await done).toEqual([1, 2, 3])
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    controller.abort(stop) // too late: nothing happens
  })

  it('stops listening when downstream cancels', async () => {
    const controller = new AbortController()
    const out = await Source.repeat(1).via(abortOn(controller.signal)).take(2).runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([1, 1])
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })
})

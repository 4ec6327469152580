import { CountQueuingStrategy, ReadableStream, WritableStream } from 'node:stream/web'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { AbruptTerminationError, Keep, NoMoreElementsNeeded, Sink, Source } from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** A ReadableStream of 0, 1, 2, … produced only when pulled (no queue ahead), recording pulls and the cancel reason. */
function counting(): { stream: ReadableStream<number>; state: { pulls: number; cancelled: boolean; reason: unknown } } {
  const state = { pulls: 0, cancelled: false, reason: undefined as unknown }
  const stream = new ReadableStream<number>(
    {
      pull(controller) {
        controller.enqueue(state.pulls++)
      },
      cancel(reason) {
        state.cancelled = true
        state.reason = reason
      },
    },
    new CountQueuingStrategy({ highWaterMark: 0 }),
  )
  return { stream, state }
}

async function readAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of stream) out.push(x)
  return out
}

describe('Source.fromReadableStream', () => {
  it('emits the chunks in order, then completes', async () => {
    const stream = new ReadableStream<number>({
      start(controller) {
        for (const x of [1, 2, 3]) controller.enqueue(x)
        controller.close()
      },
    })
    expect(await Source.fromReadableStream(stream).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3])
  })

  it('reads only on demand', async () => {
    const { stream, state } = counting()
    const sink = Source.fromReadableStream(stream).runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    expect(state.pulls).toBe(0)
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([0, 1])
    await time.settle()
    expect(state.pulls).toBe(2)
    sink.cancel()
  })

  it('cancels the ReadableStream with the cause when downstream cancels', async () => {
    const { stream, state } = counting()
    expect(await Source.fromReadableStream(stream).take(2).runWith(Sink.seq(), time.materializer)).toEqual([0, 1])
    await time.settle()
    expect(state.cancelled).toBe(true)
    expect(state.reason).toBe(NoMoreElementsNeeded)
  })

  it('fails when the ReadableStream errors', async () => {
    const stream = new ReadableStream<number>({
      start(controller) {
        controller.enqueue(1)
        controller.error(boom)
      },
    })
    await expect(Source.fromReadableStream(stream).runWith(Sink.seq(), time.materializer)).rejects.toBe(boom)
  })

  it('reads a fresh stream per materialization when given a factory', async () => {
    const source = Source.fromReadableStream(() => Source.from(['x', 'y']).toReadableStream({}, time.materializer))
    expect(await source.runWith(Sink.seq(), time.materializer)).toEqual(['x', 'y'])
    expect(await source.runWith(Sink.seq(), time.materializer)).toEqual(['x', 'y'])
  })
})

describe('Sink.toWritableStream', () => {
  it('writes every element, closes the stream and resolves', async () => {
    const written: number[] = []
    let closed = false
    const stream = new WritableStream<number>({
      write: (x) => {
        written.push(x)
      },
      close: () => {
        closed = true
      },
    })
    await Source.range(1, 10).runWith(Sink.toWritableStream(stream), time.materializer)
    expect(written).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(closed).toBe(true)
  })

  it('pulls only while the writer has room (desiredSize), otherwise after ready', async () => {
    const pending: (() => void)[] = []
    const stream = new WritableStream<number>(
      { write: () => new Promise<void>((resolve) => pending.push(resolve)) },
      new CountQueuingStrategy({ highWaterMark: 1 }),
    )
    const [probe, done] = TestSource.probe<number>().toMat(Sink.toWritableStream<number>(stream), Keep.both).run(time.materializer)
    await probe.expectRequest()
    probe.sendNext(1)
    await time.settle()
    expect(probe.pending).toBe(0) // the write is in progress and the queue is full
    pending.shift()!()
    await probe.expectRequest()
    probe.sendNext(2).sendComplete()
    await time.settle()
    pending.shift()!()
    await done
  })

  it('aborts the WritableStream with the error when upstream fails', async () => {
    let abortReason: unknown
    const stream = new WritableStream<number>({
      abort: (reason) => {
        abortReason = reason
      },
    })
    const done = Source.failed<number>(boom).runWith(Sink.toWritableStream(stream), time.materializer)
    await expect(done).rejects.toBe(boom)
    await time.settle()
    expect(abortReason).toBe(boom)
  })

  it('fails and cancels upstream when a write fails', async () => {
    const stream = new WritableStream<number>({
      write: () => {
        throw boom
      },
    })
    const [probe, done] = TestSource.probe<number>().toMat(Sink.toWritableStream<number>(stream), Keep.both).run(time.materializer)
    await probe.expectRequest()
    probe.sendNext(1)
    await expect(done).rejects.toBe(boom)
    expect(await probe.expectCancellation()).toBe(boom)
  })
})

describe('Source.toReadableStream / Sink.asReadableStream', () => {
  it('round-trips ReadableStream → Source → ReadableStream preserving order', async () => {
    const input = new ReadableStream<number>({
      start(controller) {
        for (let i = 0; i < 100; i++) controller.enqueue(i)
        controller.close()
      },
    })
    const out = Source.fromReadableStream(input)
      .map((x) => x + 1)
      .toReadableStream({}, time.materializer)
    expect(await readAll(out)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
  })

  it('honours desiredSize: with nobody reading it pulls exactly highWaterMark elements', async () => {
    const [probe, stream] = TestSource.probe<number>().toMat(Sink.asReadableStream<number>({ highWaterMark: 2 }), Keep.both).run(time.materializer)
    for (let i = 0; i < 2; i++) {
      await probe.expectRequest()
      probe.sendNext(i)
    }
    await time.settle()
    expect(probe.pending).toBe(0)
    const reader = stream.getReader()
    expect(await reader.read()).toEqual({ done: false, value: 0 })
    await probe.expectRequest() // room for one more
    await reader.cancel()
    expect(await probe.expectCancellation()).toBe(NoMoreElementsNeeded)
  })

  it('errors the ReadableStream when the stream fails', async () => {
    const stream = Source.from([1]).concat(Source.failed(boom)).toReadableStream({}, time.materializer)
    await expect(readAll(stream)).rejects.toBe(boom)
  })

  it('errors the ReadableStream with AbruptTerminationError when the stream is torn down', async () => {
    const stream = Source.never<number>().toReadableStream({}, time.materializer)
    await time.settle()
    time.materializer.shutdown()
    await expect(stream.getReader().read()).rejects.toBeInstanceOf(AbruptTerminationError)
  })
})

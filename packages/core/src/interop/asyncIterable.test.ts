import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { AbruptTerminationError, defaultMaterializer, Keep, NoMoreElementsNeeded, Sink, Source } from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
  await assertAllStagesStopped(defaultMaterializer())
})

const boom = new Error('boom')

/** An endless generator that counts what it produced and records when its `finally` ran. */
function counting(): { iterable: AsyncIterable<number>; state: { produced: number; finalized: boolean }; finalized: Promise<void> } {
  const state = { produced: 0, finalized: false }
  let onFinally!: () => void
  const finalized = new Promise<void>((resolve) => (onFinally = resolve))
  async function* gen(): AsyncGenerator<number> {
    try {
      for (let i = 0; ; i++) {
        state.produced++
        yield i
      }
    } finally {
      state.finalized = true
      onFinally()
    }
  }
  return { iterable: { [Symbol.asyncIterator]: () => gen() }, state, finalized }
}

describe('Source.fromAsyncIterable', () => {
  it('emits the values of an async generator in order, then completes', async () => {
    async function* letters(): AsyncGenerator<string> {
      yield 'a'
      await Promise.resolve()
      yield 'b'
      yield 'c'
    }
    expect(await Source.fromAsyncIterable(letters()).runWith(Sink.seq(), time.materializer)).toEqual(['a', 'b', 'c'])
  })

  it('calls next() only on demand', async () => {
    const { iterable, state } = counting()
    const sink = Source.fromAsyncIterable(iterable).runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    expect(state.produced).toBe(0)
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([0, 1])
    await time.settle()
    expect(state.produced).toBe(2)
    sink.cancel()
  })

  it("calls return() when downstream cancels, so the generator's finally runs", async () => {
    const { iterable, state, finalized } = counting()
    expect(await Source.fromAsyncIterable(iterable).take(3).runWith(Sink.seq(), time.materializer)).toEqual([0, 1, 2])
    await finalized
    expect(state.finalized).toBe(true)
  })

  it('fails the stream when the iterator rejects', async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1
      throw boom
    }
    const sink = Source.fromAsyncIterable(failing()).runWith(TestSink.probe<number>(), time.materializer)
    await sink.requestNext(1)
    sink.request(1)
    expect(await sink.expectError()).toBe(boom)
  })

  it('reads a fresh iterator per materialization', async () => {
    const iterable = { [Symbol.asyncIterator]: () => Source.from([1, 2]).runWith(Sink.asyncIterator<number>(), time.materializer) }
    const source = Source.fromAsyncIterable(iterable)
    expect(await source.runWith(Sink.seq(), time.materializer)).toEqual([1, 2])
    expect(await source.runWith(Sink.seq(), time.materializer)).toEqual([1, 2])
  })
})

/** A source probe whose probe is captured at materialization (for `for await`, which materializes itself). */
function probed(): { source: Source<number>; probes: SourceProbe<number>[] } {
  const probes: SourceProbe<number>[] = []
  const source = TestSource.probe<number>().mapMaterializedValue((p): undefined => {
    probes.push(p)
  })
  return { source, probes }
}

describe('for await over a Source', () => {
  it('yields every element in order', async () => {
    const seen: number[] = []
    for await (const x of Source.range(1, 50)) seen.push(x)
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
  })

  it('pulls one element per iteration, not ahead', async () => {
    const [probe, iterator] = TestSource.probe<number>().toMat(Sink.asyncIterator<number>(), Keep.both).run(time.materializer)
    await time.settle()
    expect(probe.pending).toBe(0)
    const first = iterator.next()
    await probe.expectRequest()
    expect(probe.pending).toBe(1)
    probe.sendNext(1)
    expect(await first).toEqual({ done: false, value: 1 })
    await time.settle()
    expect(probe.pending).toBe(0)
    probe.sendComplete()
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  it('cancels the stream with NoMoreElementsNeeded on break', async () => {
    const { source, probes } = probed()
    const seen: number[] = []
    const loop = (async () => {
      for await (const x of source) {
        seen.push(x)
        if (x === 2) break
      }
    })()
    await defaultMaterializer().whenIdle()
    const probe = probes[0]!
    await probe.expectRequest()
    probe.sendNext(1)
    await probe.expectRequest()
    probe.sendNext(2)
    expect(await probe.expectCancellation()).toBe(NoMoreElementsNeeded)
    await loop
    expect(seen).toEqual([1, 2])
  })

  it('throws a stream failure from the loop', async () => {
    const seen: number[] = []
    const loop = async (): Promise<void> => {
      const failing = Source.from([1, 2, 3]).map((x) => {
        if (x === 3) throw boom
        return x
      })
      for await (const x of failing) seen.push(x)
    }
    await expect(loop()).rejects.toBe(boom)
    expect(seen).toEqual([1, 2])
  })

  it("round-trips a generator through a stream: break runs the generator's finally and stops every stage", async () => {
    const { iterable, finalized } = counting()
    const seen: number[] = []
    for await (const x of Source.fromAsyncIterable(iterable)
      .map((x) => x * 10)
      .runWith(Sink.asyncIterator<number>(), time.materializer)) {
      seen.push(x)
      if (seen.length === 3) break
    }
    expect(seen).toEqual([0, 10, 20])
    await finalized
  })

  it('answers pending next() calls in order, and rejects them with AbruptTerminationError when the stream is torn down', async () => {
    const [probe, iterator] = TestSource.probe<number>().toMat(Sink.asyncIterator<number>(), Keep.both).run(time.materializer)
    const a = iterator.next()
    const b = iterator.next()
    await probe.expectRequest()
    probe.sendNext(1)
    expect(await a).toEqual({ done: false, value: 1 })
    await probe.expectRequest()
    time.materializer.shutdown()
    await expect(b).rejects.toBeInstanceOf(AbruptTerminationError)
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })
})

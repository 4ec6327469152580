import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import { firstValueFrom, lastValueFrom, Observable, of, range, Subject, take, toArray } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { BufferOverflowError, InvalidArgumentError, NoMoreElementsNeeded, Sink, Source, StageProtocolError, type ObservableOverflowStrategy } from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** A source probe whose probe is captured at each materialization (for `toObservable`, which materializes per subscription). */
function probed(): { source: Source<number>; probes: SourceProbe<number>[] } {
  const probes: SourceProbe<number>[] = []
  const source = TestSource.probe<number>().mapMaterializedValue((p): undefined => {
    probes.push(p)
  })
  return { source, probes }
}

/** An Observable that records whether it is subscribed. */
function tracked<T>(): { observable: Observable<T>; subject: Subject<T>; state: { subscriptions: number; unsubscriptions: number } } {
  const subject = new Subject<T>()
  const state = { subscriptions: 0, unsubscriptions: 0 }
  const observable = new Observable<T>((subscriber) => {
    state.subscriptions++
    const s = subject.subscribe(subscriber)
    return () => {
      state.unsubscriptions++
      s.unsubscribe()
    }
  })
  return { observable, subject, state }
}

describe('Source.fromObservable', () => {
  it('emits the elements in order and completes when the Observable completes', async () => {
    const out = await Source.fromObservable(range(1, 100), { bufferSize: 100, overflowStrategy: 'fail' }).runWith(Sink.seq(), time.materializer)
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
  })

  it('holds elements in its buffer until downstream pulls, and completes only after the buffer was emitted', async () => {
    const { observable, subject } = tracked<number>()
    const sink = Source.fromObservable(observable, { bufferSize: 4, overflowStrategy: 'fail' }).runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    subject.next(1)
    subject.next(2)
    subject.complete()
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext(1)
    await sink.expectNoMessage()
    sink.request(1)
    await sink.expectNext(2)
    await sink.expectComplete()
  })

  const overflow: [ObservableOverflowStrategy, number[]][] = [
    ['dropHead', [4, 5]],
    ['dropTail', [1, 5]],
    ['dropBuffer', [5]],
    ['dropNew', [1, 2]],
  ]
  for (const [strategy, expected] of overflow) {
    it(`applies the ${strategy} strategy when elements arrive faster than downstream pulls`, async () => {
      const { observable, subject } = tracked<number>()
      const sink = Source.fromObservable(observable, { bufferSize: 2, overflowStrategy: strategy }).runWith(TestSink.probe<number>(), time.materializer)
      await time.settle()
      for (let i = 1; i <= 5; i++) subject.next(i)
      subject.complete()
      sink.request(10)
      expect(await sink.expectNextN(expected.length)).toEqual(expected)
      await sink.expectComplete()
    })
  }

  it('fails with BufferOverflowError (and unsubscribes) when the buffer overflows with the fail strategy', async () => {
    const { observable, subject, state } = tracked<number>()
    const sink = Source.fromObservable(observable, { bufferSize: 2, overflowStrategy: 'fail' }).runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    subject.next(1)
    subject.next(2)
    subject.next(3)
    const error = await sink.expectError()
    expect(error).toBeInstanceOf(BufferOverflowError)
    expect((error as BufferOverflowError).limit).toBe(2)
    expect(state.unsubscriptions).toBe(1)
  })

  it('fails at once when the Observable errors, dropping buffered elements', async () => {
    const { observable, subject } = tracked<number>()
    const sink = Source.fromObservable(observable, { bufferSize: 4, overflowStrategy: 'fail' }).runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    subject.next(1)
    subject.error(boom)
    expect(await sink.expectError()).toBe(boom)
  })

  it('unsubscribes from the Observable when downstream cancels', async () => {
    const { observable, subject, state } = tracked<number>()
    const sink = Source.fromObservable(observable, { bufferSize: 4, overflowStrategy: 'fail' }).runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    expect(state.subscriptions).toBe(1)
    subject.next(1)
    await sink.requestNext(1)
    sink.cancel()
    await time.settle()
    expect(state.unsubscriptions).toBe(1)
    expect(subject.observed).toBe(false)
  })

  it('subscribes once per materialization', async () => {
    const source = Source.fromObservable(of('a', 'b'), { bufferSize: 2, overflowStrategy: 'fail' })
    expect(await source.runWith(Sink.seq(), time.materializer)).toEqual(['a', 'b'])
    expect(await source.runWith(Sink.seq(), time.materializer)).toEqual(['a', 'b'])
  })

  it('rejects a missing buffer size or the backpressure strategy with InvalidArgumentError', () => {
    expect(() => Source.fromObservable(of(1), { bufferSize: 0, overflowStrategy: 'fail' })).toThrow(InvalidArgumentError)
    const bad = { bufferSize: 1, overflowStrategy: 'backpressure' as ObservableOverflowStrategy }
    try {
      Source.fromObservable(of(1), bad)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError)
      expect((e as InvalidArgumentError).argument).toBe('overflowStrategy')
    }
  })
})

describe('Source.toObservable', () => {
  it('is cold: every subscription runs the source anew', async () => {
    let runs = 0
    const observable = Source.range(1, 3)
      .mapMaterializedValue(() => {
        runs++
      })
      .toObservable(time.materializer)
    expect(runs).toBe(0)
    expect(await lastValueFrom(observable.pipe(toArray()))).toEqual([1, 2, 3])
    expect(await lastValueFrom(observable.pipe(toArray()))).toEqual([1, 2, 3])
    expect(runs).toBe(2)
  })

  it('round-trips Observable → Source → Observable preserving order', async () => {
    const out = Source.fromObservable(range(0, 500), { bufferSize: 500, overflowStrategy: 'fail' })
      .map((x) => x * 2)
      .toObservable(time.materializer)
    expect(await lastValueFrom(out.pipe(toArray()))).toEqual(Array.from({ length: 500 }, (_, i) => i * 2))
  })

  it('requests one element at a time, as the subscriber receives them', async () => {
    const { source, probes } = probed()
    const seen: number[] = []
    const subscription = source.toObservable(time.materializer).subscribe((x) => seen.push(x))
    const probe = probes[0]!
    await probe.expectRequest()
    await time.settle()
    expect(probe.pending).toBe(1)
    probe.sendNext(1)
    await probe.expectRequest()
    expect(seen).toEqual([1])
    expect(probe.pending).toBe(1)
    subscription.unsubscribe()
    expect(await probe.expectCancellation()).toBe(NoMoreElementsNeeded)
  })

  it('treats unsubscription by an operator (take) as cancellation with NoMoreElementsNeeded', async () => {
    const { source, probes } = probed()
    const first = firstValueFrom(source.toObservable(time.materializer).pipe(take(1)))
    await time.settle()
    const probe = probes[0]!
    await probe.expectRequest()
    probe.sendNext(7)
    expect(await first).toBe(7)
    expect(await probe.expectCancellation()).toBe(NoMoreElementsNeeded)
  })

  it('passes a stream failure to the subscriber as an error', async () => {
    await expect(lastValueFrom(Source.failed(boom).toObservable(time.materializer))).rejects.toBe(boom)
  })
})

describe('Sink.asObservable', () => {
  it('does not pull before it has a subscriber', async () => {
    const [probe, observable] = TestSource.probe<number>().toMat(Sink.asObservable<number>(), (l, r) => [l, r] as const).run(time.materializer)
    await time.settle()
    expect(probe.pending).toBe(0)
    const done = lastValueFrom(observable.pipe(toArray()))
    await probe.expectRequest()
    probe.sendNext(1).sendComplete()
    expect(await done).toEqual([1])
  })

  it('tells a late subscriber how the stream ended', async () => {
    const completed = Source.empty<number>().runWith(Sink.asObservable<number>(), time.materializer)
    const failed = Source.failed<number>(boom).runWith(Sink.asObservable<number>(), time.materializer)
    await time.settle()
    expect(await lastValueFrom(completed.pipe(toArray()))).toEqual([])
    await expect(lastValueFrom(failed)).rejects.toBe(boom)
  })

  it('allows one subscriber: a second one gets StageProtocolError', async () => {
    const observable = Source.from([1, 2]).runWith(Sink.asObservable<number>(), time.materializer)
    const first = lastValueFrom(observable.pipe(toArray()))
    await expect(lastValueFrom(observable)).rejects.toBeInstanceOf(StageProtocolError)
    expect(await first).toEqual([1, 2])
  })
})

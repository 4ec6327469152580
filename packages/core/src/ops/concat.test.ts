import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { Flow, InvalidArgumentError, isNonFailureCancellation, Keep, NoMoreElementsNeeded, Sink, Source } from '../index.js'
import { fanInFlow } from '../internal/fanIn.js'
import { ConcatStage } from './concat.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** Two source probes feeding `join(a, b)`, into a sink probe. */
function probes(join: (a: Source<number, any>, b: Source<number, any>) => Source<number, any>) {
  let b!: SourceProbe<number>
  const [a, sink] = join(
    TestSource.probe<number>(),
    TestSource.probe<number>().mapMaterializedValue((m) => {
      b = m
      return m
    }),
  ).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { a, b, sink }
}

describe('concat', () => {
  it('emits every element of this source, then every element of the other', async () => {
    expect(await Source.from([1, 2]).concat(Source.from([3, 4])).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3, 4])
  })

  it('skips empty inputs on either side', async () => {
    const run = (s: Source<number>) => s.runWith(Sink.seq(), time.materializer)
    expect(await run(Source.empty<number>().concat(Source.from([1])))).toEqual([1])
    expect(await run(Source.from([1]).concat(Source.empty()))).toEqual([1])
    expect(await run(Source.empty<number>().concat(Source.empty()))).toEqual([])
  })

  it('pulls the other source only after this one completed, and only on demand', async () => {
    const { a, b, sink } = probes((x, y) => x.concatMat(y, Keep.left))
    sink.request(1)
    await a.expectRequest()
    a.sendNext(1)
    await sink.expectNext(1)
    a.sendComplete()
    await sink.expectNoMessage()
    expect(b.pending).toBe(0) // no demand yet: the second input is not pulled
    sink.request(2)
    await b.expectRequest()
    b.sendNext(2).sendNext(3).sendComplete()
    expect(await sink.expectNextN(2)).toEqual([2, 3])
    await sink.expectComplete()
  })

  it('never pulls the other source while this one runs', async () => {
    const { a, b, sink } = probes((x, y) => x.concat(y))
    sink.request(3)
    await a.expectRequest()
    a.sendNext(1)
    await sink.expectNext(1)
    await a.expectRequest()
    expect(b.pending).toBe(0)
    sink.cancel()
    await a.expectCancellation()
    await b.expectCancellation()
  })

  it('materializes (starts) the other source eagerly', async () => {
    let started = 0
    const lazyPromise = Source.fromPromise(() => {
      started++
      return new Promise<number>(() => {})
    })
    const sink = Source.never<number>().concat(lazyPromise).runWith(TestSink.probe<number>(), time.materializer)
    await sink.expectNoMessage()
    expect(started).toBe(1)
    sink.cancel()
  })

  it('fails when this source fails, cancelling the other with the error', async () => {
    const { a, b, sink } = probes((x, y) => x.concat(y))
    sink.request(1)
    a.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await b.expectCancellation()).toBe(boom)
  })

  it('fails at once when the other source fails before its turn', async () => {
    const { a, b, sink } = probes((x, y) => x.concat(y))
    sink.request(1)
    await a.expectRequest()
    b.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await a.expectCancellation()).toBe(boom)
  })

  it('propagates a failure cancellation cause to both inputs', async () => {
    const { a, b, sink } = probes((x, y) => x.concat(y))
    sink.cancel(boom)
    expect(await a.expectCancellation()).toBe(boom)
    expect(await b.expectCancellation()).toBe(boom)
  })

  it('propagates a non-failure cancellation cause to both inputs', async () => {
    const { a, b, sink } = probes((x, y) => x.concat(y))
    sink.request(1)
    a.sendNext(1).sendComplete()
    await sink.expectNext(1)
    sink.cancel()
    expect(await a.expectCancellation().catch(() => 'completed before')).toBe('completed before')
    const cause = await b.expectCancellation()
    expect(cause).toBe(NoMoreElementsNeeded)
    expect(isNonFailureCancellation(cause)).toBe(true)
  })

  it('keeps only this blueprint’s materialized value; concatMat combines both', () => {
    const left = Source.single(1).mapMaterializedValue(() => 'left')
    const right = Source.single(2).mapMaterializedValue(() => 'right')
    expect(left.concat(right).to(Sink.ignore()).run(time.materializer)).toBe('left')
    expect(left.concatMat(right, Keep.both).to(Sink.ignore()).run(time.materializer)).toEqual(['left', 'right'])
    expect(left.concatMat(right, Keep.right).to(Sink.ignore()).run(time.materializer)).toBe('right')
  })

  it('works on a reusable Flow, materialized many times', async () => {
    const flow = Flow.create<number>().map((x) => x * 10).concat(Source.from([0]))
    expect(await Source.from([1, 2]).via(flow).runWith(Sink.seq(), time.materializer)).toEqual([10, 20, 0])
    expect(await Source.from([3]).via(flow).via(flow).runWith(Sink.seq(), time.materializer)).toEqual([300, 0, 0])
  })

  it('concatenates a source with itself', async () => {
    const s = Source.from([1, 2])
    expect(await s.concat(s).concat(s).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 1, 2, 1, 2])
  })
})

describe('ConcatStage with more than two inputs', () => {
  it('emits the inputs in order, skipping the ones that completed empty', async () => {
    const flow = new Flow<number, number>(
      fanInFlow(new ConcatStage<number>(4), 0, [Source.empty<number>().module, Source.from([2, 3]).module, Source.single(4).module]),
    )
    expect(await Source.single(1).via(flow).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3, 4])
  })

  it('rejects fewer than one input', () => {
    expect(() => new ConcatStage(0)).toThrow(InvalidArgumentError)
    expect(() => new ConcatStage(0)).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'inputs' }))
  })
})

describe('prepend', () => {
  it('emits every element of the other source first', async () => {
    expect(await Source.from([3, 4]).prepend(Source.from([1, 2])).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3, 4])
    expect(await Source.empty<number>().prepend(Source.from([1])).runWith(Sink.seq(), time.materializer)).toEqual([1])
    expect(await Source.from([1]).prepend(Source.empty()).runWith(Sink.seq(), time.materializer)).toEqual([1])
  })

  it('pulls this source only after the other completed', async () => {
    const { a, b, sink } = probes((x, y) => x.prepend(y))
    sink.request(1)
    await b.expectRequest()
    await sink.expectNoMessage()
    expect(a.pending).toBe(0)
    b.sendNext(1).sendComplete()
    await sink.expectNext(1)
    sink.request(1)
    await a.expectRequest()
    a.sendNext(2).sendComplete()
    await sink.expectNext(2)
    await sink.expectComplete()
  })

  it('propagates the cancellation cause to both inputs', async () => {
    const { a, b, sink } = probes((x, y) => x.prepend(y))
    sink.cancel(boom)
    expect(await a.expectCancellation()).toBe(boom)
    expect(await b.expectCancellation()).toBe(boom)
  })

  it('prependMat combines this blueprint’s value (left) with the other’s (right)', () => {
    const self = Source.single(2).mapMaterializedValue(() => 'self')
    const other = Source.single(1).mapMaterializedValue(() => 'other')
    expect(self.prepend(other).to(Sink.ignore()).run(time.materializer)).toBe('self')
    expect(self.prependMat(other, Keep.both).to(Sink.ignore()).run(time.materializer)).toEqual(['self', 'other'])
  })

  it('works on a Flow', async () => {
    const header = Flow.create<string>().prepend(Source.single('header'))
    expect(await Source.from(['a', 'b']).via(header).runWith(Sink.seq(), time.materializer)).toEqual(['header', 'a', 'b'])
  })
})

describe('orElse', () => {
  it('emits this source when it emits anything, ignoring the other', async () => {
    expect(await Source.from([1, 2]).orElse(Source.from([9])).runWith(Sink.seq(), time.materializer)).toEqual([1, 2])
  })

  it('emits the other source when this one completes empty', async () => {
    expect(await Source.empty<number>().orElse(Source.from([8, 9])).runWith(Sink.seq(), time.materializer)).toEqual([8, 9])
  })

  it('completes empty when both are empty', async () => {
    expect(await Source.empty<number>().orElse(Source.empty()).runWith(Sink.seq(), time.materializer)).toEqual([])
  })

  it('cancels the other source as soon as this one emits', async () => {
    const { a, b, sink } = probes((x, y) => x.orElse(y))
    sink.request(1)
    await a.expectRequest()
    a.sendNext(1)
    await sink.expectNext(1)
    expect(await b.expectCancellation()).toBe(NoMoreElementsNeeded)
    sink.request(1)
    a.sendNext(2).sendComplete()
    await sink.expectNext(2)
    await sink.expectComplete()
  })

  it('pulls the other source only after this one completed empty', async () => {
    const { a, b, sink } = probes((x, y) => x.orElse(y))
    sink.request(1)
    await a.expectRequest()
    await sink.expectNoMessage()
    expect(b.pending).toBe(0)
    a.sendComplete()
    await b.expectRequest()
    b.sendNext(7).sendComplete()
    await sink.expectNext(7)
    await sink.expectComplete()
  })

  it('waits for this source when the other completes first', async () => {
    const { a, b, sink } = probes((x, y) => x.orElse(y))
    sink.request(1)
    b.sendComplete()
    await sink.expectNoMessage()
    a.sendNext(1).sendComplete()
    await sink.expectNext(1)
    await sink.expectComplete()
  })

  it('fails when this source fails, cancelling the other with the error', async () => {
    const { a, b, sink } = probes((x, y) => x.orElse(y))
    a.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await b.expectCancellation()).toBe(boom)
  })

  it('fails when the other source fails after the switch', async () => {
    const { a, b, sink } = probes((x, y) => x.orElse(y))
    sink.request(1)
    a.sendComplete()
    await b.expectRequest()
    b.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
  })

  it('propagates the cancellation cause to both inputs', async () => {
    const { a, b, sink } = probes((x, y) => x.orElse(y))
    sink.cancel(boom)
    expect(await a.expectCancellation()).toBe(boom)
    expect(await b.expectCancellation()).toBe(boom)
  })

  it('orElseMat combines both materialized values', () => {
    const self = Source.empty<number>().mapMaterializedValue(() => 'self')
    const other = Source.single(1).mapMaterializedValue(() => 'other')
    expect(self.orElse(other).to(Sink.ignore()).run(time.materializer)).toBe('self')
    expect(self.orElseMat(other, Keep.both).to(Sink.ignore()).run(time.materializer)).toEqual(['self', 'other'])
  })

  it('works on a Flow (a default for an empty stream)', async () => {
    const orZero = Flow.create<number>().filter((x) => x > 10).orElse(Source.single(0))
    expect(await Source.from([1, 2]).via(orZero).runWith(Sink.seq(), time.materializer)).toEqual([0])
    expect(await Source.from([1, 20]).via(orZero).runWith(Sink.seq(), time.materializer)).toEqual([20])
  })
})

import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe, type SourceProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ClosedShape,
  GraphDSL,
  InvalidArgumentError,
  isNonFailureCancellation,
  Merge,
  MergePreferred,
  MergePrioritized,
  RunnableGraph,
  Sink,
  Source,
  SourceShape,
  StageWasCompleted,
  type FanInShapeN,
  type Graph,
} from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** `n` source probes feeding inputs 0 … n-1 of `junction`, its output into a sink probe. */
function fanIn<T>(junction: Graph<FanInShapeN<any, T>, any>, n: number): { sources: SourceProbe<T>[]; sink: SinkProbe<T> } {
  const graphs: Graph<any, any>[] = Array.from({ length: n }, () => TestSource.probe<T>())
  graphs.push(TestSink.probe<T>())
  const g = GraphDSL.createWithMat(graphs, (...mats: unknown[]) => mats, (b, ...ports) => {
    const j = b.add(junction)
    for (let i = 0; i < n; i++) b.from(ports[i].out).to(j.in(i))
    b.from(j.out).to(ports[n].in)
    return ClosedShape.instance
  })
  const mats = RunnableGraph.fromGraph(g).run(time.materializer)
  return { sources: mats.slice(0, n) as SourceProbe<T>[], sink: mats[n] as SinkProbe<T> }
}

/** `sources` merged by `junction` into Sink.seq. */
function run<T>(junction: Graph<FanInShapeN<any, T>, any>, sources: Source<T, any>[], t: VirtualTime): Promise<T[]> {
  const g = GraphDSL.create((b) => {
    const j = b.add(junction)
    sources.forEach((s, i) => b.from(s).to(j.in(i)))
    return new SourceShape(j.out)
  })
  return Source.fromGraph(g).runWith(Sink.seq(), t.materializer)
}

describe.each([true, false])('Merge (operator fusion %s)', (operatorFusion) => {
  it('emits every element of every input and completes when all inputs completed', async () => {
    const t = new VirtualTime({ operatorFusion })
    const out = await run(Merge.create<number>(3), [Source.from([1, 2]), Source.range(10, 12), Source.empty<number>()], t)
    expect([...out].sort((a, b) => a - b)).toEqual([1, 2, 10, 11, 12])
    expect(out.filter((x) => x < 10)).toEqual([1, 2]) // each input's order is kept
    await assertAllStagesStopped(t.materializer)
  })
})

describe('Merge', () => {
  it('pulls every input at start but pushes only on demand, one element per input waiting', async () => {
    const { sources: [a, b], sink } = fanIn(Merge.create<number>(2), 2)
    await a!.expectRequest()
    await b!.expectRequest()
    a!.sendNext(1).sendNext(2)
    b!.sendNext(10)
    await sink.expectNoMessage()
    expect(a!.pending).toBe(0) // 1 waits in the junction; 2 is not taken before 1 was emitted
    sink.request(1)
    await sink.expectNext(1)
    await a!.expectRequest()
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([10, 2]) // first come, first served
    sink.cancel()
  })

  it('keeps emitting from the other inputs after one completed, and completes after the last', async () => {
    const { sources: [a, b], sink } = fanIn(Merge.create<number>(2), 2)
    a!.sendComplete()
    b!.sendNext(1)
    await sink.requestNext(1)
    await sink.expectNoMessage()
    b!.sendNext(2).sendComplete()
    await sink.requestNext(2)
    await sink.expectComplete()
  })

  it('emits an element that waited in the junction before completing', async () => {
    const { sources: [a, b], sink } = fanIn(Merge.create<number>(2), 2)
    a!.sendNext(1).sendComplete()
    b!.sendComplete()
    await sink.expectNoMessage()
    await sink.requestNext(1)
    await sink.expectComplete()
  })

  it('with eagerComplete completes when one input completes, cancelling the others (not as a failure)', async () => {
    const { sources: [a, b], sink } = fanIn(Merge.create<number>(2, { eagerComplete: true }), 2)
    await b!.expectRequest()
    a!.sendComplete()
    await sink.expectComplete()
    const cause = await b!.expectCancellation()
    expect(cause).toBe(StageWasCompleted)
    expect(isNonFailureCancellation(cause)).toBe(true)
  })

  it('with eagerComplete still emits an element that already waited in the junction', async () => {
    const { sources: [a, b, c], sink } = fanIn(Merge.create<number>(3, { eagerComplete: true }), 3)
    b!.sendNext(7)
    await sink.expectNoMessage()
    a!.sendComplete()
    expect(await c!.expectCancellation()).toBe(StageWasCompleted)
    await sink.requestNext(7)
    await sink.expectComplete()
    await b!.expectCancellation()
  })

  it('fails when an input fails, cancelling the other inputs with the error', async () => {
    const { sources: [a, b], sink } = fanIn(Merge.create<number>(2), 2)
    a!.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await b!.expectCancellation()).toBe(boom)
  })

  it('cancels every input with the downstream cause', async () => {
    const { sources: [a, b], sink } = fanIn(Merge.create<number>(2), 2)
    const cause = new Error('client went away')
    sink.cancel(cause)
    expect(await a!.expectCancellation()).toBe(cause)
    expect(await b!.expectCancellation()).toBe(cause)
  })

  it('rejects a number of inputs below 1', () => {
    expect(() => Merge.create(0)).toThrow(InvalidArgumentError)
  })
})

describe('MergePreferred', () => {
  it('emits the preferred input first when several inputs have an element', async () => {
    // inlets: in(0), in(1) secondary, then the preferred one
    const { sources: [s0, s1, pref], sink } = fanIn(MergePreferred.create<string>(2), 3)
    s0!.sendNext('s0-1').sendNext('s0-2')
    s1!.sendNext('s1-1')
    pref!.sendNext('p1').sendNext('p2')
    await sink.expectNoMessage()
    const got: string[] = []
    for (let i = 0; i < 5; i++) got.push(await sink.requestNext()) // one at a time: every input refilled in between
    expect(got).toEqual(['p1', 'p2', 's0-1', 's1-1', 's0-2'])
    sink.cancel()
  })

  it('exposes the preferred inlet by name and completes when every input completed', async () => {
    const g = GraphDSL.create((b) => {
      const m = b.add(MergePreferred.create<number>(1))
      b.from(Source.from([1, 2])).to(m.in(0))
      b.from(Source.from([10, 20])).to(m.preferred)
      return new SourceShape(m.out)
    })
    const out = await Source.fromGraph(g).runWith(Sink.seq(), time.materializer)
    expect([...out].sort((a, b) => a - b)).toEqual([1, 2, 10, 20])
  })

  it('with eagerComplete completes when the preferred input completes', async () => {
    const { sources: [s0, pref], sink } = fanIn(MergePreferred.create<number>(1, { eagerComplete: true }), 2)
    pref!.sendComplete()
    await sink.expectComplete()
    expect(await s0!.expectCancellation()).toBe(StageWasCompleted)
  })

  it('cancels every input with the downstream cause', async () => {
    const { sources: [s0, pref], sink } = fanIn(MergePreferred.create<number>(1), 2)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await s0!.expectCancellation()).toBe(cause)
    expect(await pref!.expectCancellation()).toBe(cause)
  })
})

describe('MergePrioritized', () => {
  it('chooses among waiting inputs in proportion to their priorities, evenly spread', async () => {
    const { sources: [hi, lo], sink } = fanIn(MergePrioritized.create<string>([3, 1]), 2)
    for (let i = 0; i < 20; i++) {
      hi!.sendNext('hi')
      lo!.sendNext('lo')
    }
    await sink.expectNoMessage()
    const got: string[] = []
    for (let i = 0; i < 16; i++) got.push(await sink.requestNext())
    expect(got.slice(0, 4)).toEqual(['hi', 'hi', 'lo', 'hi'])
    expect(got.filter((x) => x === 'hi')).toHaveLength(12)
    sink.cancel()
  })

  it('emits from a lone waiting input whatever its priority', async () => {
    const { sources: [hi, lo], sink } = fanIn(MergePrioritized.create<string>([100, 1]), 2)
    lo!.sendNext('lo').sendComplete()
    await sink.requestNext('lo')
    hi!.sendComplete()
    await sink.expectComplete()
  })

  it('fails when an input fails, cancelling the other inputs with the error', async () => {
    const { sources: [a, b], sink } = fanIn(MergePrioritized.create<number>([1, 2]), 2)
    b!.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await a!.expectCancellation()).toBe(boom)
  })

  it('rejects priorities that are not positive', () => {
    expect(() => MergePrioritized.create([1, 0])).toThrow(InvalidArgumentError)
    expect(() => MergePrioritized.create([])).toThrow(InvalidArgumentError)
  })
})

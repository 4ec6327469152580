import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe, type SourceProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { ClosedShape, Concat, GraphDSL, Interleave, InvalidArgumentError, RunnableGraph, Sink, Source, SourceShape, type FanInShapeN, type Graph } from '../index.js'

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

function run<T>(junction: Graph<FanInShapeN<any, T>, any>, sources: Source<T, any>[], t: VirtualTime): Promise<T[]> {
  const g = GraphDSL.create((b) => {
    const j = b.add(junction)
    sources.forEach((s, i) => b.from(s).to(j.in(i)))
    return new SourceShape(j.out)
  })
  return Source.fromGraph(g).runWith(Sink.seq(), t.materializer)
}

describe.each([true, false])('Interleave (operator fusion %s)', (operatorFusion) => {
  it('emits segments of segmentSize from each input in turn, then the rest of the longer input', async () => {
    const t = new VirtualTime({ operatorFusion })
    const out = await run(Interleave.create<number>(2, 2), [Source.range(1, 5), Source.from([10, 20, 30])], t)
    expect(out).toEqual([1, 2, 10, 20, 3, 4, 30, 5])
    await assertAllStagesStopped(t.materializer)
  })
})

describe('Interleave', () => {
  it('rotates over three inputs, skipping one that completed', async () => {
    const out = await run(Interleave.create<string>(3, 1), [Source.from(['a1', 'a2', 'a3']), Source.from(['b1']), Source.from(['c1', 'c2'])], time)
    expect(out).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3'])
  })

  it('pulls only the input whose turn it is, and only on demand', async () => {
    const { sources: [a, b], sink } = fanIn(Interleave.create<number>(2, 1), 2)
    await sink.expectNoMessage()
    expect(a!.pending + b!.pending).toBe(0)
    sink.request(1)
    await a!.expectRequest()
    expect(b!.pending).toBe(0)
    a!.sendNext(1)
    await sink.expectNext(1)
    sink.request(1)
    await b!.expectRequest()
    expect(a!.pending).toBe(0)
    sink.cancel()
  })

  it('moves on to the next input when the current one completes mid-segment', async () => {
    const { sources: [a, b], sink } = fanIn(Interleave.create<number>(2, 3), 2)
    a!.sendNext(1)
    await sink.requestNext(1)
    sink.request(1)
    await a!.expectRequest()
    a!.sendComplete()
    await b!.expectRequest()
    b!.sendNext(10)
    await sink.expectNext(10)
    b!.sendComplete()
    await sink.expectComplete()
  })

  it('with eagerClose completes when any input completes, cancelling the others', async () => {
    const { sources: [a, b], sink } = fanIn(Interleave.create<number>(2, 1, { eagerClose: true }), 2)
    b!.sendComplete()
    await sink.expectComplete()
    await a!.expectCancellation()
  })

  it('fails when an input fails, even one whose turn it is not', async () => {
    const { sources: [a, b], sink } = fanIn(Interleave.create<number>(2, 1), 2)
    b!.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await a!.expectCancellation()).toBe(boom)
  })

  it('cancels every input with the downstream cause', async () => {
    const { sources: [a, b], sink } = fanIn(Interleave.create<number>(2, 1), 2)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await a!.expectCancellation()).toBe(cause)
    expect(await b!.expectCancellation()).toBe(cause)
  })

  it('rejects a segment size below 1', () => {
    expect(() => Interleave.create(2, 0)).toThrow(InvalidArgumentError)
  })
})

describe('Concat (junction)', () => {
  it('emits every element of input 0, then of input 1, and so on', async () => {
    const out = await run(Concat.create<number>(3), [Source.from([1, 2]), Source.empty<number>(), Source.from([3])], time)
    expect(out).toEqual([1, 2, 3])
  })

  it('pulls a later input only in its turn, and cancels all inputs with the downstream cause', async () => {
    const { sources: [a, b], sink } = fanIn(Concat.create<number>(2), 2)
    sink.request(1)
    await a!.expectRequest()
    expect(b!.pending).toBe(0)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await a!.expectCancellation()).toBe(cause)
    expect(await b!.expectCancellation()).toBe(cause)
  })
})

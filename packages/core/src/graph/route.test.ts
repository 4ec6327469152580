import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe, type SourceProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  Attributes,
  Balance,
  ClosedShape,
  GraphDSL,
  Partition,
  PartitionOutOfBoundsError,
  RunnableGraph,
  Sink,
  SinkShape,
  Source,
  WeirError,
  type FanOutShapeN,
  type Graph,
} from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** A source probe feeding `junction`, its outputs 0 … n-1 into sink probes. */
function fanOut<T>(junction: Graph<FanOutShapeN<T, any>, any>, n: number): { source: SourceProbe<T>; sinks: SinkProbe<T>[] } {
  const graphs: Graph<any, any>[] = [TestSource.probe<T>()]
  for (let i = 0; i < n; i++) graphs.push(TestSink.probe<T>())
  const g = GraphDSL.createWithMat(graphs, (...mats: unknown[]) => mats, (b, ...ports) => {
    const j = b.add(junction)
    b.connect(ports[0].out, j.in)
    for (let i = 0; i < n; i++) b.connect(j.out(i), ports[i + 1].in)
    return ClosedShape.instance
  })
  const mats = RunnableGraph.fromGraph(g).run(time.materializer)
  return { source: mats[0] as SourceProbe<T>, sinks: mats.slice(1) as SinkProbe<T>[] }
}

/** `junction`'s outputs into one Sink.seq each; resolves with what each output received. */
function collect<T>(junction: Graph<FanOutShapeN<T, any>, any>, n: number): Sink<T, Promise<T[][]>> {
  const sinks = Array.from({ length: n }, () => Sink.seq<T>())
  return Sink.fromGraph(
    GraphDSL.createWithMat(sinks, (...ps: Promise<T[]>[]) => Promise.all(ps), (b, ...ports) => {
      const j = b.add(junction)
      for (let i = 0; i < n; i++) b.from(j.out(i)).to(ports[i]!)
      return new SinkShape(j.in)
    }),
  )
}

describe.each([true, false])('Balance (operator fusion %s)', (operatorFusion) => {
  it('hands every element to exactly one output', async () => {
    const t = new VirtualTime({ operatorFusion })
    const parts = await Source.range(1, 30).map((x) => x).runWith(collect(Balance.create<number>(3), 3), t.materializer)
    expect(parts.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    await assertAllStagesStopped(t.materializer)
  })
})

describe('Balance', () => {
  it('sends each element to the output that pulled, and pulls upstream only while an output waits', async () => {
    const { source, sinks: [a, b] } = fanOut(Balance.create<number>(2), 2)
    await a!.expectNoMessage()
    expect(source.pending).toBe(0)
    b!.request(1)
    await source.expectRequest()
    source.sendNext(1)
    await b!.expectNext(1)
    await a!.expectNoMessage()
    expect(source.pending).toBe(0) // nobody waits
    a!.request(1)
    b!.request(1)
    await source.expectRequest()
    source.sendNext(2).sendNext(3)
    await a!.expectNext(2) // a pulled first
    await b!.expectNext(3)
    source.sendComplete()
    await a!.expectComplete()
    await b!.expectComplete()
  })

  it('with waitForAllDownstreams emits nothing until every output pulled once', async () => {
    const { source, sinks: [a, b] } = fanOut(Balance.create<number>(2, { waitForAllDownstreams: true }), 2)
    a!.request(1)
    await a!.expectNoMessage()
    expect(source.pending).toBe(0)
    b!.request(1)
    await source.expectRequest()
    source.sendNext(1).sendNext(2)
    await a!.expectNext(1)
    await b!.expectNext(2)
    a!.cancel()
    b!.cancel()
    await source.expectCancellation()
  })

  it('keeps serving the other outputs when one cancels, and cancels upstream with the last cause', async () => {
    const { source, sinks: [a, b] } = fanOut(Balance.create<number>(2), 2)
    a!.cancel(new Error('a left'))
    b!.request(1)
    source.sendNext(1)
    await b!.expectNext(1)
    const last = new Error('b left')
    b!.cancel(last)
    expect(await source.expectCancellation()).toBe(last)
  })

  it('with eagerCancel cancels upstream with the first cause and completes the other outputs', async () => {
    const { source, sinks: [a, b] } = fanOut(Balance.create<number>(2, { eagerCancel: true }), 2)
    const cause = new Error('a left')
    a!.cancel(cause)
    expect(await source.expectCancellation()).toBe(cause)
    await b!.expectComplete()
  })

  it('fails every output when upstream fails', async () => {
    const { source, sinks: [a, b] } = fanOut(Balance.create<number>(2), 2)
    source.sendError(boom)
    expect(await a!.expectError()).toBe(boom)
    expect(await b!.expectError()).toBe(boom)
  })
})

describe.each([true, false])('Partition (operator fusion %s)', (operatorFusion) => {
  it('routes each element to the output the partitioner chooses', async () => {
    const t = new VirtualTime({ operatorFusion })
    const parts = await Source.range(1, 7).runWith(collect(Partition.create<number>(3, (x) => x % 3), 3), t.materializer)
    expect(parts).toEqual([[3, 6], [1, 4, 7], [2, 5]])
    await assertAllStagesStopped(t.materializer)
  })
})

describe('Partition', () => {
  it('backpressures while the chosen output does, even if another output pulls', async () => {
    const { source, sinks: [evens, odds] } = fanOut(Partition.create<number>(2, (x) => x % 2), 2)
    evens!.request(5)
    await source.expectRequest()
    source.sendNext(1) // for odds, which has not pulled
    await evens!.expectNoMessage()
    expect(source.pending).toBe(0)
    odds!.request(1)
    await odds!.expectNext(1)
    await source.expectRequest()
    source.sendNext(2)
    await evens!.expectNext(2)
    evens!.cancel()
    odds!.cancel()
    await source.expectCancellation()
  })

  it('completes only after the element in hand was delivered', async () => {
    const { source, sinks: [evens, odds] } = fanOut(Partition.create<number>(2, (x) => x % 2), 2)
    evens!.request(1)
    source.sendNext(3).sendComplete()
    await odds!.expectNoMessage()
    await odds!.requestNext(3)
    await evens!.expectComplete()
    await odds!.expectComplete()
  })

  it('drops the elements for an output that cancelled and keeps serving the others', async () => {
    const { source, sinks: [evens, odds] } = fanOut(Partition.create<number>(2, (x) => x % 2), 2)
    odds!.cancel()
    evens!.request(2)
    source.sendNext(1).sendNext(2).sendNext(3).sendNext(4)
    expect(await evens!.expectNextN(2)).toEqual([2, 4])
    const cause = new Error('gone')
    evens!.cancel(cause)
    expect(await source.expectCancellation()).toBe(cause)
  })

  it('with eagerCancel cancels upstream with the first cause', async () => {
    const { source, sinks: [evens, odds] } = fanOut(Partition.create<number>(2, (x) => x % 2, { eagerCancel: true }), 2)
    const cause = new Error('gone')
    odds!.cancel(cause)
    expect(await source.expectCancellation()).toBe(cause)
    await evens!.expectComplete()
  })

  it('fails with PartitionOutOfBoundsError when the partitioner picks an output that does not exist', async () => {
    const { source, sinks: [a, b] } = fanOut(Partition.create<number>(2, (x) => x), 2)
    a!.request(1)
    source.sendNext(5)
    const err = await a!.expectError()
    expect(err).toBeInstanceOf(PartitionOutOfBoundsError)
    expect(err).toBeInstanceOf(WeirError)
    expect(err).toMatchObject({ code: 'WEIR_CORE_PARTITION_OUT_OF_BOUNDS', index: 5, outputs: 2 })
    await b!.expectError()
    expect(await source.expectCancellation()).toBe(err)
  })

  it('drops an element the partitioner failed on when the decider resumes', async () => {
    const partition = Partition.create<number>(2, (x) => {
      if (x === 2) throw boom
      return x % 2
    })
    const sink = collect(partition, 2).withAttributes(Attributes.supervisionStrategy(() => 'resume'))
    expect(await Source.range(1, 4).runWith(sink, time.materializer)).toEqual([[4], [1, 3]])
  })
})

import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe, type SourceProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  Attributes,
  Broadcast,
  ClosedShape,
  Flow,
  GraphDSL,
  InvalidArgumentError,
  RunnableGraph,
  Sink,
  SinkShape,
  Source,
  Unzip,
  UnzipWith,
  WireTap,
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
function fanOut<T>(junction: Graph<FanOutShapeN<T, any>, any>, n: number): { source: SourceProbe<T>; sinks: SinkProbe<any>[] } {
  const graphs: Graph<any, any>[] = [TestSource.probe<T>()]
  for (let i = 0; i < n; i++) graphs.push(TestSink.probe<unknown>())
  const g = GraphDSL.createWithMat(graphs, (...mats: unknown[]) => mats, (b, ...ports) => {
    const j = b.add(junction)
    b.connect(ports[0].out, j.in)
    for (let i = 0; i < n; i++) b.from(j.out(i)).to(ports[i + 1].in)
    return ClosedShape.instance
  })
  const mats = RunnableGraph.fromGraph(g).run(time.materializer)
  return { source: mats[0] as SourceProbe<T>, sinks: mats.slice(1) as SinkProbe<any>[] }
}

describe.each([true, false])('Broadcast (operator fusion %s)', (operatorFusion) => {
  it('emits every element to every output and completes them all', async () => {
    const t = new VirtualTime({ operatorFusion })
    const g = GraphDSL.createWithMat([Sink.seq<number>(), Sink.seq<number>()], (x, y) => Promise.all([x, y]), (b, x, y) => {
      const bcast = b.add(Broadcast.create<number>(2))
      b.from(bcast.out(0)).to(x)
      b.from(bcast.out(1)).via(Flow.create<number>().map((n) => n * 2)).to(y)
      return new SinkShape(bcast.in)
    })
    const [xs, ys] = await Source.range(1, 4).map((x) => x * 10).runWith(Sink.fromGraph(g), t.materializer)
    expect(xs).toEqual([10, 20, 30, 40])
    expect(ys).toEqual([20, 40, 60, 80])
    await assertAllStagesStopped(t.materializer)
  })
})

describe('Broadcast', () => {
  it('pulls upstream only once every output pulled: the slowest output sets the pace', async () => {
    const { source, sinks: [fast, slow] } = fanOut(Broadcast.create<number>(2), 2)
    fast!.request(3)
    await fast!.expectNoMessage()
    expect(source.pending).toBe(0)
    slow!.request(1)
    await source.expectRequest()
    source.sendNext(1)
    await fast!.expectNext(1)
    await slow!.expectNext(1)
    await fast!.expectNoMessage()
    expect(source.pending).toBe(0) // fast still wants 2 more, slow wants none
    slow!.request(1)
    await source.expectRequest()
    source.sendNext(2).sendComplete()
    await fast!.expectNext(2)
    await slow!.expectNext(2)
    await fast!.expectComplete()
    await slow!.expectComplete()
  })

  it('keeps serving the other outputs when one cancels, and cancels upstream with the last cause', async () => {
    const { source, sinks: [a, b] } = fanOut(Broadcast.create<number>(2), 2)
    b!.request(1)
    a!.cancel(new Error('a left'))
    await source.expectRequest() // a is no longer waited for
    source.sendNext(1)
    await b!.expectNext(1)
    const last = new Error('b left')
    b!.cancel(last)
    expect(await source.expectCancellation()).toBe(last)
  })

  it('with eagerCancel cancels upstream with the first cause and completes the other outputs', async () => {
    const { source, sinks: [a, b] } = fanOut(Broadcast.create<number>(2, { eagerCancel: true }), 2)
    const cause = new Error('a left')
    a!.cancel(cause)
    expect(await source.expectCancellation()).toBe(cause)
    await b!.expectComplete()
  })

  it('fails every output when upstream fails', async () => {
    const { source, sinks: [a, b] } = fanOut(Broadcast.create<number>(2), 2)
    source.sendError(boom)
    expect(await a!.expectError()).toBe(boom)
    expect(await b!.expectError()).toBe(boom)
  })

  it('rejects a number of outputs below 1', () => {
    expect(() => Broadcast.create(0)).toThrow(InvalidArgumentError)
  })
})

describe('Unzip', () => {
  it('splits pairs into two typed outputs', async () => {
    const g = GraphDSL.createWithMat([Sink.seq<number>(), Sink.seq<string>()], (x, y) => Promise.all([x, y]), (b, nums, strs) => {
      const unzip = b.add(Unzip.create<number, string>())
      b.from(unzip.out(0)).to(nums)
      b.from(unzip.out(1)).to(strs)
      return new SinkShape(unzip.in)
    })
    const [nums, strs] = await Source.from<[number, string]>([
      [1, 'a'],
      [2, 'b'],
    ]).runWith(Sink.fromGraph(g), time.materializer)
    expect(nums).toEqual([1, 2])
    expect(strs).toEqual(['a', 'b'])
  })

  it('backpressures when any output backpressures', async () => {
    const { source, sinks: [a, b] } = fanOut(Unzip.create<number, string>(), 2)
    a!.request(2)
    await a!.expectNoMessage()
    expect(source.pending).toBe(0)
    b!.request(1)
    await source.expectRequest()
    source.sendNext([1, 'x'])
    await a!.expectNext(1)
    await b!.expectNext('x')
    a!.cancel()
    b!.cancel()
    await source.expectCancellation()
  })

  it('cancels upstream once both outputs cancelled, with the last cause', async () => {
    const { source, sinks: [a, b] } = fanOut(Unzip.create<number, string>(), 2)
    a!.cancel()
    await b!.expectNoMessage()
    expect(source.end).toBeUndefined()
    const cause = new Error('gone')
    b!.cancel(cause)
    expect(await source.expectCancellation()).toBe(cause)
  })
})

describe('UnzipWith', () => {
  it('splits each element with the function into typed outputs', async () => {
    const g = GraphDSL.createWithMat(
      [Sink.seq<number>(), Sink.seq<string>(), Sink.seq<boolean>()],
      (x, y, z) => Promise.all([x, y, z]),
      (b, ids, names, admins) => {
        const split = b.add(UnzipWith.create(3, (u: { id: number; name: string }) => [u.id, u.name, u.id === 1]))
        b.from(split.out(0)).to(ids)
        b.from(split.out(1)).to(names)
        b.from(split.out(2)).to(admins)
        return new SinkShape(split.in)
      },
    )
    const users = [
      { id: 1, name: 'ann' },
      { id: 2, name: 'bob' },
    ]
    expect(await Source.from(users).runWith(Sink.fromGraph(g), time.materializer)).toEqual([
      [1, 2],
      ['ann', 'bob'],
      [true, false],
    ])
  })

  it('drops an element the function failed on when the decider resumes', async () => {
    const split = UnzipWith.create(2, (x: number) => {
      if (x === 2) throw boom
      return [x, -x]
    })
    const g = GraphDSL.createWithMat([Sink.seq<number>(), Sink.seq<number>()], (x, y) => Promise.all([x, y]), (b, pos, neg) => {
      const s = b.add(split)
      b.from(s.out(0)).to(pos)
      b.from(s.out(1)).to(neg)
      return new SinkShape(s.in)
    }).withAttributes(Attributes.supervisionStrategy(() => 'resume'))
    expect(await Source.from([1, 2, 3]).runWith(Sink.fromGraph(g), time.materializer)).toEqual([
      [1, 3],
      [-1, -3],
    ])
  })

  it('fails every output when the function throws and the decider stops', async () => {
    const { source, sinks: [a, b] } = fanOut(
      UnzipWith.create(2, (_x: number): [number, number] => {
        throw boom
      }),
      2,
    )
    a!.request(1)
    b!.request(1)
    source.sendNext(1)
    expect(await a!.expectError()).toBe(boom)
    expect(await b!.expectError()).toBe(boom)
    expect(await source.expectCancellation()).toBe(boom)
  })
})

describe('WireTap', () => {
  it('passes every element to main, and to the tap only when the tap has pulled', async () => {
    const { source, sinks: [main, tap] } = fanOut(WireTap.create<number>(), 2)
    main!.request(3)
    await source.expectRequest() // the tap never holds main back
    source.sendNext(1)
    await main!.expectNext(1)
    tap!.request(1)
    await tap!.expectNoMessage()
    source.sendNext(2).sendNext(3)
    await main!.expectNext(2)
    await main!.expectNext(3)
    await tap!.expectNext(2) // 3 arrived while the tap was busy: not delivered to it
    await tap!.expectNoMessage()
    source.sendComplete()
    await main!.expectComplete()
    await tap!.expectComplete()
  })

  it('keeps main running when the tap cancels', async () => {
    const { source, sinks: [main, tap] } = fanOut(WireTap.create<number>(), 2)
    tap!.cancel(new Error('tap gone'))
    main!.request(1)
    source.sendNext(1)
    await main!.expectNext(1)
    const cause = new Error('main gone')
    main!.cancel(cause)
    expect(await source.expectCancellation()).toBe(cause)
  })

  it('cancels upstream with the cause when main cancels, completing the tap', async () => {
    const { source, sinks: [main, tap] } = fanOut(WireTap.create<number>(), 2)
    const cause = new Error('main gone')
    main!.cancel(cause)
    expect(await source.expectCancellation()).toBe(cause)
    await tap!.expectComplete()
  })
})

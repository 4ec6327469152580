import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BidiFlow,
  BidiShape,
  Broadcast,
  ClosedShape,
  Concat,
  Flow,
  FlowShape,
  GraphBuildError,
  GraphDSL,
  InvalidArgumentError,
  Keep,
  Merge,
  MergePreferred,
  RunnableGraph,
  Sink,
  SinkShape,
  Source,
  SourceShape,
  WeirError,
  ZipWith,
  type GraphBuilder,
} from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)

/** The error `build` throws, checked to be a GraphBuildError. */
function buildError(build: () => unknown): GraphBuildError {
  try {
    build()
  } catch (e) {
    expect(e).toBeInstanceOf(GraphBuildError)
    expect(e).toBeInstanceOf(WeirError)
    expect((e as GraphBuildError).code).toBe('WEIR_CORE_GRAPH_BUILD')
    return e as GraphBuildError
  }
  throw new Error('expected the graph to be rejected')
}

describe.each([true, false])('GraphDSL (operator fusion %s)', (operatorFusion) => {
  it('builds a source from a broadcast, a flow and a merge', async () => {
    const t = new VirtualTime({ operatorFusion })
    const g = GraphDSL.create((b) => {
      const bcast = b.add(Broadcast.create<number>(2))
      const merge = b.add(Merge.create<number>(2))
      b.from(Source.range(1, 3)).to(bcast.in)
      b.from(bcast.out(0)).via(Flow.create<number>().map((x) => x + 10)).to(merge.in(0))
      b.from(bcast.out(1)).to(merge.in(1))
      return new SourceShape(merge.out)
    })
    expect(sorted(await Source.fromGraph(g).runWith(Sink.seq(), t.materializer))).toEqual([1, 2, 3, 11, 12, 13])
    await assertAllStagesStopped(t.materializer)
  })
})

describe('GraphDSL', () => {
  it('hands out fresh ports per add, so one blueprint can be added twice', async () => {
    const inc = Flow.create<number>().map((x) => x + 1)
    const merge = Merge.create<number>(2)
    const g = GraphDSL.create((b) => {
      const m1 = b.add(merge)
      const m2 = b.add(merge)
      expect(m1.in(0)).not.toBe(m2.in(0))
      expect(m1.in(0)).not.toBe(merge.shape.in(0))
      b.from(Source.single(1)).via(inc).via(inc).to(m1.in(0))
      b.from(Source.single(10)).to(m1.in(1))
      b.from(m1.out).to(m2.in(0))
      b.from(Source.single(100)).via(inc).to(m2.in(1))
      return new SourceShape(m2.out)
    })
    expect(sorted(await Source.fromGraph(g).runWith(Sink.seq(), time.materializer))).toEqual([3, 10, 101])
  })

  it('wires through the ports of flows and sinks added beforehand', async () => {
    const g = GraphDSL.createWithMat([Sink.seq<string>()], (seq) => seq, (b, out) => {
      const label = b.add(Flow.create<number>().map((x) => `n${x}`))
      const upper = b.add(Flow.create<string>().map((s) => s.toUpperCase()))
      b.from(Source.from([1, 2])).via(label).via(upper).to(out)
      return ClosedShape.instance
    })
    expect(await RunnableGraph.fromGraph(g).run(time.materializer)).toEqual(['N1', 'N2'])
  })

  it('builds a blueprint that runs any number of times', async () => {
    const doubled = GraphDSL.create((b) => {
      const bcast = b.add(Broadcast.create<number>(2))
      const merge = b.add(Merge.create<number>(2))
      b.from(bcast.out(0)).to(merge.in(0))
      b.from(bcast.out(1)).to(merge.in(1))
      return new FlowShape(bcast.in, merge.out)
    })
    const flow = Flow.fromGraph(doubled)
    expect(await Source.from([1, 2]).via(flow).runWith(Sink.seq(), time.materializer)).toEqual([1, 1, 2, 2])
    expect(await Source.from([3]).via(flow).runWith(Sink.seq(), time.materializer)).toEqual([3, 3])
  })

  it('nests one built graph inside another', async () => {
    const doubled = GraphDSL.create((b) => {
      const bcast = b.add(Broadcast.create<number>(2))
      const merge = b.add(Merge.create<number>(2))
      b.from(bcast.out(0)).to(merge.in(0))
      b.from(bcast.out(1)).to(merge.in(1))
      return new FlowShape(bcast.in, merge.out)
    })
    const quadrupled = GraphDSL.create((b) => {
      const first = b.add(doubled)
      const second = b.add(doubled)
      b.connect(first.out, second.in)
      return new FlowShape(first.in, second.out)
    })
    expect(await Source.single(7).via(Flow.fromGraph(quadrupled)).runWith(Sink.seq(), time.materializer)).toEqual([7, 7, 7, 7])
  })

  it('builds sinks and closed graphs', async () => {
    const both = GraphDSL.createWithMat([Sink.seq<number>(), Sink.seq<number>()], Keep.both, (b, evens, odds) => {
      const bcast = b.add(Broadcast.create<number>(2))
      b.from(bcast.out(0)).via(Flow.create<number>().filter((x) => x % 2 === 0)).to(evens)
      b.from(bcast.out(1)).via(Flow.create<number>().filter((x) => x % 2 === 1)).to(odds)
      return new SinkShape(bcast.in)
    })
    const [evens, odds] = Source.range(1, 5).runWith(Sink.fromGraph(both), time.materializer)
    expect(await evens).toEqual([2, 4])
    expect(await odds).toEqual([1, 3, 5])

    const closed = GraphDSL.createWithMat([Sink.seq<string>()], (seq) => seq, (b, out) => {
      b.from(Source.from(['a', 'b'])).via(Flow.create<string>().map((s) => s.toUpperCase())).to(out)
      return ClosedShape.instance
    })
    expect(await RunnableGraph.fromGraph(closed).run(time.materializer)).toEqual(['A', 'B'])
  })

  it('keeps the materialized values of the graphs given to createWithMat, and drops those of b.add', async () => {
    const g = GraphDSL.createWithMat(
      [TestSource.probe<number>(), TestSink.probe<number>()],
      (source, sink) => ({ source, sink }),
      (b, source, sink) => {
        const added = b.add(Sink.seq<number>()) // its promise is not part of the result
        const bcast = b.add(Broadcast.create<number>(2))
        b.from(source.out).to(bcast.in)
        b.from(bcast.out(0)).to(sink.in)
        b.from(bcast.out(1)).to(added.in)
        return ClosedShape.instance
      },
    )
    const mat = RunnableGraph.fromGraph(g).run(time.materializer)
    expect(Object.keys(mat)).toEqual(['source', 'sink'])
    mat.sink.request(1)
    mat.source.sendNext(5).sendComplete()
    await mat.sink.expectNext(5)
    await mat.sink.expectComplete()
  })

  it('passes on its result to mapMaterializedValue and named', async () => {
    const g = GraphDSL.createWithMat([Sink.seq<number>()], (p) => p, (b, seq) => new SinkShape(seq.in))
      .mapMaterializedValue((p) => p.then((xs) => xs.length))
      .named('counter')
    expect(await Source.range(1, 4).runWith(Sink.fromGraph(g), time.materializer)).toBe(4)
  })

  it('runs graphs whose parts are in separate islands', async () => {
    const g = GraphDSL.create((b) => {
      const merge = b.add(Merge.create<number>(2))
      b.from(Source.range(1, 50).async()).to(merge.in(0))
      b.from(Source.range(51, 100)).via(Flow.create<number>().map((x) => x).async()).to(merge.in(1))
      return new SourceShape(merge.out)
    })
    const out = await Source.fromGraph(g).runWith(Sink.seq(), time.materializer)
    expect(sorted(out)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
  })

  it('composes a bidirectional layer with a junction inside, and closes it over a transport', async () => {
    // outbound numbers are encoded and also logged; inbound strings are decoded
    const codec = GraphDSL.createWithMat([Sink.seq<string>()], (log) => log, (b, log) => {
      const encode = b.add(Flow.create<number>().map((n) => `#${n}`))
      const tee = b.add(Broadcast.create<string>(2))
      const decode = b.add(Flow.create<string>().map((s) => Number(s.slice(1))))
      b.from(encode.out).to(tee.in)
      b.from(tee.out(1)).to(log)
      return new BidiShape(encode.in, tee.out(0), decode.in, decode.out)
    })
    const layer = BidiFlow.fromGraph(codec)
    const transport = Flow.create<string>().map((s) => `${s}0`) // the wire multiplies by ten
    const [log, out] = Source.from([1, 2, 3])
      .viaMat(layer.joinMat(transport, Keep.left), Keep.right)
      .toMat(Sink.seq(), Keep.both)
      .run(time.materializer)
    expect(await out).toEqual([10, 20, 30])
    expect(await log).toEqual(['#1', '#2', '#3'])

    // the same layer, added to a builder and closed over the transport there
    const roundTrip = GraphDSL.create((b) => {
      const l = b.add(layer)
      b.from(l.out1).via(transport).to(l.in2)
      return new FlowShape(l.in1, l.out2)
    })
    expect(await Source.from([4]).via(Flow.fromGraph(roundTrip)).runWith(Sink.seq(), time.materializer)).toEqual([40])
  })

  describe('cycles', () => {
    /** Running sums: each input element plus the previous sum, fed back through a concat seeded with 0. */
    function runningSums(feedback: Flow<number, number, any> | undefined) {
      return GraphDSL.createWithMat([TestSink.probe<number>()], (sink) => sink, (b, sink) => {
        const add = b.add(ZipWith.create((x: number, acc: number) => x + acc))
        const bcast = b.add(Broadcast.create<number>(2, { eagerCancel: true }))
        const seeded = b.add(Concat.create<number>(2))
        b.from(Source.from([1, 2, 3, 4, 5])).to(add.in(0))
        b.from(seeded.out).to(add.in(1))
        b.from(add.out).to(bcast.in)
        b.from(bcast.out(0)).to(sink)
        b.from(Source.single(0)).to(seeded.in(0))
        const back = b.from(bcast.out(1))
        ;(feedback === undefined ? back : back.via(feedback)).to(seeded.in(1))
        return ClosedShape.instance
      })
    }

    it('runs a feedback cycle made live by a buffer', async () => {
      const sink = RunnableGraph.fromGraph(runningSums(Flow.create<number>().buffer(1, 'backpressure'))).run(time.materializer)
      sink.request(10)
      expect(await sink.expectNextN(5)).toEqual([1, 3, 6, 10, 15])
      await sink.expectComplete()
    })

    it('deadlocks the same cycle without the buffer (and tears it down on cancellation)', async () => {
      const sink = RunnableGraph.fromGraph(runningSums(undefined)).run(time.materializer)
      sink.request(10)
      await sink.expectNoMessage()
      sink.cancel()
    })

    it('re-injects fed-back elements ahead of new input through MergePreferred', async () => {
      // countdown: every element n > 0 comes back as n - 1 and is preferred over the next input
      const g = GraphDSL.createWithMat([Sink.seq<number>()], (seq) => seq, (b, out) => {
        const merge = b.add(MergePreferred.create<number>(1))
        const bcast = b.add(Broadcast.create<number>(2, { eagerCancel: true }))
        b.from(Source.from([2, 3])).to(merge.in(0))
        b.from(merge.out).to(bcast.in)
        b.from(bcast.out(0)).via(Flow.create<number>().take(7)).to(out)
        b.from(bcast.out(1))
          .via(Flow.create<number>().filter((n) => n > 0).map((n) => n - 1).buffer(2, 'backpressure'))
          .to(merge.preferred)
        return ClosedShape.instance
      })
      expect(await RunnableGraph.fromGraph(g).run(time.materializer)).toEqual([2, 1, 0, 3, 2, 1, 0])
    })
  })

  describe('rejects', () => {
    it('ports left unconnected, naming them', () => {
      const err = buildError(() =>
        GraphDSL.create((b) => {
          const merge = b.add(Merge.create<number>(3))
          b.from(Source.single(1)).to(merge.in(0))
          return new SourceShape(merge.out)
        }),
      )
      expect(err.unconnected).toEqual(['merge.in1', 'merge.in2'])
      expect(err.connectedTwice).toEqual([])
    })

    it('a port connected twice', () => {
      const err = buildError(() =>
        GraphDSL.create((b) => {
          const bcast = b.add(Broadcast.create<number>(2))
          const merge = b.add(Merge.create<number>(2))
          b.connect(bcast.out(0), merge.in(0))
          b.connect(bcast.out(0), merge.in(1))
          b.from(bcast.out(1)).to(Sink.ignore())
          return new FlowShape(bcast.in, merge.out)
        }),
      )
      expect(err.connectedTwice).toEqual(['broadcast.out0'])
      expect(err.unconnected).toEqual([]) // merge.in1 was the target of the rejected connection
    })

    it('a port both connected and returned in the shape', () => {
      const err = buildError(() =>
        GraphDSL.create((b) => {
          const merge = b.add(Merge.create<number>(1))
          b.from(Source.single(1)).to(merge.in(0))
          b.from(merge.out).to(Sink.ignore())
          return new SourceShape(merge.out)
        }),
      )
      expect(err.connectedTwice).toEqual(['merge.out'])
    })

    it('ports not handed out by this builder', () => {
      const stage = Merge.create<number>(1)
      let other!: SourceShape<number>
      GraphDSL.create((b) => (other = b.add(Source.single(1))))
      const err = buildError(() =>
        GraphDSL.create((b) => {
          const merge = b.add(stage)
          b.connect(other.out, merge.in(0))
          return new SourceShape(stage.shape.out) // the stage's own port, not the added copy
        }),
      )
      expect(err.foreign).toEqual(['from.out', 'merge.out'])
      expect(err.unconnected).toEqual(['merge.out']) // the added copy's outlet: neither connected nor returned
    })

    it('the use of a builder after its graph was built', () => {
      let saved!: GraphBuilder
      GraphDSL.create((b) => {
        saved = b
        return ClosedShape.instance
      })
      const err = buildError(() => saved.add(Merge.create<number>(2)))
      expect(err.sealed).toBe(true)
    })

    it('a graph of another shape in fromGraph', () => {
      const flowShaped = GraphDSL.create((b) => {
        const merge = b.add(Merge.create<number>(1))
        return new FlowShape(merge.in(0), merge.out)
      })
      expect(() => Source.fromGraph(flowShaped)).toThrow(InvalidArgumentError)
      expect(() => Sink.fromGraph(flowShaped)).toThrow(InvalidArgumentError)
      expect(() => Flow.fromGraph(flowShaped)).not.toThrow()
    })
  })
})

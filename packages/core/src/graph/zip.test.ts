import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SinkProbe, type SourceProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  Attributes,
  ClosedShape,
  GraphDSL,
  InvalidArgumentError,
  RunnableGraph,
  Sink,
  Source,
  SourceShape,
  Zip,
  ZipLatest,
  ZipLatestWith,
  ZipN,
  ZipWith,
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
function fanIn<O>(junction: Graph<FanInShapeN<any, O>, any>, n: number): { sources: SourceProbe<any>[]; sink: SinkProbe<O> } {
  const graphs: Graph<any, any>[] = Array.from({ length: n }, () => TestSource.probe<unknown>())
  graphs.push(TestSink.probe<O>())
  const g = GraphDSL.createWithMat(graphs, (...mats: unknown[]) => mats, (b, ...ports) => {
    const j = b.add(junction)
    for (let i = 0; i < n; i++) b.from(ports[i].out).to(j.in(i))
    b.from(j.out).to(ports[n].in)
    return ClosedShape.instance
  })
  const mats = RunnableGraph.fromGraph(g).run(time.materializer)
  return { sources: mats.slice(0, n) as SourceProbe<any>[], sink: mats[n] as SinkProbe<O> }
}

describe.each([true, false])('Zip (operator fusion %s)', (operatorFusion) => {
  it('pairs the elements of both inputs in order and completes with the shorter input', async () => {
    const t = new VirtualTime({ operatorFusion })
    const g = GraphDSL.create((b) => {
      const zip = b.add(Zip.create<number, string>())
      b.from(Source.range(1, 5).map((x) => x * 10)).to(zip.in(0))
      b.from(Source.from(['a', 'b', 'c'])).to(zip.in(1))
      return new SourceShape(zip.out)
    })
    expect(await Source.fromGraph(g).runWith(Sink.seq(), t.materializer)).toEqual([
      [10, 'a'],
      [20, 'b'],
      [30, 'c'],
    ])
    await assertAllStagesStopped(t.materializer)
  })
})

describe('Zip', () => {
  it('takes one element per input ahead and pushes only on demand', async () => {
    const { sources: [a, b], sink } = fanIn(Zip.create<number, string>(), 2)
    await a!.expectRequest()
    await b!.expectRequest()
    a!.sendNext(1).sendNext(2)
    b!.sendNext('x')
    await sink.expectNoMessage()
    expect(a!.pending).toBe(0) // 2 is not taken while 1 waits
    await sink.requestNext([1, 'x'])
    await a!.expectRequest()
    await b!.expectRequest()
    sink.cancel()
  })

  it('completes at once when an input completes with no element waiting, cancelling the other', async () => {
    const { sources: [a, b], sink } = fanIn(Zip.create<number, string>(), 2)
    a!.sendComplete()
    await sink.expectComplete()
    await b!.expectCancellation()
  })

  it('emits the last pair before completing when the completed input still had an element waiting', async () => {
    const { sources: [a, b], sink } = fanIn(Zip.create<number, string>(), 2)
    a!.sendNext(1).sendComplete()
    await sink.expectNoMessage()
    b!.sendNext('x')
    await sink.requestNext([1, 'x'])
    await sink.expectComplete()
    await b!.expectCancellation()
  })

  it('fails when an input fails, cancelling the other with the error', async () => {
    const { sources: [a, b], sink } = fanIn(Zip.create<number, string>(), 2)
    b!.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await a!.expectCancellation()).toBe(boom)
  })

  it('cancels every input with the downstream cause', async () => {
    const { sources: [a, b], sink } = fanIn(Zip.create<number, string>(), 2)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await a!.expectCancellation()).toBe(cause)
    expect(await b!.expectCancellation()).toBe(cause)
  })
})

describe('ZipWith', () => {
  it('combines one element of each of three typed inputs', async () => {
    const g = GraphDSL.create((b) => {
      const zip = b.add(ZipWith.create((n: number, s: string, upper: boolean) => (upper ? s.toUpperCase() : s).repeat(n)))
      b.from(Source.from([1, 2, 3])).to(zip.in(0))
      b.from(Source.from(['a', 'b', 'c'])).to(zip.in(1))
      b.from(Source.from([false, true])).to(zip.in(2))
      return new SourceShape(zip.out)
    })
    expect(await Source.fromGraph(g).runWith(Sink.seq(), time.materializer)).toEqual(['a', 'BB'])
  })

  it('drops a combination the function failed on when the decider resumes', async () => {
    const g = GraphDSL.create((b) => {
      const zip = b.add(
        ZipWith.create((x: number, y: number) => {
          if (x === 2) throw boom
          return x + y
        }),
      )
      b.from(Source.from([1, 2, 3])).to(zip.in(0))
      b.from(Source.from([10, 20, 30])).to(zip.in(1))
      return new SourceShape(zip.out)
    }).withAttributes(Attributes.supervisionStrategy(() => 'resume'))
    expect(await Source.fromGraph(g).runWith(Sink.seq(), time.materializer)).toEqual([11, 33])
  })

  it('fails the stream when the function throws and the decider stops', async () => {
    const { sources: [a, b], sink } = fanIn(
      ZipWith.create((_x: number, _y: number): number => {
        throw boom
      }),
      2,
    )
    a!.sendNext(1)
    b!.sendNext(2)
    sink.request(1)
    expect(await sink.expectError()).toBe(boom)
    await a!.expectCancellation()
  })

  it('rejects fewer than two inputs', () => {
    expect(() => ZipWith.create((...xs: number[]) => xs.length)).toThrow(InvalidArgumentError)
  })
})

describe('ZipN', () => {
  it('combines one element of each input into an array', async () => {
    const g = GraphDSL.create((b) => {
      const zip = b.add(ZipN.create<number>(3))
      b.from(Source.from([1, 2])).to(zip.in(0))
      b.from(Source.from([10, 20])).to(zip.in(1))
      b.from(Source.from([100])).to(zip.in(2))
      return new SourceShape(zip.out)
    })
    expect(await Source.fromGraph(g).runWith(Sink.seq(), time.materializer)).toEqual([[1, 10, 100]])
  })
})

describe('ZipLatest', () => {
  it('emits nothing until both inputs emitted, then the latest pair for each new element', async () => {
    const { sources: [a, b], sink } = fanIn(ZipLatest.create<number, string>(), 2)
    sink.request(10)
    a!.sendNext(1)
    await sink.expectNoMessage()
    b!.sendNext('a')
    await sink.expectNext([1, 'a'])
    b!.sendNext('b')
    await sink.expectNext([1, 'b'])
    a!.sendNext(2)
    await sink.expectNext([2, 'b'])
    sink.cancel()
  })

  it('pulls an input again only once its element was combined, and combines what arrived under backpressure once', async () => {
    const { sources: [a, b], sink } = fanIn(ZipLatest.create<number, string>(), 2)
    a!.sendNext(1)
    b!.sendNext('x')
    await sink.expectNoMessage()
    expect(a!.pending).toBe(0)
    expect(b!.pending).toBe(0)
    await sink.requestNext([1, 'x'])
    await a!.expectRequest()
    await b!.expectRequest()
    a!.sendNext(2)
    b!.sendNext('y')
    await sink.expectNoMessage()
    await sink.requestNext([2, 'y'])
    sink.request(1)
    await sink.expectNoMessage() // nothing new: no repeat of the last pair
    sink.cancel()
  })

  it('completes at once when an input completes before both emitted', async () => {
    const { sources: [a, b], sink } = fanIn(ZipLatest.create<number, string>(), 2)
    a!.sendNext(1)
    b!.sendComplete()
    await sink.expectComplete()
    await a!.expectCancellation()
  })

  it('completes when either input completes, after the pending combination was emitted', async () => {
    const { sources: [a, b], sink } = fanIn(ZipLatest.create<number, string>(), 2)
    a!.sendNext(1)
    b!.sendNext('x').sendComplete()
    await sink.expectNoMessage()
    await sink.requestNext([1, 'x'])
    await sink.expectComplete()
    await a!.expectCancellation()
  })

  it('with eagerComplete false, keeps combining the latest element of a completed input until all completed', async () => {
    const { sources: [a, b], sink } = fanIn(ZipLatest.create<number, string>({ eagerComplete: false }), 2)
    sink.request(10)
    a!.sendNext(1).sendComplete()
    b!.sendNext('x')
    await sink.expectNext([1, 'x'])
    b!.sendNext('y')
    await sink.expectNext([1, 'y'])
    b!.sendComplete()
    await sink.expectComplete()
  })

  it('fails when an input fails, cancelling the other with the error', async () => {
    const { sources: [a, b], sink } = fanIn(ZipLatest.create<number, string>(), 2)
    a!.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await b!.expectCancellation()).toBe(boom)
  })

  it('cancels every input with the downstream cause', async () => {
    const { sources: [a, b], sink } = fanIn(ZipLatestWith.create((x: number, y: number) => x + y), 2)
    const cause = new Error('gone')
    sink.cancel(cause)
    expect(await a!.expectCancellation()).toBe(cause)
    expect(await b!.expectCancellation()).toBe(cause)
  })
})

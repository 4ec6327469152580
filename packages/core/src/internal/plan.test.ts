/**
 * Specification of materialization plans: a blueprint run many times reuses its analysis, yet
 * every run has its own stages — state, async-boundary buffers and materialized values are never
 * shared between runs, whether the runs overlap or follow one another.
 */
import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, Materializer, RunnableGraph, Sink, Source } from '../index.js'

describe('materializing one blueprint several times', () => {
  it('gives every run its own stage state (a stateful operator starts afresh)', async () => {
    const m = Materializer.create()
    const graph = Source.from([1, 2, 3])
      .scan(0, (a, x) => a + x)
      .toMat(Sink.seq(), Keep.right)
    expect(await graph.run(m)).toEqual([0, 1, 3, 6])
    expect(await graph.run(m)).toEqual([0, 1, 3, 6])
    await assertAllStagesStopped(m)
  })

  it('runs overlapping materializations independently, each with its own materialized values', async () => {
    const m = Materializer.create()
    const graph = TestSource.probe<number>().toMat(TestSink.probe<number>(), Keep.both)
    const [src1, sink1] = graph.run(m)
    const [src2, sink2] = graph.run(m)
    expect(src1).not.toBe(src2)
    sink1.request(1)
    sink2.request(1)
    src1.sendNext(1)
    src2.sendNext(2)
    await sink1.expectNext(1)
    await sink2.expectNext(2)
    src2.sendComplete()
    await sink2.expectComplete()
    src1.sendNext(3)
    sink1.request(1)
    await sink1.expectNext(3)
    src1.sendComplete()
    await sink1.expectComplete()
    await assertAllStagesStopped(m)
  })

  it('gives every run of a blueprint with async boundaries its own boundary buffers', async () => {
    const m = Materializer.create({ inputBuffer: 2 })
    const graph = Source.range(1, 200)
      .map((x) => x * 2)
      .async()
      .via(Flow.create<number>().map((x) => x + 1).async())
      .toMat(Sink.seq(), Keep.right)
    const expected = Array.from({ length: 200 }, (_, i) => (i + 1) * 2 + 1)
    const runs = [graph.run(m), graph.run(m), graph.run(m)]
    expect(m.runningIslands).toBe(9)
    for (const result of await Promise.all(runs)) expect(result).toEqual(expected)
    expect(await graph.run(m)).toEqual(expected)
    await assertAllStagesStopped(m)
  })

  it('reuses the analysis per materializer: the same blueprint runs with and without operator fusion', async () => {
    const graph = Source.range(1, 5)
      .map((x) => x * 10)
      .filter((x) => x !== 30)
      .toMat(Sink.seq(), Keep.right)
    const fused = Materializer.create()
    const unfused = Materializer.create({ operatorFusion: false })
    expect(await graph.run(fused)).toEqual([10, 20, 40, 50])
    expect(await graph.run(unfused)).toEqual([10, 20, 40, 50])
    expect(await graph.run(fused)).toEqual([10, 20, 40, 50])
    expect(await graph.run(unfused)).toEqual([10, 20, 40, 50])
    await assertAllStagesStopped(fused)
    await assertAllStagesStopped(unfused)
  })

  it('rejects a graph with open ports every time it is materialized', () => {
    const m = Materializer.create()
    const open = new RunnableGraph(Source.single(1).map((x) => x + 1).module)
    expect(() => open.run(m)).toThrow(InvalidArgumentError)
    expect(() => open.run(m)).toThrow(InvalidArgumentError)
    expect(m.runningStages()).toEqual([])
  })
})

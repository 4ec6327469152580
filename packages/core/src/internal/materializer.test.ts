/**
 * Specification of the Materializer: it accepts only closed graphs, gives every materialization
 * its own stages, starts streams in the executor's next run (never inside `run()`), reports
 * what still runs, and on `shutdown()` stops every stream and refuses new ones.
 *
 * Shared contract: errors are typed (`InvalidArgumentError` for open ports and bad settings,
 * `StreamDetachedError` after shutdown); materialized promises of streams torn down by a
 * shutdown are rejected, never left pending; `runningStages()` is empty once streams stopped.
 */
import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, settle, TestSink } from '@weir/testkit'
import {
  AbruptTerminationError,
  InvalidArgumentError,
  Keep,
  Materializer,
  RunnableGraph,
  Sink,
  Source,
  StreamDetachedError,
  WeirError,
} from '../index.js'
import { Module } from './module.js'

describe('materialize', () => {
  it('rejects a graph with open ports with InvalidArgumentError naming them', () => {
    const m = Materializer.create()
    const open = Source.single(1).map((x) => x + 1)
    let error: unknown
    try {
      new RunnableGraph(open.module).run(m)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'graph' })
    expect(String((error as InvalidArgumentError).value)).toContain('map.out')
    expect(m.runningStages()).toEqual([])
  })

  it('rejects an open inlet as well as an open outlet', () => {
    const m = Materializer.create()
    expect(() => m.materialize(Sink.seq<number>().module)).toThrow(InvalidArgumentError)
    expect(() => m.materialize(Module.juxtapose(Source.single(1).module, Sink.seq().module, Keep.none))).toThrow(InvalidArgumentError)
  })

  it('rejects an inputBuffer below 1 with InvalidArgumentError', () => {
    expect(() => Materializer.create({ inputBuffer: 0 })).toThrow(InvalidArgumentError)
    try {
      Materializer.create({ inputBuffer: 0 })
    } catch (e) {
      expect(e).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'inputBuffer', value: 0 })
    }
  })

  it('does not start the stream inside run(): nothing runs before the caller yields', async () => {
    const m = Materializer.create()
    const seen: number[] = []
    const done = Source.from([1, 2, 3]).runWith(Sink.foreach((x: number) => seen.push(x)), m)
    expect(seen).toEqual([])
    await done
    expect(seen).toEqual([1, 2, 3])
  })

  it.each([true, false])('gives every materialization of one blueprint its own, independent stages (fusion %s)', async (operatorFusion) => {
    const m = Materializer.create({ operatorFusion })
    const graph = Source.range(1, 100)
      .zipWithIndex()
      .map(([x, i]) => x - i)
      .take(50)
      .fold(0, (a, x) => a + x)
      .async()
      .toMat(Sink.head(), Keep.right)
    const results = await Promise.all(Array.from({ length: 20 }, () => graph.run(m)))
    expect(results).toEqual(Array.from({ length: 20 }, () => 50))
    await assertAllStagesStopped(m)
  })

  it('materializes a fresh materialized value each time', async () => {
    const m = Materializer.create()
    const graph = Source.from([1, 2]).toMat(Sink.seq(), Keep.right)
    const a = graph.run(m)
    const b = graph.run(m)
    expect(a).not.toBe(b)
    expect(await a).toEqual([1, 2])
    expect(await b).toEqual([1, 2])
  })
})

describe('runningStages and runningIslands', () => {
  it('list the stages of a running stream, and are empty once it completed', async () => {
    const m = Materializer.create()
    const probe = Source.range(1, 100).map((x) => x).async().runWith(TestSink.probe<number>(), m)
    await settle(m)
    expect(m.runningStages()).toContain('TestSink.probe')
    expect(m.runningIslands).toBe(2)
    probe.request(3)
    expect(await probe.expectNextN(3)).toEqual([1, 2, 3])
    probe.cancel()
    await assertAllStagesStopped(m)
    expect(m.runningStages()).toEqual([])
    expect(m.runningIslands).toBe(0)
  })

  it('are empty after a failed stream', async () => {
    const m = Materializer.create()
    await expect(Source.failed(new Error('x')).async().runWith(Sink.seq(), m)).rejects.toThrow('x')
    await assertAllStagesStopped(m)
    expect(m.runningIslands).toBe(0)
  })
})

describe('shutdown', () => {
  const stopped = (e: unknown): boolean =>
    e instanceof WeirError && (e instanceof AbruptTerminationError || e instanceof StreamDetachedError)

  it('stops every running stream: their sinks reject with AbruptTerminationError or StreamDetachedError', async () => {
    const m = Materializer.create()
    const a = Source.never<number>().runWith(Sink.seq(), m)
    const b = Source.repeat(1).async().map((x) => x).runWith(Sink.ignore(), m)
    const c = Source.never<number>().async().runWith(Sink.head(), m)
    await new Promise((resolve) => setImmediate(resolve)) // (an endless stream is never idle: no settle here)
    m.shutdown()
    const errors = await Promise.all([a, b, c].map((p) => p.then(() => 'resolved', (e: unknown) => e)))
    for (const e of errors) {
      expect(stopped(e)).toBe(true)
      expect(['WEIR_CORE_ABRUPT_TERMINATION', 'WEIR_CORE_DETACHED']).toContain((e as WeirError).code)
    }
    expect(m.runningStages()).toEqual([])
    expect(m.runningIslands).toBe(0)
    expect(m.isShutdown).toBe(true)
  })

  it('stops streams that have not started yet', async () => {
    const m = Materializer.create()
    const done = Source.from([1, 2, 3]).runWith(Sink.seq(), m)
    m.shutdown()
    const e = await done.then(() => 'resolved', (err: unknown) => err)
    expect(stopped(e)).toBe(true)
    expect(m.runningStages()).toEqual([])
  })

  it('reports the teardown to a probe as a failure', async () => {
    const m = Materializer.create()
    const probe = Source.never<number>().runWith(TestSink.probe<number>(), m)
    await settle(m)
    m.shutdown()
    expect(stopped(await probe.expectError())).toBe(true)
    expect(probe.isStopped).toBe(true)
  })

  it('makes later materialization throw StreamDetachedError', () => {
    const m = Materializer.create()
    m.shutdown()
    expect(() => Source.single(1).runWith(Sink.seq(), m)).toThrow(StreamDetachedError)
    try {
      Source.single(1).runWith(Sink.seq(), m)
    } catch (e) {
      expect(e).toMatchObject({ code: 'WEIR_CORE_DETACHED' })
    }
  })

  it('leaves other materializers running', async () => {
    const a = Materializer.create()
    const b = Materializer.create()
    const onB = Source.from([1, 2]).async().runWith(Sink.seq(), b)
    a.shutdown()
    expect(await onB).toEqual([1, 2])
    expect(b.isShutdown).toBe(false)
  })
})

describe('whenIdle', () => {
  it('resolves at once when nothing runs', async () => {
    await expect(Materializer.create().whenIdle()).resolves.toBeUndefined()
  })

  it('resolves once the streams have no pending work, after a finished stream settled its value', async () => {
    const m = Materializer.create()
    let result: number | undefined
    void Source.range(1, 100_000)
      .async()
      .runWith(Sink.fold(0, (a: number, x: number) => a + x), m)
      .then((r) => (result = r))
    await m.whenIdle()
    expect(result).toBe(5_000_050_000)
    expect(m.runningStages()).toEqual([])
  })

  it('resolves while a stream waits for outside events (idle is not finished)', async () => {
    const m = Materializer.create()
    const probe = Source.never<number>().runWith(TestSink.probe<number>(), m)
    await m.whenIdle()
    expect(m.runningStages().length).toBeGreaterThan(0)
    probe.cancel()
    await assertAllStagesStopped(m)
  })
})

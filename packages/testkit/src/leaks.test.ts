import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { Keep, Sink, Source } from '@weir/core'
import { StagesStillRunningError, activeHandles, activeResources, assertAllStagesStopped } from './leaks.js'
import { TestSink } from './TestSink.js'
import { TestSource } from './TestSource.js'
import { VirtualTime } from './VirtualTime.js'

describe('assertAllStagesStopped', () => {
  it('resolves once every stream of the materializer has finished', async () => {
    const time = new VirtualTime()
    const done = Source.range(1, 10).map((x) => x + 1).async().runWith(Sink.seq(), time.materializer)
    await assertAllStagesStopped(time.materializer) // the stream has not even started yet
    expect(await done).toHaveLength(10)
    expect(time.materializer.runningStages()).toEqual([])
  })

  it('fails with the names of the stages still running', async () => {
    const time = new VirtualTime()
    const probe = Source.never<number>().runWith(TestSink.probe<number>(), time.materializer)
    const e = await assertAllStagesStopped(time.materializer, { timeoutMs: 0 }).catch((e: unknown) => e)
    expect(e).toBeInstanceOf(StagesStillRunningError)
    expect((e as StagesStillRunningError).code).toBe('WEIR_TESTKIT_STAGES_RUNNING')
    expect((e as StagesStillRunningError).stages).toEqual(expect.arrayContaining(['never', 'TestSink.probe']))
    probe.cancel()
    await assertAllStagesStopped(time.materializer)
  })

  it('detects a stream left waiting for demand', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<number>().toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    src.sendNext(1)
    await expect(assertAllStagesStopped(time.materializer, { timeoutMs: 0 })).rejects.toBeInstanceOf(StagesStillRunningError)
    sink.cancel()
    await assertAllStagesStopped(time.materializer)
  })
})

describe('activeHandles', () => {
  it('counts a listening server until it is closed, ignoring timers', async () => {
    const timer = setTimeout(() => {}, 10_000)
    const before = activeHandles()
    expect(activeResources()).not.toContain('Timeout')
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    expect(activeHandles()).toBe(before + 1)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve)) // the close phase
    expect(activeHandles()).toBe(before)
    clearTimeout(timer)
  })
})

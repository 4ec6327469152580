import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped } from '@weir/testkit'
import { Keep, KillSwitches, Materializer, Sink, Source } from '../index.js'

describe.each([true, false])('a busy island (operatorFusion: %s)', (operatorFusion) => {
  it('still receives outside events: a kill switch stops an endless stream', async () => {
    const mat = Materializer.create({ operatorFusion })
    const [kill, done] = Source.repeat(1)
      .viaMat(KillSwitches.single(), Keep.right)
      .watchTermination(Keep.both)
      .to(Sink.ignore())
      .run(mat)
    setImmediate(() => kill.shutdown())
    await expect(done).resolves.toBeUndefined()
    await assertAllStagesStopped(mat)
  })
})

describe('the executor under load', () => {
  it('yields to the event loop after a few milliseconds of work, however few the events', async () => {
    const mat = Materializer.create()
    // each element costs real work (tens of microseconds): 32 768 of them would take seconds
    let sink = 0
    const [kill, done] = Source.repeat(1)
      .map((x) => {
        for (let i = 0; i < 20_000; i++) sink += i % 7
        return x
      })
      .viaMat(KillSwitches.single(), Keep.right)
      .watchTermination(Keep.both)
      .to(Sink.ignore())
      .run(mat)
    const started = performance.now()
    // an immediate queued now runs at the first yield
    const waited = await new Promise<number>((resolve) => setImmediate(() => resolve(performance.now() - started)))
    kill.shutdown()
    await done
    expect(sink).toBeGreaterThan(0)
    expect(waited).toBeLessThan(250) // the default turn is 4 ms; generous for a loaded machine
    await assertAllStagesStopped(mat)
  })
})

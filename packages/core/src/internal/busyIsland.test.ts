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
  it('yields to the event loop within about a thousand events, so I/O callbacks run between slices of a busy stream', async () => {
    const mat = Materializer.create()
    let elements = 0
    const [kill, done] = Source.repeat(1)
      .map((x) => {
        elements++
        return x
      })
      .viaMat(KillSwitches.single(), Keep.right)
      .watchTermination(Keep.both)
      .to(Sink.ignore())
      .run(mat)
    // an immediate queued now runs at the first yield; before that the stream runs unbroken
    const seenAtYield = await new Promise<number>((resolve) => setImmediate(() => resolve(elements)))
    kill.shutdown()
    await done
    expect(seenAtYield).toBeGreaterThan(0)
    expect(seenAtYield).toBeLessThan(4096)
    await assertAllStagesStopped(mat)
  })
})

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

import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped } from '@weir/testkit'
import { GraphStage, GraphStageLogic, Inlet, Materializer, SinkShape, Sink, Source, type Logger } from '../index.js'

/** A sink that logs each element and, once per island run, a flush deferred with `afterRun`. */
class FlushingSink extends GraphStage<SinkShape<number>> {
  readonly shape = new SinkShape(new Inlet<number>('FlushingSink.in'))
  constructor(
    readonly log: string[],
    readonly failFlush = false,
  ) {
    super()
  }
  createLogic(): GraphStageLogic {
    return new FlushingLogic(this)
  }
}

class FlushingLogic extends GraphStageLogic {
  #pending: number[] = []
  constructor(readonly stage: FlushingSink) {
    super(stage.shape)
    this.setHandler(stage.shape.in, this)
  }
  override preStart(): void {
    this.pull(this.stage.shape.in)
  }
  onPush(): void {
    const x = this.grab(this.stage.shape.in)
    this.stage.log.push(`push ${x}`)
    if (this.#pending.length === 0) {
      this.afterRun(() => {
        if (this.stage.failFlush) throw new Error('flush failed')
        this.stage.log.push(`flush ${this.#pending.join(',')}`)
        this.#pending = []
      })
    }
    this.#pending.push(x)
    this.pull(this.stage.shape.in)
  }
}

describe('afterRun', () => {
  it('runs once after the island\'s run: what one run pushed is flushed together, before the stream goes on', async () => {
    const mat = Materializer.create()
    const log: string[] = []
    await Source.from([1, 2, 3, 4, 5]).runWith(Sink.fromGraph(new FlushingSink(log)).mapMaterializedValue(() => mat.whenIdle()), mat)
    expect(log).toEqual(['push 1', 'push 2', 'push 3', 'push 4', 'push 5', 'flush 1,2,3,4,5'])
    await assertAllStagesStopped(mat)
  })

  it('runs the callbacks of a small batch of islands, not only at the end of a long turn', async () => {
    const mat = Materializer.create()
    const log: string[] = []
    for (let i = 0; i < 100; i++) Source.single(i).runWith(Sink.fromGraph(new FlushingSink(log)), mat)
    await mat.whenIdle()
    expect(log.filter((l) => l.startsWith('flush'))).toHaveLength(100)
    // every island's flush follows its push; the first flushes come long before the last island ran
    for (let i = 0; i < 100; i++) expect(log.indexOf(`flush ${i}`)).toBeGreaterThan(log.indexOf(`push ${i}`))
    expect(log.indexOf('flush 0')).toBeLessThan(log.indexOf('push 50'))
    await assertAllStagesStopped(mat)
  })

  it('reports a throwing callback to the logger and runs the others', async () => {
    const errors: unknown[] = []
    const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: (_m, e) => void errors.push(e) }
    const mat = Materializer.create({ logger })
    const good: string[] = []
    Source.single(1).runWith(Sink.fromGraph(new FlushingSink([], true)), mat)
    Source.single(2).runWith(Sink.fromGraph(new FlushingSink(good)), mat)
    await mat.whenIdle()
    expect(errors).toEqual([new Error('flush failed')])
    expect(good).toEqual(['push 2', 'flush 2'])
    await assertAllStagesStopped(mat)
  })
})

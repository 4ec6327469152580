import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, VirtualTime } from '@weir/testkit'
import { GraphStage, GraphStageLogic, Materializer, Outlet, Source, SourceShape, SubSinkInlet, type NotUsed } from '../index.js'

/**
 * A source that runs each of `inners` in turn through a sub-sink, one after the other, and
 * emits their elements; `fused` picks the sub-fusing materializer or the stage's own.
 */
class Sequence<T> extends GraphStage<SourceShape<T>> {
  readonly shape = new SourceShape(new Outlet<T>('Sequence.out'))
  islandsSeen: number[] = []
  logicsSeen: number[] = []
  constructor(
    readonly inners: readonly Source<T, NotUsed>[],
    readonly fused: boolean,
  ) {
    super()
  }
  createLogic(): GraphStageLogic {
    return new SequenceLogic(this)
  }
}

class SequenceLogic<T> extends GraphStageLogic {
  #next = 0
  #sub: SubSinkInlet<T> | undefined
  constructor(readonly stage: Sequence<T>) {
    super(stage.shape)
    this.setHandler(stage.shape.out, { onPull: () => this.#pullInner() })
  }
  #pullInner(): void {
    const stage = this.stage
    if (this.#sub === undefined) {
      if (this.#next === stage.inners.length) return this.completeStage()
      const sub = new SubSinkInlet<T>(this, `inner-${this.#next}`)
      this.#sub = sub
      sub.setHandler({
        onPush: () => this.push(stage.shape.out, sub.grab()),
        onUpstreamFinish: () => {
          this.#sub = undefined
          if (this.isAvailable(stage.shape.out)) this.#pullInner()
        },
      })
      // the previous inner graph has stopped: its stages must have left this island
      stage.logicsSeen.push(this._interpreter!.logics.length)
      stage.inners[this.#next++]!.runWith(sub.sink, stage.fused ? this.subFusingMaterializer : this.materializer)
      stage.islandsSeen.push(this.materializer.runningIslands)
    }
    this.#sub.pull()
  }
}

describe('the sub-fusing materializer', () => {
  it('runs a sub-graph in the calling stage\'s island: no island more, and its stages leave when it stops', async () => {
    const time = new VirtualTime()
    const inners = [1, 2, 3].map((k) => Source.from([k, k * 10]).map((x) => x + 1).filter((x) => x > 0))
    const stage = new Sequence(inners, true)
    const probe = Source.fromGraph(stage).runWith(TestSink.probe<number>(), time.materializer)
    probe.request(10)
    expect(await probe.expectNextN(6)).toEqual([2, 11, 3, 21, 4, 31])
    await probe.expectComplete()
    // the outer stream is one island (source and probe); no inner graph added one
    expect(stage.islandsSeen).toEqual([1, 1, 1])
    // each inner graph's stages joined the island and left it: the count does not grow
    expect(stage.logicsSeen).toEqual([2, 2, 2])
    await assertAllStagesStopped(time.materializer)
  })

  it('without sub-fusing, each inner graph is an island of its own (the contrast)', async () => {
    const time = new VirtualTime()
    const stage = new Sequence([Source.from([1, 2])], false)
    const probe = Source.fromGraph(stage).runWith(TestSink.probe<number>(), time.materializer)
    probe.request(10)
    expect(await probe.expectNextN(2)).toEqual([1, 2])
    await probe.expectComplete()
    expect(stage.islandsSeen).toEqual([2])
    await assertAllStagesStopped(time.materializer)
  })

  it('keeps an async boundary inside the sub-graph: the part behind it is its own island', async () => {
    const time = new VirtualTime()
    const stage = new Sequence([Source.from([1, 2, 3]).async().map((x) => x * 2)], true)
    const probe = Source.fromGraph(stage).runWith(TestSink.probe<number>(), time.materializer)
    probe.request(10)
    expect(await probe.expectNextN(3)).toEqual([2, 4, 6])
    await probe.expectComplete()
    expect(stage.islandsSeen).toEqual([2])
    await assertAllStagesStopped(time.materializer)
  })

  it('a failing sub-graph fails its sub-sink, and a shutdown stops sub-fused stages with the island', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    const failing = new Sequence([Source.failed<number>(boom)], true)
    const p1 = Source.fromGraph(failing).runWith(TestSink.probe<number>(), time.materializer)
    p1.request(1)
    expect(await p1.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)

    const mat = Materializer.create({ scheduler: time })
    const endless = new Sequence([Source.repeat(1)], true)
    const p2 = Source.fromGraph(endless).runWith(TestSink.probe<number>(), mat)
    p2.request(1)
    expect(await p2.expectNext()).toBe(1)
    mat.shutdown()
    await p2.expectError()
    expect(mat.runningStages()).toEqual([])
  })
})

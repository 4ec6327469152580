/**
 * Specification of blueprint composition: Source, Flow, Sink, RunnableGraph, BidiFlow and Keep.
 *
 * Shared contract: blueprints are immutable values that can be composed and run any number of
 * times; `via`/`to` keep the left materialized value and `viaMat`/`toMat`/`joinMat`/`atopMat`
 * combine both with a `Keep` or any function; `mapMaterializedValue` runs once per
 * materialization; `Flow.create()` is a neutral element of composition; attributes set on a
 * composite reach every stage inside it — but not stages composed later — and a stage's own (or
 * an inner composite's) attributes win; `.async()` puts a composite in its own island.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, settle, TestSink } from '@weir/testkit'
import {
  Attributes,
  BidiFlow,
  Flow,
  FlowShape,
  GraphStageLogic,
  GraphStageWithMaterializedValue,
  Inlet,
  Keep,
  Materializer,
  Outlet,
  Sink,
  Source,
  Supervision,
  type InHandler,
  type OutHandler,
} from './index.js'

const m = Materializer.create()
afterEach(async () => {
  await assertAllStagesStopped(m)
})

const src = () => Source.from([1, 2, 3]).mapMaterializedValue(() => 'S')
const double = () => Flow.fromFunction((x: number) => x * 2).mapMaterializedValue(() => 'F')

describe('Keep in viaMat and toMat', () => {
  it.each([
    ['Keep.left', Keep.left, 'S'],
    ['Keep.right', Keep.right, 'F'],
    ['Keep.both', Keep.both, ['S', 'F']],
    ['Keep.none', Keep.none, undefined],
    ['a custom combine', (l: string, r: string) => `${l}+${r}`, 'S+F'],
  ] as const)('viaMat with %s', async (_name, combine, expected) => {
    const [mat, out] = src()
      .viaMat(double(), combine as (l: string, r: string) => unknown)
      .toMat(Sink.seq(), Keep.both)
      .run(m)
    expect(mat).toEqual(expected)
    expect(await out).toEqual([2, 4, 6])
  })

  it('via and to keep the left value', async () => {
    expect(src().via(double()).to(Sink.ignore()).run(m)).toBe('S')
  })

  it('toMat with Keep.right gives the sink’s value, with Keep.both both', async () => {
    expect(await src().toMat(Sink.seq(), Keep.right).run(m)).toEqual([1, 2, 3])
    const [s, out] = src().toMat(Sink.seq(), Keep.both).run(m)
    expect(s).toBe('S')
    expect(await out).toEqual([1, 2, 3])
  })

  it('combines values inside a flow (viaMat) and a sink (Flow.toMat)', async () => {
    const flow = double().viaMat(Flow.fromFunction((x: number) => x + 1).mapMaterializedValue(() => 'G'), Keep.both)
    expect(src().viaMat(flow, Keep.right).to(Sink.ignore()).run(m)).toEqual(['F', 'G'])
    const [f, out] = src().runWith(double().toMat(Sink.seq(), Keep.both), m)
    expect(f).toBe('F')
    expect(await out).toEqual([2, 4, 6])
  })
})

describe('mapMaterializedValue', () => {
  it('runs once per materialization, even when Keep drops its value', async () => {
    let runs = 0
    const counted = Flow.create<number>().map((x) => x).mapMaterializedValue(() => ++runs)
    const graph = Source.from([1]).viaMat(counted, Keep.left).toMat(Sink.seq(), Keep.right)
    await graph.run(m)
    await graph.run(m)
    await graph.run(m)
    expect(runs).toBe(3)
  })

  it('does not run while a blueprint is only being built', () => {
    let runs = 0
    Source.from([1]).mapMaterializedValue(() => ++runs).map((x) => x).to(Sink.ignore())
    expect(runs).toBe(0)
  })
})

describe('Flow.create()', () => {
  it('passes elements through unchanged and keeps the upstream value', async () => {
    const [s, out] = src().via(Flow.create<number>()).toMat(Sink.seq(), Keep.both).run(m)
    expect(s).toBe('S')
    expect(await out).toEqual([1, 2, 3])
  })

  it('starts a reusable chain, and as a sink prefix passes to the sink', async () => {
    const chain = Flow.create<number>().map((x) => x * 10)
    expect(await Source.from([1, 2]).via(chain).via(chain).runWith(Sink.seq(), m)).toEqual([100, 200])
    expect(await Source.from([1, 2]).runWith(Flow.create<number>().toMat(Sink.seq(), Keep.right), m)).toEqual([1, 2])
  })

  it.each([
    ['named', () => Flow.create<number>().named('n')],
    ['async', () => Flow.create<number>().async()],
    ['mapMaterializedValue', () => Flow.create<number>().mapMaterializedValue(() => 'x')],
  ])('composes like any flow after %s', async (_name, make) => {
    expect(await Source.from([1, 2]).via(make()).runWith(Sink.seq(), m)).toEqual([1, 2])
  })
})

describe('Flow.fromSinkAndSource and Flow.join', () => {
  it('fromSinkAndSource sends input into the sink and emits the source, uncoupled', async () => {
    const flow = Flow.fromSinkAndSourceMat(Sink.seq<number>(), Source.from(['a', 'b']), Keep.left)
    const [input, out] = Source.from([1, 2, 3]).viaMat(flow, Keep.right).toMat(Sink.seq(), Keep.both).run(m)
    expect(await input).toEqual([1, 2, 3])
    expect(await out).toEqual(['a', 'b'])
  })

  it('join closes a flow over another: each one’s output is the other’s input', async () => {
    const collector = Flow.fromSinkAndSourceMat(Sink.seq<number>(), Source.from([1, 2, 3]), Keep.left)
    const out = collector.joinMat(Flow.fromFunction((x: number) => x * 10), Keep.left).run(m)
    expect(await out).toEqual([10, 20, 30])
  })
})

describe('BidiFlow', () => {
  const codec = () =>
    BidiFlow.fromFunctions(
      (x: number) => String(x),
      (s: string) => Number(s),
    )
  const framing = () =>
    BidiFlow.fromFlows(
      Flow.create<string>().map((s) => `<${s}>`),
      Flow.create<string>().map((f) => f.slice(1, -1)),
    )

  it('stacks layers with atop and closes them over a transport with join', async () => {
    const wire: string[] = []
    const echo = Flow.create<string>().map((f) => (wire.push(f), f))
    const out = await Source.from([1, 2, 3]).via(codec().atop(framing()).join(echo)).runWith(Sink.seq(), m)
    expect(out).toEqual([1, 2, 3])
    expect(wire).toEqual(['<1>', '<2>', '<3>'])
  })

  it('reversed is the same layer seen from the other side', async () => {
    const server = codec().atop(framing()).reversed().join(Flow.fromFunction((n: number) => n + 1))
    expect(await Source.from(['<1>', '<41>']).via(server).runWith(Sink.seq(), m)).toEqual(['<2>', '<42>'])
  })

  it('identity is neutral in a stack', async () => {
    const stack = BidiFlow.identity<number, number>().atop(codec()).atop(BidiFlow.identity<string, string>())
    const wire: string[] = []
    const out = await Source.from([7]).via(stack.join(Flow.create<string>().map((s) => (wire.push(s), s)))).runWith(Sink.seq(), m)
    expect(out).toEqual([7])
    expect(wire).toEqual(['7'])
  })

  it('combines materialized values with fromFlowsMat, atopMat and joinMat', () => {
    const layer = BidiFlow.fromFlowsMat(
      Flow.create<number>().map((x) => x).mapMaterializedValue(() => 'out'),
      Flow.create<number>().map((x) => x).mapMaterializedValue(() => 'in'),
      Keep.both,
    )
    const stacked = layer.atopMat(BidiFlow.identity<number, number>().mapMaterializedValue(() => 'id'), Keep.both)
    const flow = stacked.joinMat(Flow.create<number>().map((x) => x).mapMaterializedValue(() => 'transport'), Keep.both)
    expect(Source.single(1).viaMat(flow, Keep.right).to(Sink.ignore()).run(m)).toEqual([[['out', 'in'], 'id'], 'transport'])
  })

  it('runs a layer in its own island with async()', async () => {
    const out = await Source.from([1, 2, 3]).via(codec().async().join(Flow.create<string>())).runWith(Sink.seq(), m)
    expect(out).toEqual([1, 2, 3])
  })
})

// ---- attribute scope ----

/** Passes elements through and materializes the attributes it was created with. */
class AttributesLogic extends GraphStageLogic implements InHandler, OutHandler {
  constructor(readonly flow: FlowShape<number, number>) {
    super(flow)
    this.setHandlers(flow.in, flow.out, this)
  }
  onPush(): void {
    this.push(this.flow.out, this.grab(this.flow.in))
  }
  onPull(): void {
    this.pull(this.flow.in)
  }
}

class AttributesProbe extends GraphStageWithMaterializedValue<FlowShape<number, number>, Attributes> {
  readonly shape = new FlowShape(new Inlet<number>('AttributesProbe.in'), new Outlet<number>('AttributesProbe.out'))
  constructor(readonly own: Attributes = Attributes.none) {
    super()
  }
  override get initialAttributes(): Attributes {
    return this.own
  }
  createLogicAndMaterializedValue(attributes: Attributes): readonly [GraphStageLogic, Attributes] {
    return [new AttributesLogic(this.shape), attributes]
  }
}

const attributesOf = (flow: Flow<number, number, Attributes>): Attributes =>
  Source.single(1).viaMat(flow, Keep.right).to(Sink.ignore()).run(m)

describe('attributes', () => {
  const extra = (value: string) => Attributes.of({ extra: { 'test.key': value } })

  it('set on a composite reach the stages inside it', () => {
    const inner = Flow.fromGraph(new AttributesProbe()).map((x) => x)
    const a = attributesOf(Flow.create<number>().viaMat(inner, Keep.right).withAttributes(extra('outer')).named('outer'))
    expect(a.extra('test.key')).toBe('outer')
    expect(a.name).toBe('outer')
  })

  it('set on a RunnableGraph reach every stage', () => {
    const a = Source.single(1)
      .viaMat(Flow.fromGraph(new AttributesProbe()), Keep.right)
      .to(Sink.ignore())
      .withAttributes(extra('graph'))
      .run(m)
    expect(a.extra('test.key')).toBe('graph')
  })

  it('lose to the stage’s own attributes', () => {
    const own = Attributes.of({ name: 'own', extra: { 'test.key': 'own' } })
    const a = attributesOf(Flow.fromGraph(new AttributesProbe(own)).withAttributes(extra('outer')).named('outer'))
    expect(a.name).toBe('own')
    expect(a.extra('test.key')).toBe('own')
  })

  it('lose to an inner composite’s attributes', () => {
    const a = attributesOf(Flow.fromGraph(new AttributesProbe()).withAttributes(extra('inner')).withAttributes(extra('outer')))
    expect(a.extra('test.key')).toBe('inner')
  })
})

describe('withSupervision', () => {
  const failOnZero = (x: number): number => {
    if (x === 0) throw new Error('zero')
    return x
  }

  it.each([true, false])('applies to the operators of the blueprint it is called on (fusion %s)', async (operatorFusion) => {
    const mat = Materializer.create({ operatorFusion })
    const out = Source.from([1, 0, 2]).map(failOnZero).withSupervision(Supervision.resumingDecider).runWith(Sink.seq(), mat)
    expect(await out).toEqual([1, 2])
    await assertAllStagesStopped(mat)
  })

  it('does not reach operators appended afterwards', async () => {
    const out = Source.from([1, 0, 2]).map((x) => x).withSupervision(Supervision.resumingDecider).map(failOnZero).runWith(Sink.seq(), m)
    await expect(out).rejects.toThrow('zero')
  })

  it('set on an inner composite wins over an outer one', async () => {
    const inner = Flow.create<number>().map(failOnZero).withSupervision(Supervision.stoppingDecider)
    const out = Source.from([1, 0, 2]).via(inner).withSupervision(Supervision.resumingDecider).runWith(Sink.seq(), m)
    await expect(out).rejects.toThrow('zero')
  })
})

describe('async() on a composite', () => {
  it('runs the whole composite in one island of its own', async () => {
    const composite = Flow.create<number>().map((x) => x + 1).filter(() => true).map((x) => x * 2).async()
    const probe = Source.never<number>().via(composite).runWith(TestSink.probe<number>(), m)
    await settle(m)
    expect(m.runningIslands).toBe(3)
    probe.cancel()
  })

  it('passes elements, completion and order through', async () => {
    const composite = Flow.create<number>().map((x) => x + 1).filter((x) => x % 2 === 0).async()
    expect(await Source.range(1, 10).via(composite).runWith(Sink.seq(), m)).toEqual([2, 4, 6, 8, 10])
  })

  it('works on a sink', async () => {
    expect(await Source.range(1, 3).runWith(Flow.create<number>().map((x) => -x).toMat(Sink.seq(), Keep.right).async(), m)).toEqual([-1, -2, -3])
  })
})

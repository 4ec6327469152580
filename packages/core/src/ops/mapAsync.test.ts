import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, NonFailureCancellation, Sink, Source, Supervision, type Logger } from '../index.js'

/** A function whose calls return promises the test settles by hand; counts calls in flight. */
class ManualCalls {
  readonly calls: { readonly input: number; resolve(v: number): void; reject(e: unknown): void }[] = []
  inFlight = 0
  maxInFlight = 0
  readonly fn = (x: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      this.inFlight++
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
      let settled = false
      const done = (): boolean => {
        if (settled) return false
        settled = true
        this.inFlight--
        return true
      }
      this.calls.push({ input: x, resolve: (v) => done() && resolve(v), reject: (e) => done() && reject(e) })
    })
  get inputs(): number[] {
    return this.calls.map((c) => c.input)
  }
  of(input: number): { resolve(v: number): void; reject(e: unknown): void } {
    const c = this.calls.find((call) => call.input === input)
    if (c === undefined) throw new Error(`no call for ${input}`)
    return c
  }
}

/** Records what the materializer logs at error level (a stage failing while failing, a throwing postStop). */
function recordingLogger(errors: unknown[][]): Logger {
  const ignore = (): void => {}
  return { debug: ignore, info: ignore, warn: ignore, error: (...args: unknown[]) => void errors.push(args) }
}

const boom = new Error('boom')

type AsyncOp = (parallelism: number, f: (x: number) => Promise<number> | number) => Flow<number, number>
const variants: { readonly name: string; readonly op: AsyncOp }[] = [
  { name: 'mapAsync', op: (p, f) => Flow.create<number>().mapAsync(p, f) },
  { name: 'mapAsyncUnordered', op: (p, f) => Flow.create<number>().mapAsyncUnordered(p, f) },
]

let time: VirtualTime
let loggedErrors: unknown[][]
const unhandled: unknown[] = []
const onUnhandled = (e: unknown): void => void unhandled.push(e)

beforeEach(() => {
  loggedErrors = []
  unhandled.length = 0
  time = new VirtualTime({ logger: recordingLogger(loggedErrors) })
  process.on('unhandledRejection', onUnhandled)
})

afterEach(async () => {
  await assertAllStagesStopped(time.materializer)
  process.off('unhandledRejection', onUnhandled)
  expect(unhandled).toEqual([])
  expect(loggedErrors).toEqual([])
})

function probes(flow: Flow<number, number>) {
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, sink }
}

describe.each(variants)('$name (shared contract)', ({ op }) => {
  it('transforms every element, with promises and plain values alike', async () => {
    const out = await Source.range(1, 5)
      .via(op(2, (x) => (x % 2 === 0 ? Promise.resolve(x * 10) : x * 10)))
      .runWith(Sink.seq(), time.materializer)
    expect([...out].sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 50])
  })

  it('never has more than parallelism calls in flight', async () => {
    const calls = new ManualCalls()
    const sink = Source.range(1, 10).via(op(3, calls.fn)).runWith(TestSink.probe<number>(), time.materializer)
    sink.request(10)
    for (let i = 1; i <= 10; i++) {
      await time.settle()
      expect(calls.inFlight).toBe(Math.min(3, 10 - i + 1))
      calls.of(i).resolve(i * 10)
      await sink.expectNext(i * 10)
    }
    expect(calls.maxInFlight).toBe(3)
    await sink.expectComplete()
  })

  it('counts results waiting for demand against parallelism and pushes nothing without demand', async () => {
    const { src, sink } = probes(op(3, (x) => Promise.resolve(x * 10)))
    sink.request(1)
    for (let i = 1; i <= 4; i++) src.sendNext(i)
    await sink.expectNext(10)
    await sink.expectNoMessage()
    // 1 was emitted, 2, 3 and 4 are held: upstream is not pulled
    expect(src.pending).toBe(0)
    sink.request(1)
    await sink.expectNext(20)
    await time.settle()
    expect(src.pending).toBe(1) // room for one more
    src.sendNext(5).sendComplete()
    sink.request(3)
    expect(await sink.expectNextN(3)).toEqual([30, 40, 50])
    await sink.expectComplete()
  })

  it('does not pull upstream before downstream asked for an element', async () => {
    const { src, sink } = probes(op(4, (x) => x))
    await time.settle()
    expect(src.pending).toBe(0)
    sink.request(1)
    await src.expectRequest()
    sink.cancel()
    await src.expectCancellation()
  })

  it('completes only after every pending result was emitted', async () => {
    const calls = new ManualCalls()
    const { src, sink } = probes(op(2, calls.fn))
    sink.request(5)
    src.sendNext(1).sendNext(2).sendComplete()
    await time.settle()
    await sink.expectNoMessage()
    calls.of(1).resolve(10)
    await sink.expectNext(10)
    await sink.expectNoMessage()
    calls.of(2).resolve(20)
    await sink.expectNext(20)
    await sink.expectComplete()
  })

  it('fails at once when upstream fails, dropping pending results', async () => {
    const calls = new ManualCalls()
    const { src, sink } = probes(op(2, calls.fn))
    sink.request(5)
    src.sendNext(1)
    await time.settle()
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    calls.of(1).resolve(10)
    await time.settle()
  })

  it('cancels upstream with the cause of the downstream cancellation', async () => {
    const { src, sink } = probes(op(2, (x) => Promise.resolve(x)))
    sink.request(1)
    src.sendNext(1)
    await sink.expectNext(1)
    const cause = new NonFailureCancellation('client-gone')
    sink.cancel(cause)
    expect(await src.expectCancellation()).toBe(cause)
  })

  it('drops without error a result or rejection that arrives after cancellation', async () => {
    const calls = new ManualCalls()
    const { src, sink } = probes(op(2, calls.fn))
    sink.request(2)
    src.sendNext(1).sendNext(2)
    await time.settle()
    expect(calls.inputs).toEqual([1, 2])
    sink.cancel()
    await src.expectCancellation()
    await assertAllStagesStopped(time.materializer)
    calls.of(1).resolve(10)
    calls.of(2).reject(boom)
    await time.settle()
    // the afterEach hook checks that nothing was logged and no rejection went unhandled
  })

  it('fails with the rejection under the default (stopping) supervision and cancels upstream with it', async () => {
    const calls = new ManualCalls()
    const { src, sink } = probes(op(2, calls.fn))
    sink.request(5)
    src.sendNext(1).sendNext(2)
    await time.settle()
    calls.of(2).reject(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await src.expectCancellation()).toBe(boom)
    calls.of(1).resolve(10) // late result of a failed stage: dropped
  })

  it('fails with the error a function throws synchronously', async () => {
    const out = Source.from([1, 2])
      .via(
        op(2, (x) => {
          if (x === 2) throw boom
          return x
        }),
      )
      .runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
  })

  for (const decider of [Supervision.resumingDecider, Supervision.restartingDecider]) {
    it(`drops a rejected or throwing element when the decider says ${decider(boom)}`, async () => {
      const f = (x: number): Promise<number> | number => {
        if (x === 2) return Promise.reject(boom)
        if (x === 4) throw boom
        return Promise.resolve(x)
      }
      const out = await Source.range(1, 5).via(op(2, f).withSupervision(decider)).runWith(Sink.seq(), time.materializer)
      expect([...out].sort((a, b) => a - b)).toEqual([1, 3, 5])
    })
  }

  it('rejects a parallelism below 1 or not an integer', () => {
    for (const p of [0, -1, 1.5, NaN]) {
      let caught: unknown
      try {
        op(p, (x) => x)
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError)
      expect(caught).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'parallelism', value: p })
    }
  })
})

describe('mapAsync', () => {
  it('emits results in input order although the promises resolve out of order', async () => {
    const calls = new ManualCalls()
    const { src, sink } = probes(Flow.create<number>().mapAsync(3, calls.fn))
    sink.request(3)
    src.sendNext(1).sendNext(2).sendNext(3)
    await time.settle()
    expect(calls.inputs).toEqual([1, 2, 3])
    calls.of(3).resolve(30)
    calls.of(2).resolve(20)
    await sink.expectNoMessage()
    calls.of(1).resolve(10)
    expect(await sink.expectNextN(3)).toEqual([10, 20, 30])
    src.sendComplete()
    await sink.expectComplete()
  })

  it('keeps input order between plain values and promises', async () => {
    const calls = new ManualCalls()
    const { src, sink } = probes(Flow.create<number>().mapAsync(3, (x) => (x === 1 ? calls.fn(x) : x * 10)))
    sink.request(3)
    src.sendNext(1).sendNext(2).sendNext(3)
    await sink.expectNoMessage()
    calls.of(1).resolve(10)
    expect(await sink.expectNextN(3)).toEqual([10, 20, 30])
    src.sendComplete()
    await sink.expectComplete()
  })

  it('drops a rejected element in place when resuming, emitting the later results in order', async () => {
    const calls = new ManualCalls()
    const { src, sink } = probes(Flow.create<number>().mapAsync(3, calls.fn).withSupervision(Supervision.resumingDecider))
    sink.request(3)
    src.sendNext(1).sendNext(2).sendNext(3).sendComplete()
    await time.settle()
    calls.of(3).resolve(30)
    calls.of(2).reject(boom)
    await sink.expectNoMessage()
    calls.of(1).resolve(10)
    expect(await sink.expectNextN(2)).toEqual([10, 30])
    await sink.expectComplete()
  })
})

describe('mapAsyncUnordered', () => {
  it('emits results in the order they complete', async () => {
    const calls = new ManualCalls()
    const { src, sink } = probes(Flow.create<number>().mapAsyncUnordered(3, calls.fn))
    sink.request(3)
    src.sendNext(1).sendNext(2).sendNext(3)
    await time.settle()
    calls.of(3).resolve(30)
    await sink.expectNext(30)
    calls.of(1).resolve(10)
    await sink.expectNext(10)
    calls.of(2).resolve(20)
    await sink.expectNext(20)
    src.sendComplete()
    await sink.expectComplete()
  })

  it('keeps completed results for later demand, in completion order', async () => {
    const calls = new ManualCalls()
    const { src, sink } = probes(Flow.create<number>().mapAsyncUnordered(3, calls.fn))
    sink.request(1)
    src.sendNext(1).sendNext(2).sendNext(3)
    await time.settle()
    calls.of(2).resolve(20)
    await sink.expectNext(20)
    calls.of(3).resolve(30)
    calls.of(1).resolve(10)
    await sink.expectNoMessage()
    sink.request(2)
    expect(await sink.expectNextN(2)).toEqual([30, 10])
    src.sendComplete()
    await sink.expectComplete()
  })
})

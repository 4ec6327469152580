import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { Flow, InvalidArgumentError, Keep, NoMoreElementsNeeded, Sink, Source, Supervision, type Logger, type LogLevel } from '../index.js'

type Entry = [level: LogLevel, message: string, ...args: unknown[]]

function recorder(entries: Entry[]): Logger {
  return {
    debug: (m, ...a) => void entries.push(['debug', m, ...a]),
    info: (m, ...a) => void entries.push(['info', m, ...a]),
    warn: (m, ...a) => void entries.push(['warn', m, ...a]),
    error: (m, ...a) => void entries.push(['error', m, ...a]),
  }
}

let time: VirtualTime
let entries: Entry[]
beforeEach(() => {
  entries = []
  time = new VirtualTime()
})
afterEach(async () => {
  await assertAllStagesStopped(time.materializer)
})

function probes(flow: Flow<number, number>) {
  const [src, sink] = TestSource.probe<number>().via(flow).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
  return { src, sink }
}

const boom = new Error('boom')

describe('log', () => {
  it('passes elements through unchanged and logs each one and the completion', async () => {
    const out = await Source.range(1, 2).log('nums', { logger: recorder(entries) }).runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([1, 2])
    expect(entries).toEqual([
      ['debug', '[nums] Element', 1],
      ['debug', '[nums] Element', 2],
      ['debug', '[nums] Upstream finished'],
    ])
  })

  it('logs what extract takes from each element, at the given level', async () => {
    const out = await Source.from([{ id: 7, body: 'x' }])
      .log('req', { logger: recorder(entries), extract: (r) => r.id, level: 'info' })
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([{ id: 7, body: 'x' }])
    expect(entries).toEqual([
      ['info', '[req] Element', 7],
      ['info', '[req] Upstream finished'],
    ])
  })

  it('logs an upstream failure at error level and fails with it', async () => {
    const out = Source.failed<number>(boom).log('f', { logger: recorder(entries), level: 'info' }).runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    expect(entries).toEqual([['error', '[f] Upstream failed', boom]])
  })

  it('logs a cancellation with its cause and cancels upstream with it', async () => {
    const { src, sink } = probes(Flow.create<number>().log('c', { logger: recorder(entries) }))
    sink.cancel()
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    expect(entries).toEqual([['debug', '[c] Downstream cancelled', NoMoreElementsNeeded]])
  })

  it('logs a cancellation with a failure cause at error level', async () => {
    const { src, sink } = probes(Flow.create<number>().log('c', { logger: recorder(entries) }))
    sink.cancel(boom)
    expect(await src.expectCancellation()).toBe(boom)
    expect(entries).toEqual([['error', '[c] Downstream cancelled', boom]])
  })

  it("uses the materializer's logger by default", async () => {
    time = new VirtualTime({ logger: recorder(entries) })
    await Source.single(1).log('m').runWith(Sink.ignore(), time.materializer)
    expect(entries).toEqual([
      ['debug', '[m] Element', 1],
      ['debug', '[m] Upstream finished'],
    ])
  })

  it('pulls only on demand and logs an element only when it passes', async () => {
    const { src, sink } = probes(Flow.create<number>().log('d', { logger: recorder(entries) }))
    await time.settle()
    expect(src.pending).toBe(0)
    src.sendNext(1)
    await sink.expectNoMessage()
    expect(entries).toEqual([])
    sink.request(1)
    await sink.expectNext(1)
    expect(entries).toEqual([['debug', '[d] Element', 1]])
    src.sendComplete()
    await sink.expectComplete()
  })

  it('fails with the error extract throws, under the default supervision', async () => {
    const out = Source.range(1, 3)
      .log('x', {
        logger: recorder(entries),
        extract: (x) => {
          if (x === 2) throw boom
          return x
        },
      })
      .runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
  })

  it('drops the element extract throws on when resuming', async () => {
    const out = await Source.range(1, 3)
      .log('x', {
        logger: recorder(entries),
        extract: (x) => {
          if (x === 2) throw boom
          return x
        },
      })
      .withSupervision(Supervision.resumingDecider)
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([1, 3])
  })

  it('rejects an unknown level', () => {
    expect(() => Source.single(1).log('x', { level: 'trace' as LogLevel })).toThrow(InvalidArgumentError)
  })
})

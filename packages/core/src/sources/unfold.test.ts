import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, VirtualTime } from '@weir/testkit'
import { Keep, Sink, Source, Supervision } from '../index.js'

/** A promise the test settles by hand. */
function manual<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((a, b) => {
    resolve = a
    reject = b
  })
  return { promise, resolve, reject }
}

/** A fake resource over an array, recording what happened to it. */
class Cursor {
  static created: Cursor[] = []
  i = 0
  closed = 0
  constructor(readonly items: readonly number[]) {
    Cursor.created.push(this)
  }
  read(): number | undefined {
    if (this.closed > 0) throw new Error('read after close')
    return this.items[this.i++]
  }
}

describe('Source.unfold', () => {
  it('emits the elements of each step until the function returns undefined', async () => {
    const time = new VirtualTime()
    const out = await Source.unfold(0, (n) => (n < 3 ? [n + 1, n * 10] : undefined)).runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([0, 10, 20])
    await assertAllStagesStopped(time.materializer)
  })

  it('runs the function once per pull, never ahead of demand', async () => {
    const time = new VirtualTime()
    let calls = 0
    const out = Source.unfold<[number, number], number>([0, 1], ([a, b]) => {
      calls++
      return [[b, a + b], a]
    }).runWith(TestSink.probe<number>(), time.materializer)
    await out.expectNoMessage()
    expect(calls).toBe(0)
    out.request(5)
    expect(await out.expectNextN(5)).toEqual([0, 1, 1, 2, 3])
    await out.expectNoMessage()
    expect(calls).toBe(5)
    out.cancel()
    await assertAllStagesStopped(time.materializer)
  })

  it('fails when the function throws', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    const out = Source.unfold(0, (n) => {
      if (n === 2) throw boom
      return [n + 1, n]
    }).runWith(TestSink.probe<number>(), time.materializer)
    out.request(5)
    expect(await out.expectNextN(2)).toEqual([0, 1])
    expect(await out.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })
})

describe('Source.unfoldAsync', () => {
  it('emits each resolved element and completes on undefined', async () => {
    const time = new VirtualTime()
    const out = await Source.unfoldAsync(1, async (n) => (n <= 3 ? ([n + 1, `page ${n}`] as const) : undefined)).runWith(Sink.seq(), time.materializer)
    expect(out).toEqual(['page 1', 'page 2', 'page 3'])
    await assertAllStagesStopped(time.materializer)
  })

  it('calls the function only on demand, one call in flight at a time', async () => {
    const time = new VirtualTime()
    const pending: ReturnType<typeof manual<readonly [number, number] | undefined>>[] = []
    const out = Source.unfoldAsync(0, () => {
      const m = manual<readonly [number, number] | undefined>()
      pending.push(m)
      return m.promise
    }).runWith(TestSink.probe<number>(), time.materializer)
    await out.expectNoMessage()
    expect(pending.length).toBe(0)
    out.request(2)
    await time.settle()
    expect(pending.length).toBe(1)
    pending[0]!.resolve([1, 100])
    await out.expectNext(100)
    await time.settle()
    expect(pending.length).toBe(2)
    pending[1]!.resolve(undefined)
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('fails when the promise rejects or the function throws', async () => {
    const time = new VirtualTime()
    const boom = new Error('boom')
    await expect(Source.unfoldAsync(0, () => Promise.reject(boom)).runWith(Sink.seq(), time.materializer)).rejects.toBe(boom)
    const thrown = new Error('sync')
    const syncThrow = Source.unfoldAsync<number, number>(0, () => {
      throw thrown
    })
    await expect(syncThrow.runWith(Sink.seq(), time.materializer)).rejects.toBe(thrown)
    await assertAllStagesStopped(time.materializer)
  })

  it('stops at once when cancelled while a step is pending; its result is dropped', async () => {
    const time = new VirtualTime()
    const m = manual<readonly [number, number] | undefined>()
    const out = Source.unfoldAsync(0, () => m.promise).runWith(TestSink.probe<number>(), time.materializer)
    out.request(1)
    await time.settle()
    out.cancel()
    await assertAllStagesStopped(time.materializer)
    m.resolve([1, 1])
    await time.settle()
    expect(time.materializer.runningStages()).toEqual([])
  })
})

describe('Source.unfoldResource', () => {
  const cursorSource = (items: number[]): Source<number> =>
    Source.unfoldResource(
      () => new Cursor(items),
      (c) => c.read(),
      (c) => {
        c.closed++
      },
    )

  it('reads until undefined and closes once on completion', async () => {
    const time = new VirtualTime()
    Cursor.created = []
    expect(await cursorSource([1, 2, 3]).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3])
    expect(Cursor.created.map((c) => c.closed)).toEqual([1])
    await assertAllStagesStopped(time.materializer)
  })

  it('reads only on demand and closes once on cancellation', async () => {
    const time = new VirtualTime()
    Cursor.created = []
    const out = cursorSource([1, 2, 3, 4]).runWith(TestSink.probe<number>(), time.materializer)
    out.request(2)
    expect(await out.expectNextN(2)).toEqual([1, 2])
    await out.expectNoMessage()
    expect(Cursor.created[0]!.i).toBe(2)
    out.cancel()
    await assertAllStagesStopped(time.materializer)
    expect(Cursor.created.map((c) => c.closed)).toEqual([1])
  })

  it('closes once and fails when read throws (decider stop)', async () => {
    const time = new VirtualTime()
    const boom = new Error('bad record')
    let closed = 0
    const out = Source.unfoldResource(
      () => ({ n: 0 }),
      (r) => {
        if (++r.n === 2) throw boom
        return r.n
      },
      () => {
        closed++
      },
    ).runWith(TestSink.probe<number>(), time.materializer)
    out.request(3)
    await out.expectNext(1)
    expect(await out.expectError()).toBe(boom)
    expect(closed).toBe(1)
    await assertAllStagesStopped(time.materializer)
  })

  it('skips a failed read with decider resume, closing once at the end', async () => {
    const time = new VirtualTime()
    let closed = 0
    const out = await Source.unfoldResource(
      () => ({ n: 0 }),
      (r) => {
        r.n++
        if (r.n === 2) throw new Error('bad record')
        return r.n <= 3 ? r.n : undefined
      },
      () => {
        closed++
      },
    )
      .withSupervision(Supervision.resumingDecider)
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([1, 3])
    expect(closed).toBe(1)
    await assertAllStagesStopped(time.materializer)
  })

  it('closes and re-creates the resource with decider restart', async () => {
    const time = new VirtualTime()
    Cursor.created = []
    let failed = false
    const out = await Source.unfoldResource(
      () => new Cursor([1, 2, 3]),
      (c) => {
        if (!failed && c.i === 1) {
          failed = true
          throw new Error('bad record')
        }
        return c.read()
      },
      (c) => {
        c.closed++
      },
    )
      .withSupervision(Supervision.restartingDecider)
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([1, 1, 2, 3])
    expect(Cursor.created.map((c) => c.closed)).toEqual([1, 1])
    await assertAllStagesStopped(time.materializer)
  })

  it('fails without closing anything when create throws', async () => {
    const time = new VirtualTime()
    const boom = new Error('cannot open')
    let closed = 0
    const out = Source.unfoldResource<number, number>(
      () => {
        throw boom
      },
      () => 1,
      () => {
        closed++
      },
    ).runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    expect(closed).toBe(0)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with the error of a close that throws on completion', async () => {
    const time = new VirtualTime()
    const boom = new Error('flush failed')
    let closes = 0
    const out = Source.unfoldResource(
      () => new Cursor([1]),
      (c) => c.read(),
      () => {
        closes++
        throw boom
      },
    ).runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    expect(closes).toBe(1)
    await assertAllStagesStopped(time.materializer)
  })

  it('closes once when the materializer shuts down', async () => {
    const time = new VirtualTime()
    Cursor.created = []
    const out = cursorSource([1, 2, 3]).runWith(TestSink.probe<number>(), time.materializer)
    out.request(1)
    await out.expectNext(1)
    time.materializer.shutdown()
    expect(Cursor.created.map((c) => c.closed)).toEqual([1])
    expect(time.materializer.runningStages()).toEqual([])
  })
})

describe('Source.unfoldResourceAsync', () => {
  /** An async resource whose create/read/close the test controls, recording the calls. */
  class Harness {
    readonly calls: string[] = []
    readonly creates: ReturnType<typeof manual<Cursor>>[] = []
    readonly reads: ReturnType<typeof manual<number | undefined>>[] = []
    readonly closes: ReturnType<typeof manual<void>>[] = []
    readonly source: Source<number> = Source.unfoldResourceAsync(
      () => {
        this.calls.push('create')
        const m = manual<Cursor>()
        this.creates.push(m)
        return m.promise
      },
      () => {
        this.calls.push('read')
        const m = manual<number | undefined>()
        this.reads.push(m)
        return m.promise
      },
      (c) => {
        this.calls.push('close')
        c.closed++
        const m = manual<void>()
        this.closes.push(m)
        return m.promise
      },
    )
  }

  const auto = (items: number[], closeCount: { n: number }): Source<number> =>
    Source.unfoldResourceAsync(
      async () => new Cursor(items),
      async (c) => c.read(),
      async () => {
        closeCount.n++
      },
    )

  it('reads until undefined and closes once on completion', async () => {
    const time = new VirtualTime()
    const closes = { n: 0 }
    expect(await auto([1, 2, 3], closes).runWith(Sink.seq(), time.materializer)).toEqual([1, 2, 3])
    expect(closes.n).toBe(1)
    await assertAllStagesStopped(time.materializer)
  })

  it('creates at start, reads only on demand, one operation at a time', async () => {
    const time = new VirtualTime()
    const h = new Harness()
    const out = h.source.runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    expect(h.calls).toEqual(['create'])
    out.request(1) // demand while creating: read once created
    await time.settle()
    expect(h.calls).toEqual(['create'])
    h.creates[0]!.resolve(new Cursor([]))
    await time.settle()
    expect(h.calls).toEqual(['create', 'read'])
    h.reads[0]!.resolve(7)
    await out.expectNext(7)
    await time.settle()
    expect(h.calls).toEqual(['create', 'read']) // no demand, no read
    out.request(1)
    await time.settle()
    h.reads[1]!.resolve(undefined)
    await time.settle()
    expect(h.calls).toEqual(['create', 'read', 'read', 'close'])
    await out.expectNoMessage() // completion waits for close
    h.closes[0]!.resolve()
    await out.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('on cancellation mid-read, closes once the read settled and stops only after close', async () => {
    const time = new VirtualTime()
    const h = new Harness()
    const out = h.source.runWith(TestSink.probe<number>(), time.materializer)
    out.request(1)
    await time.settle()
    h.creates[0]!.resolve(new Cursor([]))
    await time.settle()
    expect(h.calls).toEqual(['create', 'read'])
    out.cancel()
    await time.settle()
    expect(h.calls).toEqual(['create', 'read']) // the read is in flight: wait for it
    expect(time.materializer.runningStages()).toContain('unfoldResourceAsync')
    h.reads[0]!.resolve(1) // the element is dropped
    await time.settle()
    expect(h.calls).toEqual(['create', 'read', 'close'])
    expect(time.materializer.runningStages()).toContain('unfoldResourceAsync')
    h.closes[0]!.resolve()
    await assertAllStagesStopped(time.materializer)
  })

  it('closes a resource whose creation completes after cancellation', async () => {
    const time = new VirtualTime()
    const h = new Harness()
    const out = h.source.runWith(TestSink.probe<number>(), time.materializer)
    await time.settle()
    out.cancel()
    await time.settle()
    const cursor = new Cursor([])
    h.creates[0]!.resolve(cursor)
    await time.settle()
    expect(h.calls).toEqual(['create', 'close'])
    h.closes[0]!.resolve()
    await assertAllStagesStopped(time.materializer)
    expect(cursor.closed).toBe(1)
  })

  it('closes once and fails with the read error when read rejects (decider stop)', async () => {
    const time = new VirtualTime()
    const h = new Harness()
    const out = h.source.runWith(TestSink.probe<number>(), time.materializer)
    out.request(1)
    await time.settle()
    h.creates[0]!.resolve(new Cursor([]))
    await time.settle()
    const boom = new Error('bad record')
    h.reads[0]!.reject(boom)
    await time.settle()
    expect(h.calls).toEqual(['create', 'read', 'close'])
    h.closes[0]!.resolve()
    expect(await out.expectError()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('closes once and fails when read throws synchronously', async () => {
    const time = new VirtualTime()
    const boom = new Error('sync')
    let closes = 0
    const out = Source.unfoldResourceAsync(
      async () => 1,
      () => {
        throw boom
      },
      async () => {
        closes++
      },
    ).runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    expect(closes).toBe(1)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails without closing anything when create rejects', async () => {
    const time = new VirtualTime()
    const boom = new Error('cannot open')
    let closes = 0
    const out = Source.unfoldResourceAsync<number, number>(
      () => Promise.reject(boom),
      async () => 1,
      async () => {
        closes++
      },
    ).runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    expect(closes).toBe(0)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with the error of a close that rejects on completion', async () => {
    const time = new VirtualTime()
    const boom = new Error('flush failed')
    const out = Source.unfoldResourceAsync(
      async () => new Cursor([1]),
      async (c) => c.read(),
      () => Promise.reject(boom),
    ).runWith(Sink.seq(), time.materializer)
    await expect(out).rejects.toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('skips a rejected read with decider resume and re-creates with restart', async () => {
    const time = new VirtualTime()
    let n = 0
    const closes = { n: 0 }
    const resumed = await Source.unfoldResourceAsync(
      async () => ({}),
      async () => {
        n++
        if (n === 2) throw new Error('bad')
        return n <= 3 ? n : undefined
      },
      async () => {
        closes.n++
      },
    )
      .withSupervision(Supervision.resumingDecider)
      .runWith(Sink.seq(), time.materializer)
    expect(resumed).toEqual([1, 3])
    expect(closes.n).toBe(1)

    Cursor.created = []
    let failed = false
    const restarted = await Source.unfoldResourceAsync(
      async () => new Cursor([1, 2]),
      async (c) => {
        if (!failed && c.i === 1) {
          failed = true
          throw new Error('bad')
        }
        return c.read()
      },
      async (c) => {
        c.closed++
      },
    )
      .withSupervision(Supervision.restartingDecider)
      .runWith(Sink.seq(), time.materializer)
    expect(restarted).toEqual([1, 1, 2])
    expect(Cursor.created.map((c) => c.closed)).toEqual([1, 1])
    await assertAllStagesStopped(time.materializer)
  })

  it('closes the resource when the materializer shuts down, even mid-read', async () => {
    const time = new VirtualTime()
    const h = new Harness()
    const [, out] = h.source.toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    out.request(1)
    await time.settle()
    const cursor = new Cursor([])
    h.creates[0]!.resolve(cursor)
    await time.settle()
    expect(h.calls).toEqual(['create', 'read'])
    time.materializer.shutdown()
    expect(cursor.closed).toBe(0) // the read is in flight
    h.reads[0]!.resolve(1)
    await new Promise<void>((r) => setImmediate(r))
    expect(h.calls).toEqual(['create', 'read', 'close'])
    expect(cursor.closed).toBe(1)
  })

  it('closes the resource when the stream is torn down between a read settling and the stage seeing it', async () => {
    const time = new VirtualTime()
    const h = new Harness()
    const out = h.source.runWith(TestSink.probe<number>(), time.materializer)
    out.request(1)
    await time.settle()
    const cursor = new Cursor([])
    h.creates[0]!.resolve(cursor)
    await time.settle()
    h.reads[0]!.resolve(1)
    await Promise.resolve() // the settlement is queued for the stage, which has not run it yet
    time.materializer.shutdown()
    await new Promise<void>((r) => setImmediate(r))
    expect(h.calls).toEqual(['create', 'read', 'close'])
    expect(cursor.closed).toBe(1)
  })
})

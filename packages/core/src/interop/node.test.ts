import { Duplex, PassThrough, Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { AbruptTerminationError, Flow, Keep, NoMoreElementsNeeded, Sink, Source } from '../index.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const boom = new Error('boom')

/** Let the event loop turn `n` times (Node stream callbacks run there). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** An object-mode Readable producing 0 … count-1, counting the `_read` calls (what it was asked to produce). */
function countingReadable(count: number, highWaterMark: number): { readable: Readable; stats: { reads: number; destroyed: boolean } } {
  const stats = { reads: 0, destroyed: false }
  let next = 0
  const readable = new Readable({
    objectMode: true,
    highWaterMark,
    read() {
      stats.reads++
      this.push(next < count ? next++ : null)
    },
    destroy(error, callback) {
      stats.destroyed = true
      callback(error)
    },
  })
  return { readable, stats }
}

/** An object-mode Writable that completes each write a few event-loop turns later. */
function slowWritable(highWaterMark: number, onWrite: (x: unknown) => void = () => {}): { writable: Writable; written: unknown[]; state: { finalCalled: boolean; destroyError: unknown } } {
  const written: unknown[] = []
  const state = { finalCalled: false, destroyError: undefined as unknown }
  const writable = new Writable({
    objectMode: true,
    highWaterMark,
    write(chunk, _encoding, callback) {
      written.push(chunk)
      onWrite(chunk)
      setImmediate(() => setImmediate(() => callback()))
    },
    final(callback) {
      state.finalCalled = true
      callback()
    },
    destroy(error, callback) {
      state.destroyError = error
      callback(error)
    },
  })
  return { writable, written, state }
}

describe('Source.fromReadable', () => {
  it('emits the objects of an object-mode Readable in order, then completes', async () => {
    const out = await Source.fromReadable<number>(() => Readable.from([1, 2, 3, 4])).runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([1, 2, 3, 4])
  })

  it('emits the bytes of a byte-mode Readable', async () => {
    const chunks = [Buffer.from('hello '), Buffer.from('byte '), Buffer.from('world')]
    const out = await Source.fromReadable(() => Readable.from(chunks, { objectMode: false })).runWith(Sink.seq(), time.materializer)
    expect(Buffer.concat(out).toString()).toBe('hello byte world')
  })

  it('reads only on demand: the Readable fills no more than its highWaterMark ahead', async () => {
    const { readable, stats } = countingReadable(1000, 4)
    const sink = Source.fromReadable<number>(() => readable).runWith(TestSink.probe<number>(), time.materializer)
    await turns(5)
    expect(stats.reads).toBeLessThanOrEqual(5)
    sink.request(3)
    expect(await sink.expectNextN(3)).toEqual([0, 1, 2])
    await turns(5)
    expect(stats.reads).toBeLessThanOrEqual(3 + 5)
    sink.cancel()
  })

  it('destroys the Readable when downstream cancels', async () => {
    const { readable, stats } = countingReadable(1000, 2)
    expect(await Source.fromReadable<number>(() => readable).take(2).runWith(Sink.seq(), time.materializer)).toEqual([0, 1])
    await turns(2)
    expect(stats.destroyed).toBe(true)
  })

  it("fails with the Readable's error", async () => {
    const readable = new Readable({ objectMode: true, read() {} })
    const done = Source.fromReadable(() => readable).runWith(Sink.ignore(), time.materializer)
    readable.push(1)
    readable.destroy(boom)
    await expect(done).rejects.toBe(boom)
  })

  it('fails when the Readable closes before its end', async () => {
    const readable = new Readable({ objectMode: true, read() {} })
    const done = Source.fromReadable(() => readable).runWith(Sink.ignore(), time.materializer)
    await turns(1)
    readable.destroy()
    await expect(done).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' })
  })

  it('fails when the factory throws', async () => {
    const done = Source.fromReadable(() => {
      throw boom
    }).runWith(Sink.ignore(), time.materializer)
    await expect(done).rejects.toBe(boom)
  })
})

describe('Sink.toWritable', () => {
  it('writes every element, ends the Writable on completion, and resolves once it finished', async () => {
    const { writable, written, state } = slowWritable(2)
    await Source.range(1, 20).runWith(Sink.toWritable(() => writable), time.materializer)
    expect(written).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(state.finalCalled).toBe(true)
    expect(writable.writableFinished).toBe(true)
  })

  it('moves a Readable into a slow Writable without reading far ahead of the writer', async () => {
    const { readable, stats } = countingReadable(200, 2)
    let maxAhead = 0
    const { writable, written } = slowWritable(2, () => {
      maxAhead = Math.max(maxAhead, stats.reads - written.length)
    })
    await Source.fromReadable<number>(() => readable).runWith(
      Sink.toWritable(() => writable),
      time.materializer,
    )
    expect(written).toEqual(Array.from({ length: 200 }, (_, i) => i))
    // Readable buffer (2) + the element in the stream (1) + Writable buffer (2) + one read in flight
    expect(maxAhead).toBeLessThanOrEqual(6)
  })

  it('pulls again only after drain when write() returned false', async () => {
    const written: number[] = []
    const pending: (() => void)[] = []
    const writable = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(chunk: number, _encoding, callback) {
        written.push(chunk)
        pending.push(() => callback())
      },
    })
    const [probe, done] = TestSource.probe<number>().toMat(Sink.toWritable<number>(() => writable), Keep.both).run(time.materializer)
    await probe.expectRequest()
    probe.sendNext(1) // write() returns false: the Writable's buffer reached its highWaterMark
    await time.settle()
    await turns(3)
    expect(written).toEqual([1])
    expect(probe.pending).toBe(0)
    pending.shift()!() // the write completes: 'drain'
    await probe.expectRequest()
    probe.sendNext(2).sendComplete()
    await turns(3)
    pending.shift()!()
    await done
    expect(written).toEqual([1, 2])
  })

  it('destroys the Writable with the error when upstream fails', async () => {
    const { writable, state } = slowWritable(4)
    const [probe, done] = TestSource.probe<number>().toMat(Sink.toWritable<number>(() => writable), Keep.both).run(time.materializer)
    await probe.expectRequest()
    probe.sendError(boom)
    await expect(done).rejects.toBe(boom)
    await turns(2)
    expect(state.destroyError).toBe(boom)
  })

  it("fails and cancels upstream with the Writable's error", async () => {
    const writable = new Writable({
      objectMode: true,
      write(_chunk, _encoding, callback) {
        callback(boom)
      },
    })
    const [probe, done] = TestSource.probe<number>().toMat(Sink.toWritable<number>(() => writable), Keep.both).run(time.materializer)
    await probe.expectRequest()
    probe.sendNext(1)
    await expect(done).rejects.toBe(boom)
    expect(await probe.expectCancellation()).toBe(boom)
  })

  it('rejects with AbruptTerminationError and destroys the Writable when the stream is torn down', async () => {
    const { writable, state } = slowWritable(4)
    const done = Source.never<number>().runWith(Sink.toWritable(() => writable), time.materializer)
    await time.settle()
    time.materializer.shutdown()
    await expect(done).rejects.toBeInstanceOf(AbruptTerminationError)
    await turns(2)
    expect(state.destroyError).toBeInstanceOf(AbruptTerminationError)
  })
})

describe('Flow.fromDuplex', () => {
  it('writes elements into a Transform and emits what it produces', async () => {
    const upper = () => new Transform({ objectMode: true, transform: (chunk: string, _e, cb) => cb(null, chunk.toUpperCase()) })
    const out = await Source.from(['a', 'b', 'c']).via(Flow.fromDuplex<string, string>(upper)).runWith(Sink.seq(), time.materializer)
    expect(out).toEqual(['A', 'B', 'C'])
  })

  it('round-trips bytes through gzip and gunzip', async () => {
    const text = 'weir '.repeat(5000)
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.from(text.slice(i * 2500, (i + 1) * 2500)))
    const out = await Source.from(chunks)
      .via(Flow.fromDuplex<Buffer, Buffer>(() => createGzip()))
      .via(Flow.fromDuplex<Buffer, Buffer>(() => createGunzip()))
      .runWith(Sink.seq(), time.materializer)
    expect(Buffer.concat(out).toString()).toBe(text)
  })

  it('keeps writing after the readable side ended (half-close), and stops once both sides are done', async () => {
    const received: unknown[] = []
    const duplex = new Duplex({
      objectMode: true,
      read() {},
      write(chunk, _e, cb) {
        received.push(chunk)
        cb()
      },
    })
    duplex.push('hello')
    duplex.push(null)
    const [[probe, done], sink] = TestSource.probe<string>()
      .viaMat(Flow.fromDuplex<string, string>(() => duplex), Keep.left)
      .watchTermination(Keep.both)
      .toMat(TestSink.probe<string>(), Keep.both)
      .run(time.materializer)
    await sink.requestNext('hello')
    await sink.expectComplete()
    await probe.expectRequest()
    probe.sendNext('a').sendNext('b')
    await probe.expectRequest()
    probe.sendComplete()
    await done
    await turns(2)
    expect(received).toEqual(['a', 'b'])
    expect(duplex.writableFinished).toBe(true)
  })

  it('destroys the Duplex and cancels upstream when downstream cancels', async () => {
    const duplex = new PassThrough({ objectMode: true })
    const [probe, sink] = TestSource.probe<number>().via(Flow.fromDuplex<number, number>(() => duplex)).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    await probe.expectRequest()
    probe.sendNext(1)
    await sink.requestNext(1)
    sink.cancel()
    expect(await probe.expectCancellation()).toBe(NoMoreElementsNeeded)
    expect(duplex.destroyed).toBe(true)
  })

  it("fails downstream and cancels upstream with the Duplex's error", async () => {
    const duplex = new PassThrough({ objectMode: true })
    const [probe, sink] = TestSource.probe<number>().via(Flow.fromDuplex<number, number>(() => duplex)).toMat(TestSink.probe<number>(), Keep.both).run(time.materializer)
    await probe.expectRequest()
    duplex.destroy(boom)
    expect(await sink.expectError()).toBe(boom)
    expect(await probe.expectCancellation()).toBe(boom)
  })
})

describe('Source.toReadable / Sink.asReadable', () => {
  it('reads the elements in order through a Readable', async () => {
    expect(await Source.range(1, 5).toReadable({}, time.materializer).toArray()).toEqual([1, 2, 3, 4, 5])
  })

  it('pulls one element per _read, so a Readable nobody reads pulls no further than its highWaterMark', async () => {
    const [probe, readable] = TestSource.probe<number>().toMat(Sink.asReadable<number>({ highWaterMark: 2 }), Keep.both).run(time.materializer)
    await time.settle()
    expect(probe.pending).toBe(0) // nobody reads yet
    readable.read(0) // start filling the Readable's buffer
    for (let i = 0; i < 2; i++) {
      await probe.expectRequest()
      probe.sendNext(i)
    }
    await turns(3)
    await time.settle()
    expect(probe.pending).toBe(0) // the buffer holds 2 = highWaterMark: no more reads
    expect(readable.read()).toBe(0)
    await probe.expectRequest()
    readable.destroy()
    expect(await probe.expectCancellation()).toBe(NoMoreElementsNeeded)
  })

  it('pipes a stream into a Writable with stream.pipeline (bytes mode)', async () => {
    const { writable, written } = slowWritable(2)
    const readable = Source.from(['a', 'b', 'c']).map((s) => Buffer.from(s)).toReadable({ objectMode: false, highWaterMark: 1 }, time.materializer)
    await pipeline(readable, writable)
    expect(Buffer.concat(written as Buffer[]).toString()).toBe('abc')
  })

  it('destroys the Readable with the error of a failed stream', async () => {
    const readable = Source.from([1]).concat(Source.failed(boom)).toReadable({}, time.materializer)
    await expect(readable.toArray()).rejects.toBe(boom)
  })

  it('cancels the stream with the error it was destroyed with', async () => {
    const [probe, readable] = TestSource.probe<number>().toMat(Sink.asReadable<number>(), Keep.both).run(time.materializer)
    readable.on('error', () => {})
    readable.destroy(boom)
    expect(await probe.expectCancellation()).toBe(boom)
  })
})

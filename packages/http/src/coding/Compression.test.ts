import { randomBytes } from 'node:crypto'
import type { Transform } from 'node:stream'
import { brotliCompressSync, brotliDecompressSync, constants, createGunzip, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib'
import { Flow, Keep, Sink, Source } from '@weir/core'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { EntityTooLargeError } from '../model/HttpEntity.js'
import { Compression } from './Compression.js'
import { DecodingError } from './errors.js'
import { ZlibStage } from './ZlibStage.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

/** Let the event loop turn `n` times (zlib callbacks run there). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

function concat(chunks: readonly Uint8Array[]): Buffer {
  return Buffer.concat(chunks)
}

function split(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size))
  return out
}

/** Text that compresses well, with some variety. */
function text(bytes: number): Buffer {
  let s = ''
  for (let i = 0; s.length < bytes; i++) s += `{"id":${i},"name":"user-${i}","active":${i % 3 === 0}}\n`
  return Buffer.from(s.slice(0, bytes))
}

const decodeSync = { gzip: (b: Buffer) => gunzipSync(b), deflate: (b: Buffer) => inflateSync(b), br: (b: Buffer) => brotliDecompressSync(b) }
const encodeSync = { gzip: (b: Buffer) => gzipSync(b), deflate: (b: Buffer) => deflateSync(b), br: (b: Buffer) => brotliCompressSync(b) }
const codings = ['gzip', 'deflate', 'br'] as const

/** A zlib stage whose stream the test can inspect. */
function inspected(create: () => Transform, maxOutputBytes = Infinity): { flow: Flow<Uint8Array, Uint8Array>; streams: (Transform & { bytesWritten: number })[] } {
  const streams: (Transform & { bytesWritten: number })[] = []
  const stage = new ZlibStage({
    name: 'inspected',
    create: () => {
      const z = create()
      streams.push(z as Transform & { bytesWritten: number })
      return z
    },
    mapError: (e) => new DecodingError('gzip', e),
    maxOutputBytes,
  })
  return { flow: Flow.fromGraph(stage), streams }
}

describe('Compression encoders', () => {
  for (const coding of codings) {
    it(`${coding}: what the encoder emits is decoded by node:zlib to the original bytes`, async () => {
      const input = Buffer.concat([text(100_000), randomBytes(20_000)])
      const out = await Source.from(split(input, 3000)).via(Compression.encoder(coding)).runWith(Sink.seq(), time.materializer)
      const encoded = concat(out)
      expect(encoded.length).toBeLessThan(input.length)
      expect(decodeSync[coding](encoded).equals(input)).toBe(true)
    })

    it(`${coding}: the decoder turns what node:zlib encoded back into the original bytes, split at any size`, async () => {
      const input = text(60_000)
      const encoded = encodeSync[coding](input)
      for (const size of [1, 7, 1000, encoded.length]) {
        const out = await Source.from(split(encoded, size)).via(Compression.decoder(coding)).runWith(Sink.seq(), time.materializer)
        expect(concat(out).equals(input)).toBe(true)
      }
    })
  }

  it('an empty stream encodes to a valid empty gzip member', async () => {
    const out = await Source.empty<Uint8Array>().via(Compression.gzip()).runWith(Sink.seq(), time.materializer)
    expect(gunzipSync(concat(out)).length).toBe(0)
  })

  /** Runs `encoder` behind a source probe into an eager collector: what arrives in `received` was emitted. */
  function collect(encoder: Flow<Uint8Array, Uint8Array>): { src: SourceProbe<Uint8Array>; received: Uint8Array[]; done: Promise<void>; arrival: () => Promise<void> } {
    const received: Uint8Array[] = []
    let wake: (() => void) | undefined
    const [src, done] = TestSource.probe<Uint8Array>()
      .via(encoder)
      .toMat(
        Sink.foreach((c: Uint8Array) => {
          received.push(c)
          wake?.()
        }),
        Keep.both,
      )
      .run(time.materializer)
    /** The next arrival, or a rejection after a generous 5 s. */
    const arrival = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no output within 5 s')), 5000)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    return { src, received, done, arrival }
  }

  for (const coding of codings) {
    it(`${coding}: with flush, each element's bytes are emitted before the next element arrives`, async () => {
      const { src, received, done, arrival } = collect(Compression.encoder(coding, { flush: true }))
      const decodedSoFar = (): string => {
        const bytes = concat(received)
        const inflated = coding === 'br' ? brotliDecompressSync(bytes, { finishFlush: constants.BROTLI_OPERATION_FLUSH }) : coding === 'gzip' ? gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }) : inflateSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH })
        return inflated.toString()
      }
      let expected = ''
      for (const event of ['data: one\n\n', 'data: two\n\n']) {
        await src.expectRequest()
        src.sendNext(Buffer.from(event))
        expected += event
        // upstream stays open: only a flush can have produced these bytes
        while (decodedSoFar() !== expected) await arrival()
        expect(decodedSoFar()).toBe(expected)
      }
      src.sendComplete()
      await done
      expect(decodeSync[coding](concat(received)).toString()).toBe(expected)
    })
  }

  it('without flush, a small element stays in the encoder until the end (buffered for ratio)', async () => {
    const { src, received, done } = collect(Compression.gzip())
    await src.expectRequest()
    src.sendNext(Buffer.from('data: one\n\n'))
    await src.expectRequest()
    await turns(20)
    // at most the 10-byte gzip header may have been emitted, none of the payload
    expect(concat(received).length).toBeLessThanOrEqual(10)
    src.sendComplete()
    await done
    expect(gunzipSync(concat(received)).toString()).toBe('data: one\n\n')
  })
})

describe('Compression decoders: bad input', () => {
  for (const coding of codings) {
    it(`${coding}: corrupt input fails with DecodingError (400)`, async () => {
      const encoded = Buffer.from(encodeSync[coding](text(5000)))
      // break the stream past its header
      for (let i = 12; i < 40; i++) encoded[i] = encoded[i]! ^ 0x5a
      const done = Source.single<Uint8Array>(encoded).via(Compression.decoder(coding)).runWith(Sink.ignore(), time.materializer)
      const e = await done.then(() => undefined, (x: unknown) => x)
      expect(e).toBeInstanceOf(DecodingError)
      expect(e).toMatchObject({ code: 'WEIR_HTTP_DECODING_FAILED', status: 400, coding })
    })

    it(`${coding}: truncated input fails with DecodingError`, async () => {
      const encoded = encodeSync[coding](text(5000))
      const done = Source.single<Uint8Array>(encoded.subarray(0, encoded.length - 8)).via(Compression.decoder(coding)).runWith(Sink.ignore(), time.materializer)
      await expect(done).rejects.toMatchObject({ code: 'WEIR_HTTP_DECODING_FAILED', coding })
    })
  }

  it('gzip: bytes that are not gzip at all fail with DecodingError and zlib code Z_DATA_ERROR', async () => {
    const done = Source.single<Uint8Array>(Buffer.from('plain text, not gzip')).via(Compression.gunzip()).runWith(Sink.ignore(), time.materializer)
    await expect(done).rejects.toMatchObject({ code: 'WEIR_HTTP_DECODING_FAILED', zlibCode: 'Z_DATA_ERROR' })
  })
})

describe('Compression decoders: zip bombs', () => {
  const TEN_MB = 10 * 1024 * 1024
  const bomb = gzipSync(Buffer.alloc(TEN_MB))

  it('a 10 MB-of-zeros gzip body against a 1 MiB limit fails with EntityTooLargeError after inflating a small part of the input', async () => {
    const chunks = split(bomb, 64)
    const { flow, streams } = inspected(() => createGunzip(), 1 << 20)
    let decoded = 0
    const done = Source.from(chunks)
      .via(flow)
      .map((c) => {
        decoded += c.length
        return c
      })
      .runWith(Sink.ignore(), time.materializer)
    const e = await done.then(() => undefined, (x: unknown) => x)
    expect(e).toBeInstanceOf(EntityTooLargeError)
    expect(e).toMatchObject({ code: 'WEIR_HTTP_ENTITY_TOO_LARGE', limit: 1 << 20 })
    expect(decoded).toBeLessThanOrEqual(1 << 20)
    // zlib consumed about a tenth of the compressed input (1 MiB of 10 MiB) plus what its buffers hold
    expect(streams[0]!.bytesWritten).toBeLessThan(bomb.length / 4)
    await turns(5)
    expect(streams[0]!.closed).toBe(true)
  })

  it('the public gunzip applies maxDecodedBytes', async () => {
    const done = Source.single<Uint8Array>(bomb).via(Compression.gunzip({ maxDecodedBytes: 100_000 })).runWith(Sink.ignore(), time.materializer)
    await expect(done).rejects.toMatchObject({ code: 'WEIR_HTTP_ENTITY_TOO_LARGE', limit: 100_000 })
  })

  it('a whole bomb in one chunk is inflated only as fast as downstream pulls', async () => {
    const sink = Source.single<Uint8Array>(bomb).via(Compression.gunzip()).runWith(TestSink.probe<Uint8Array>(), time.materializer)
    sink.request(2)
    let got = (await sink.expectNext()).length + (await sink.expectNext()).length
    await turns(50)
    await sink.expectNoMessage()
    // with no demand, nothing more is produced: at most the buffers ahead (a few 16 KiB chunks)
    sink.request(1)
    got += (await sink.expectNext()).length
    expect(got).toBeLessThan(256 * 1024)
    sink.cancel()
  })
})

describe('Compression stages: resources and backpressure', () => {
  it('a slow consumer does not make the encoder pull upstream without bound', async () => {
    let pulled = 0
    const chunk = randomBytes(16 * 1024) // incompressible: output ≈ input
    const sink = Source.repeat(chunk)
      .map((c) => {
        pulled++
        return c
      })
      .via(Compression.gzip())
      .runWith(TestSink.probe<Uint8Array>(), time.materializer)
    sink.request(1)
    await sink.expectNext()
    await turns(100)
    const after = pulled
    // the writable buffer (16 KiB), one chunk in zlib, the readable buffer (16 KiB) and a little slack
    expect(after).toBeLessThanOrEqual(8)
    await turns(100)
    expect(pulled).toBe(after)
    sink.cancel()
  })

  it('cancellation destroys the zlib stream and closes its handle', async () => {
    const { flow, streams } = inspected(() => createGunzip())
    const sink = Source.repeat<Uint8Array>(gzipSync(Buffer.alloc(1 << 20)))
      .via(flow)
      .runWith(TestSink.probe<Uint8Array>(), time.materializer)
    sink.request(1)
    await sink.expectNext()
    sink.cancel()
    await turns(5)
    expect(streams).toHaveLength(1)
    expect(streams[0]!.destroyed).toBe(true)
    expect(streams[0]!.closed).toBe(true)
  })

  it('an upstream failure fails the stream with that error and closes zlib', async () => {
    const { flow, streams } = inspected(() => createGunzip())
    const boom = new Error('boom')
    const [src, sink] = TestSource.probe<Uint8Array>().via(flow).toMat(TestSink.probe<Uint8Array>(), Keep.both).run(time.materializer)
    sink.request(1)
    await src.expectRequest()
    src.sendError(boom)
    expect(await sink.expectError()).toBe(boom)
    await turns(5)
    expect(streams[0]!.closed).toBe(true)
  })

  it('completion closes zlib too', async () => {
    const { flow, streams } = inspected(() => createGunzip())
    await Source.single<Uint8Array>(gzipSync(Buffer.from('x'))).via(flow).runWith(Sink.ignore(), time.materializer)
    await turns(5)
    expect(streams[0]!.closed).toBe(true)
  })
})

import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { FramingError, Framing, InvalidArgumentError, Keep, NoMoreElementsNeeded, Sink, Source, type Flow, type NotUsed } from '../index.js'

// ---- running a framing flow over a chunking of the input ----

type Bytes = Flow<Uint8Array, Uint8Array, NotUsed>

interface Outcome {
  readonly frames: string[]
  readonly error?: { readonly reason: string; readonly limit: number; readonly offset: number; readonly actual?: number }
}

const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'))
const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')

/**
 * The frames and the failure of `flow` over `chunks`. For `frame-too-large` the `actual` length is
 * left out: before the frame's end arrives, it is the number of bytes read so far (> limit).
 */
async function outcome(flow: Bytes, chunks: readonly Uint8Array[], time = new VirtualTime()): Promise<Outcome> {
  const frames: string[] = []
  try {
    await Source.from(chunks)
      .via(flow)
      .runForeach((f) => frames.push(text(f)), time.materializer)
    return { frames }
  } catch (e) {
    if (!(e instanceof FramingError)) throw e
    expect(e.code).toBe('WEIR_CORE_FRAMING')
    if (e.reason === 'frame-too-large') {
      expect(e.actual).toBeGreaterThan(e.limit)
      return { frames, error: { reason: e.reason, limit: e.limit, offset: e.offset } }
    }
    return { frames, error: { reason: e.reason, limit: e.limit, offset: e.offset, actual: e.actual } }
  }
}

/** The input whole, split once at every position, every byte alone, and with empty chunks between. */
function chunkings(input: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [[input]]
  for (let i = 1; i < input.length; i++) all.push([input.subarray(0, i), input.subarray(i)])
  all.push(Array.from(input, (_, i) => input.subarray(i, i + 1)))
  all.push(Array.from(input, (_, i) => [new Uint8Array(0), input.subarray(i, i + 1)]).flat())
  return all
}

/** A random chunking of `input`, cut at `cuts` (positions, any order, duplicates give empty chunks). */
function cutAt(input: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...cuts.map((c) => c % (input.length + 1))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let from = 0
  for (const p of points) {
    out.push(input.subarray(from, p))
    from = p
  }
  out.push(input.subarray(from))
  return out
}

async function expectSameAtEverySplit(flow: Bytes, input: Uint8Array, expected: Outcome): Promise<void> {
  const time = new VirtualTime()
  for (const chunks of chunkings(input)) {
    expect({ chunks: chunks.map((c) => c.length), ...(await outcome(flow, chunks, time)) }).toEqual({ chunks: chunks.map((c) => c.length), ...expected })
  }
  await assertAllStagesStopped(time.materializer)
}

// ---- a reference model of delimiter framing, on the whole input ----

/** The longest proper prefix of `d` that `s` ends with. */
function partialMatch(s: Buffer, d: Buffer): number {
  for (let k = Math.min(d.length - 1, s.length); k > 0; k--) if (s.subarray(s.length - k).equals(d.subarray(0, k))) return k
  return 0
}

function delimiterModel(input: Uint8Array, delimiter: Uint8Array, max: number, allowTruncation: boolean): Outcome {
  const s = Buffer.from(input)
  const d = Buffer.from(delimiter)
  const frames: string[] = []
  let pos = 0
  for (;;) {
    const at = s.indexOf(d, pos)
    if (at < 0) break
    if (at - pos > max) return { frames, error: { reason: 'frame-too-large', limit: max, offset: pos } }
    frames.push(text(s.subarray(pos, at)))
    pos = at + d.length
  }
  const rest = s.subarray(pos)
  if (rest.length === 0) return { frames }
  if (allowTruncation) {
    if (rest.length > max) return { frames, error: { reason: 'frame-too-large', limit: max, offset: pos } }
    return { frames: [...frames, text(rest)] }
  }
  if (rest.length - partialMatch(rest, d) > max) return { frames, error: { reason: 'frame-too-large', limit: max, offset: pos } }
  return { frames, error: { reason: 'truncated', limit: max, offset: pos, actual: rest.length } }
}

describe('Framing.delimiter', () => {
  it('cuts frames at the delimiter, excluding it, the same at every split point', async () => {
    const input = bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\nbody\r\n')
    await expectSameAtEverySplit(Framing.delimiter('\r\n', 100), input, { frames: ['GET / HTTP/1.1', 'Host: a', '', 'body'] })
  })

  it('gives empty frames for consecutive delimiters and none after a final delimiter', async () => {
    await expectSameAtEverySplit(Framing.delimiter('\n', 10), bytes('\n\na\n\n'), { frames: ['', '', 'a', ''] })
  })

  it('finds a self-overlapping delimiter split across chunks (no false match, no miss)', async () => {
    // "aab" inside "aaab": a naive matcher restarting after the failed "aa|a" misses it
    await expectSameAtEverySplit(Framing.delimiter('aab', 10), bytes('xaaaby aabaab'), { frames: ['xa', 'y ', ''] })
  })

  it('fails on a truncated last frame, with the frame’s offset and length', async () => {
    await expectSameAtEverySplit(Framing.delimiter('\n', 10), bytes('one\ntwo\nthr'), {
      frames: ['one', 'two'],
      error: { reason: 'truncated', limit: 10, offset: 8, actual: 3 },
    })
  })

  it('emits a truncated last frame with allowTruncation (a partial delimiter is part of it)', async () => {
    await expectSameAtEverySplit(Framing.delimiter('\r\n', 10, { allowTruncation: true }), bytes('one\r\ntwo\r'), { frames: ['one', 'two\r'] })
  })

  it('fails a frame longer than the maximum, after emitting the frames before it', async () => {
    await expectSameAtEverySplit(Framing.delimiter('\n', 4), bytes('abcd\nabcde\nab\n'), {
      frames: ['abcd'],
      error: { reason: 'frame-too-large', limit: 4, offset: 5 },
    })
  })

  it('fails an oversized frame as soon as the limit is passed, before its end arrives', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<Uint8Array>().via(Framing.delimiter('\n', 4)).toMat(TestSink.probe<Uint8Array>(), Keep.both).run(time.materializer)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(bytes('abc'))
    await src.expectRequest()
    src.sendNext(bytes('de')) // 5 bytes and no delimiter yet
    const e = await sink.expectError()
    expect(e).toBeInstanceOf(FramingError)
    expect(e).toMatchObject({ reason: 'frame-too-large', limit: 4, actual: 5, offset: 0 })
    expect(await src.expectCancellation()).toBe(e)
    await assertAllStagesStopped(time.materializer)
  })

  it('does not fail early while the bytes over the limit may still be the delimiter', async () => {
    // "abcd" + "\r" with limit 4: the "\r" may begin "\r\n", so the frame may still be "abcd"
    await expectSameAtEverySplit(Framing.delimiter('\r\n', 4), bytes('abcd\r\n'), { frames: ['abcd'] })
  })

  it('matches the reference model for random inputs, delimiters and chunkings', async () => {
    const time = new VirtualTime()
    const alphabet = fc.constantFrom(...bytes('ab\n'))
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 40 }).map((a) => a.map((b) => bytes('ab\n')[b % 3]!)),
        fc.array(alphabet, { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a)),
        fc.integer({ min: 0, max: 8 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (input, delimiter, max, allowTruncation, cuts) => {
          const flow = Framing.delimiter(delimiter, max, { allowTruncation })
          expect(await outcome(flow, cutAt(input, cuts), time)).toEqual(delimiterModel(input, delimiter, max, allowTruncation))
        },
      ),
      { numRuns: 300 },
    )
    await assertAllStagesStopped(time.materializer)
  })

  it('emits a frame inside one chunk as a view of it, and copies a frame spanning chunks once', async () => {
    const time = new VirtualTime()
    const first = Buffer.from('abc\nde')
    const second = Buffer.from('f\n')
    const frames = await Source.from([first, second]).via(Framing.delimiter('\n', 10)).runWith(Sink.seq(), time.materializer)
    expect(frames.map(text)).toEqual(['abc', 'def'])
    expect(Buffer.isBuffer(frames[1])).toBe(true) // Buffer in, Buffer out
    first.fill(0x2e) // '.'
    second.fill(0x2e)
    expect(frames.map(text)).toEqual(['...', 'def']) // the first frame is a view of the chunk, the second a copy
    await assertAllStagesStopped(time.materializer)
  })

  it('parses on demand: one frame per pull, upstream pulled only when no frame is queued', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<Uint8Array>().via(Framing.delimiter('\n', 10)).toMat(TestSink.probe<Uint8Array>(), Keep.both).run(time.materializer)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(bytes('a\nb\nc'))
    expect(text(await sink.expectNext())).toBe('a')
    await time.settle()
    expect(src.pending).toBe(0) // "b" is queued: no pull
    sink.request(1)
    expect(text(await sink.expectNext())).toBe('b')
    sink.request(1)
    await src.expectRequest() // only "c" left, incomplete
    src.sendNext(bytes('\n')).sendComplete()
    expect(text(await sink.expectNext())).toBe('c')
    await sink.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream when downstream cancels', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<Uint8Array>().via(Framing.delimiter('\n', 10)).toMat(TestSink.probe<Uint8Array>(), Keep.both).run(time.materializer)
    sink.request(1)
    await src.expectRequest()
    sink.cancel()
    expect(await src.expectCancellation()).toBe(NoMoreElementsNeeded)
    await assertAllStagesStopped(time.materializer)
  })

  it('rejects an empty delimiter and a bad maximum, naming the argument', () => {
    expect(() => Framing.delimiter('', 10)).toThrow(InvalidArgumentError)
    expect(() => Framing.delimiter('\n', -1)).toThrow(expect.objectContaining({ argument: 'Framing.delimiter maximumFrameLength' }))
    expect(() => Framing.delimiter('\n', 1.5)).toThrow(InvalidArgumentError)
  })
})

// ---- length-field framing ----

/** A frame of `body` behind a header of `offset` filler bytes and a `fieldLength`-byte length. */
function lengthFrame(body: string, fieldLength: number, order: 'big' | 'little', offset = 0, extra = 0): Uint8Array {
  const b = bytes(body)
  const header = new Uint8Array(offset + fieldLength).fill(0xee, 0, offset)
  let v = b.length + extra
  for (let i = 0; i < fieldLength; i++) {
    const at = order === 'big' ? offset + fieldLength - 1 - i : offset + i
    header[at] = v & 0xff
    v = Math.floor(v / 256)
  }
  return Uint8Array.from([...header, ...b])
}

const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]))

describe('Framing.lengthField', () => {
  for (const fieldLength of [1, 2, 3, 4] as const) {
    for (const byteOrder of ['big', 'little'] as const) {
      it(`cuts frames with a ${fieldLength}-byte ${byteOrder}-endian length, header included, at every split point`, async () => {
        const frames = [lengthFrame('hello', fieldLength, byteOrder, 2), lengthFrame('', fieldLength, byteOrder, 2), lengthFrame('x', fieldLength, byteOrder, 2)]
        await expectSameAtEverySplit(Framing.lengthField(fieldLength, 64, { fieldOffset: 2, byteOrder }), concat(...frames), { frames: frames.map(text) })
      })
    }
  }

  it('reads a 4-byte field as unsigned and fails a frame announcing more than the maximum, before its body', async () => {
    const huge = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2)
    const ok = lengthFrame('ab', 4, 'big')
    await expectSameAtEverySplit(Framing.lengthField(4, 100), concat(ok, huge), {
      frames: [text(ok)],
      error: { reason: 'frame-too-large', limit: 100, offset: ok.length },
    })
    const e = await Source.single(huge).via(Framing.lengthField(4, 100)).runWith(Sink.seq()).catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'WEIR_CORE_FRAMING', reason: 'frame-too-large', limit: 100, actual: 4 + 0xffffffff, offset: 0 })
  })

  it('counts the header in the maximum', async () => {
    const frame = lengthFrame('abcd', 2, 'big') // 6 bytes
    expect(await outcome(Framing.lengthField(2, 6), [frame])).toEqual({ frames: [text(frame)] })
    expect(await outcome(Framing.lengthField(2, 5), [frame])).toEqual({ frames: [], error: { reason: 'frame-too-large', limit: 5, offset: 0 } })
  })

  it('fails a stream that ends inside a header or a body', async () => {
    const frame = lengthFrame('abc', 2, 'big')
    await expectSameAtEverySplit(Framing.lengthField(2, 64), concat(frame, frame.subarray(0, 1)), {
      frames: [text(frame)],
      error: { reason: 'truncated', limit: 64, offset: 5, actual: 1 },
    })
    await expectSameAtEverySplit(Framing.lengthField(2, 64), concat(frame, frame.subarray(0, 4)), {
      frames: [text(frame)],
      error: { reason: 'truncated', limit: 64, offset: 5, actual: 4 },
    })
  })

  it('computes the frame size with computeFrameSize (here: the field counts a 2-byte trailer too)', async () => {
    const flow = Framing.lengthField(1, 64, { fieldOffset: 1, computeFrameSize: (header, length) => header.length + length + 2 })
    const frame = (body: string): Uint8Array => concat(Uint8Array.of(7, body.length), bytes(body), bytes('\r\n'))
    await expectSameAtEverySplit(flow, concat(frame('ab'), frame('')), { frames: [text(frame('ab')), text(frame(''))] })
  })

  it('fails with reason invalid when computeFrameSize returns less than the header', async () => {
    const flow = Framing.lengthField(2, 64, { computeFrameSize: () => 1 })
    expect(await outcome(flow, [Uint8Array.of(0, 0)])).toEqual({ frames: [], error: { reason: 'invalid', limit: 64, offset: 0, actual: 1 } })
  })

  it('matches a model for random frames and chunkings', async () => {
    const time = new VirtualTime()
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 6 }),
        fc.constantFrom(1, 2, 3, 4),
        fc.constantFrom<'big' | 'little'>('big', 'little'),
        fc.nat({ max: 3 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (bodies, fieldLength, byteOrder, fieldOffset, cuts) => {
          const frames = bodies.map((b) => lengthFrame(b, fieldLength, byteOrder, fieldOffset))
          const flow = Framing.lengthField(fieldLength as 1 | 2 | 3 | 4, 10 + fieldOffset + fieldLength, { fieldOffset, byteOrder })
          const ok = frames.findIndex((f) => f.length > 10 + fieldOffset + fieldLength)
          const offsetOf = (i: number): number => frames.slice(0, i).reduce((n, f) => n + f.length, 0)
          const expected: Outcome =
            ok < 0
              ? { frames: frames.map(text) }
              : { frames: frames.slice(0, ok).map(text), error: { reason: 'frame-too-large', limit: 10 + fieldOffset + fieldLength, offset: offsetOf(ok) } }
          expect(await outcome(flow, cutAt(concat(...frames), cuts), time)).toEqual(expected)
        },
      ),
      { numRuns: 200 },
    )
    await assertAllStagesStopped(time.materializer)
  })

  it('rejects bad arguments, naming them', () => {
    expect(() => Framing.lengthField(5 as 4, 10)).toThrow(expect.objectContaining({ argument: 'Framing.lengthField fieldLength' }))
    expect(() => Framing.lengthField(2, 1)).toThrow(expect.objectContaining({ argument: 'Framing.lengthField maximumFrameLength' }))
    expect(() => Framing.lengthField(2, 10, { fieldOffset: -1 })).toThrow(expect.objectContaining({ argument: 'Framing.lengthField fieldOffset' }))
    expect(() => Framing.lengthField(2, 10, { byteOrder: 'middle' as 'big' })).toThrow(InvalidArgumentError)
  })
})

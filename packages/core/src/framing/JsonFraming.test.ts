import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import { FramingError, InvalidArgumentError, JsonFraming, Keep, Source } from '../index.js'

interface Outcome {
  readonly frames: string[]
  readonly error?: { readonly reason: string; readonly limit: number; readonly offset: number; readonly actual?: number }
}

const utf8 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'utf8'))
const decode = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8')

async function outcome(max: number, chunks: readonly Uint8Array[], time: VirtualTime): Promise<Outcome> {
  const frames: string[] = []
  try {
    await Source.from(chunks)
      .via(JsonFraming.objectScanner(max))
      .runForeach((f) => frames.push(decode(f)), time.materializer)
    return { frames }
  } catch (e) {
    if (!(e instanceof FramingError)) throw e
    if (e.reason === 'frame-too-large') {
      expect(e.actual).toBeGreaterThan(e.limit)
      return { frames, error: { reason: e.reason, limit: e.limit, offset: e.offset } }
    }
    return { frames, error: { reason: e.reason, limit: e.limit, offset: e.offset, actual: e.actual } }
  }
}

/** The input whole, split once at every byte, and every byte alone. */
function chunkings(input: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [[input]]
  for (let i = 1; i < input.length; i++) all.push([input.subarray(0, i), input.subarray(i)])
  all.push(Array.from(input, (_, i) => input.subarray(i, i + 1)))
  return all
}

async function expectSameAtEverySplit(max: number, input: string, expected: Outcome): Promise<void> {
  const time = new VirtualTime()
  const bytes = utf8(input)
  for (const chunks of chunkings(bytes)) {
    expect({ chunks: chunks.map((c) => c.length), ...(await outcome(max, chunks, time)) }).toEqual({ chunks: chunks.map((c) => c.length), ...expected })
  }
  await assertAllStagesStopped(time.materializer)
}

/** Strings full of what a naive scanner trips on: braces, brackets, quotes, backslashes, multi-byte UTF-8. */
const tricky = fc.string({ unit: fc.constantFrom('a', '{', '}', '[', ']', '"', '\\', ',', ' ', '\n', 'é', '😀'), maxLength: 6 })
const { object: jsonObject } = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, tricky, fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), tie('object')),
  object: fc.dictionary(tricky, tie('value'), { maxKeys: 3 }),
}))

describe('JsonFraming.objectScanner', () => {
  it('emits each object of a sequence, skipping whitespace between them', async () => {
    await expectSameAtEverySplit(100, ' {"a":1}\n\t{"b":[1,2]}\r\n  {} ', { frames: ['{"a":1}', '{"b":[1,2]}', '{}'] })
  })

  it('emits the objects of a top-level array', async () => {
    await expectSameAtEverySplit(100, '[ {"a":1} , {"b":2},{"c":[{"d":3}]} ]', { frames: ['{"a":1}', '{"b":2}', '{"c":[{"d":3}]}'] })
  })

  it('ignores braces and brackets inside strings, with escaped quotes and backslashes', async () => {
    const objects = ['{"s":"}{"}', '{"q":"say \\"{hi}\\""}', '{"b":"back\\\\"}', '{"k}":"v{"}', '{"e":"\\\\\\"}"}']
    for (const o of objects) expect(() => JSON.parse(o)).not.toThrow()
    await expectSameAtEverySplit(100, objects.join('\n'), { frames: objects })
  })

  it('keeps nested objects whole and passes UTF-8 through untouched', async () => {
    const nested = '{"a":{"b":{"c":{"d":"é✓😀"}}},"e":[{"f":{}}]}'
    await expectSameAtEverySplit(100, `${nested}${nested}`, { frames: [nested, nested] })
  })

  it('fails on a byte outside any object, with its offset', async () => {
    await expectSameAtEverySplit(100, '{"a":1} x {"b":2}', {
      frames: ['{"a":1}'],
      error: { reason: 'invalid', limit: 100, offset: 8, actual: 'x'.charCodeAt(0) },
    })
  })

  it('fails an object longer than the maximum, after the objects before it', async () => {
    await expectSameAtEverySplit(10, '{"a":12345} {"b":123456789}', {
      frames: [],
      error: { reason: 'frame-too-large', limit: 10, offset: 0 },
    })
    await expectSameAtEverySplit(12, '{"a":12345} {"b":123456789}', {
      frames: ['{"a":12345}'],
      error: { reason: 'frame-too-large', limit: 12, offset: 12 },
    })
  })

  it('fails an oversized object before its end arrives', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<Uint8Array>().via(JsonFraming.objectScanner(8)).toMat(TestSink.probe<Uint8Array>(), Keep.both).run(time.materializer)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(utf8('{"long":"'))
    const e = await sink.expectError()
    expect(e).toMatchObject({ code: 'WEIR_CORE_FRAMING', reason: 'frame-too-large', limit: 8, actual: 9, offset: 0 })
    expect(await src.expectCancellation()).toBe(e)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails a stream that ends inside an object, and completes one that ends between objects', async () => {
    await expectSameAtEverySplit(100, '{"a":1} {"b":{"c":2}', {
      frames: ['{"a":1}'],
      error: { reason: 'truncated', limit: 100, offset: 8, actual: 12 },
    })
    await expectSameAtEverySplit(100, '{"a":"}"}  ,\n', { frames: ['{"a":"}"}'] })
  })

  it('completes right after the last object when only separators follow', async () => {
    const time = new VirtualTime()
    const [src, sink] = TestSource.probe<Uint8Array>().via(JsonFraming.objectScanner(100)).toMat(TestSink.probe<Uint8Array>(), Keep.both).run(time.materializer)
    sink.request(1)
    await src.expectRequest()
    src.sendNext(utf8('[{"a":1}]\n')).sendComplete()
    expect(decode(await sink.expectNext())).toBe('{"a":1}')
    await sink.expectComplete() // without another pull
    await assertAllStagesStopped(time.materializer)
  })

  it('frames random JSON objects, however they are chunked, exactly as JSON.stringify wrote them', async () => {
    const time = new VirtualTime()
    const separator = fc.constantFrom('', ' ', '\n', ',', ' ,\r\n\t')
    await fc.assert(
      fc.asyncProperty(
        fc.array(jsonObject, { maxLength: 4 }),
        separator,
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (objects, sep, asArray, cuts) => {
          const texts = objects.map((o) => JSON.stringify(o))
          const body = asArray ? `[${texts.join(`,${sep}`)}]` : texts.join(sep === '' ? '' : sep)
          const bytes = utf8(body)
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
          const chunks = [0, ...points].map((p, i, all) => bytes.subarray(p, all[i + 1] ?? bytes.length))
          const result = await outcome(1 << 20, chunks, time)
          expect(result).toEqual({ frames: texts })
          expect(result.frames.map((f) => JSON.parse(f) as unknown)).toEqual(objects)
        },
      ),
      { numRuns: 200 },
    )
    await assertAllStagesStopped(time.materializer)
  })

  it('rejects a maximum that cannot hold an object', () => {
    expect(() => JsonFraming.objectScanner(1)).toThrow(InvalidArgumentError)
    expect(() => JsonFraming.objectScanner(Number.NaN)).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT' }))
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Sink, Source, Materializer } from '@weir/core'
import { assertAllStagesStopped } from '@weir/testkit'
import { encode, encodeEvent, encodeEventBytes } from './encoder.js'
import { SseParser } from './parser.js'
import { HEARTBEAT, SseEncodingError, sseComment, type ServerSentEvent } from './ServerSentEvent.js'

describe('encodeEvent', () => {
  it('writes data followed by a blank line', () => {
    expect(encodeEvent({ data: 'hello' })).toBe('data: hello\n\n')
  })

  it('writes event, id and retry before the data', () => {
    expect(encodeEvent({ data: 'x', event: 'add', id: '42', retry: 3000 })).toBe('event: add\nid: 42\nretry: 3000\ndata: x\n\n')
  })

  it('splits data at CRLF, CR and LF into data lines', () => {
    expect(encodeEvent({ data: 'a\r\nb\rc\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n')
    expect(encodeEvent({ data: 'a\n' })).toBe('data: a\ndata: \n\n')
    expect(encodeEvent({ data: '\r\n\r\n' })).toBe('data: \ndata: \ndata: \n\n')
  })

  it('writes empty data as one empty data line', () => {
    expect(encodeEvent({ data: '' })).toBe('data: \n\n')
  })

  it('writes an empty id (which resets the client’s last event ID)', () => {
    expect(encodeEvent({ data: 'x', id: '' })).toBe('id: \ndata: x\n\n')
  })

  it('writes comments, one comment line per line, and the heartbeat as ": \\n\\n"', () => {
    expect(encodeEvent(HEARTBEAT)).toBe(': \n\n')
    expect(encodeEvent(sseComment('hi'))).toBe(': hi\n\n')
    expect(encodeEvent(sseComment('a\r\nb'))).toBe(': a\n: b\n\n')
  })

  it.each([
    ['event', { data: 'x', event: 'a\nb' }],
    ['event', { data: 'x', event: 'a\rb' }],
    ['id', { data: 'x', id: 'a\nb' }],
    ['id', { data: 'x', id: 'a\r' }],
    ['id', { data: 'x', id: 'a\0b' }],
    ['retry', { data: 'x', retry: -1 }],
    ['retry', { data: 'x', retry: 1.5 }],
    ['retry', { data: 'x', retry: Number.NaN }],
  ] as const)('rejects a bad %s with SseEncodingError', (field, event) => {
    const error = (() => {
      try {
        encodeEvent(event)
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(SseEncodingError)
    expect((error as SseEncodingError).code).toBe('WEIR_SSE_ENCODING')
    expect((error as SseEncodingError).field).toBe(field)
  })

  it('accepts NUL in an event type (only ids forbid it)', () => {
    expect(encodeEvent({ data: 'x', event: 'a\0' })).toBe('event: a\0\ndata: x\n\n')
  })
})

describe('encodeEvent and SseParser round trip', () => {
  const text = fc.string({ unit: fc.constantFrom('a', ' ', ':', '\r', '\n', '\0', 'é', '😀', '\uFEFF', 'data', 'id') })
  const singleLine = text.map((s) => s.replace(/[\r\n]/g, ''))
  const event: fc.Arbitrary<ServerSentEvent> = fc.record(
    { data: text, event: singleLine, id: singleLine.map((s) => s.replace(/\0/g, '')), retry: fc.nat() },
    { requiredKeys: ['data'] },
  )

  it('a client parses back exactly the events written, with data line breaks normalised to LF', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(event, text.map(sseComment)), { maxLength: 8 }), fc.nat(), (frames, cut) => {
        const bytes = new TextEncoder().encode(frames.map(encodeEvent).join(''))
        const at = cut % (bytes.length + 1)
        const parser = new SseParser()
        const parsed = [...parser.feed(bytes.subarray(0, at)), ...parser.feed(bytes.subarray(at))]
        const expected: { type: string; data: string; lastEventId: string }[] = []
        let lastId = ''
        let retry: number | undefined
        for (const f of frames) {
          if ('comment' in f) continue
          if (f.id !== undefined) lastId = f.id
          if (f.retry !== undefined) retry = f.retry
          expected.push({ type: f.event === undefined || f.event === '' ? 'message' : f.event, data: f.data.replace(/\r\n|\r/g, '\n'), lastEventId: lastId })
        }
        expect(parsed).toEqual(expected)
        expect(parser.lastEventId).toBe(lastId)
        expect(parser.reconnectionTime).toBe(retry)
      }),
      { numRuns: 500 },
    )
  })
})

describe('encode()', () => {
  it('emits the UTF-8 bytes of each frame', async () => {
    const mat = Materializer.create()
    const chunks = await Source.from([{ data: 'é' }, HEARTBEAT]).via(encode()).runWith(Sink.seq(), mat)
    expect(chunks.map((c) => Buffer.from(c).toString('utf8'))).toEqual(['data: é\n\n', ': \n\n'])
    await assertAllStagesStopped(mat)
    mat.shutdown()
  })

  it('fails the stream with SseEncodingError on an event it cannot encode', async () => {
    const mat = Materializer.create()
    const result = Source.from([{ data: 'ok' }, { data: 'x', id: 'a\nb' }]).via(encode()).runWith(Sink.seq(), mat)
    await expect(result).rejects.toMatchObject({ code: 'WEIR_SSE_ENCODING', field: 'id' })
    await assertAllStagesStopped(mat)
    mat.shutdown()
  })
})

describe('encodeEventBytes', () => {
  const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')

  it('encodes a frame sent to many subscribers once: the same frame again gives the same bytes', () => {
    const frame: ServerSentEvent = { event: 'price', id: '7', data: 'a\nb' }
    const first = encodeEventBytes(frame)
    expect(encodeEventBytes(frame)).toBe(first)
    expect(text(first)).toBe('event: price\nid: 7\ndata: a\ndata: b\n\n')
  })

  it('encodes again when the frame, or any of its fields, changed since', () => {
    const frame: { data: string; id?: string } = { data: 'one' }
    const first = encodeEventBytes(frame)
    frame.data = 'two'
    expect(text(encodeEventBytes(frame))).toBe('data: two\n\n')
    frame.id = '2'
    expect(text(encodeEventBytes(frame))).toBe('id: 2\ndata: two\n\n')
    expect(text(encodeEventBytes({ data: 'two', id: '2' }))).toBe('id: 2\ndata: two\n\n')
    expect(text(encodeEventBytes(HEARTBEAT))).toBe(': \n\n')
    expect(text(encodeEventBytes(sseComment('x')))).toBe(': x\n\n')
    expect(text(first)).toBe('data: one\n\n')
  })
})

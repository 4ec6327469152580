import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SseParser, type ParsedEvent } from './parser.js'

const utf8 = new TextEncoder()

function parseAll(chunks: readonly (Uint8Array | string)[]): { events: ParsedEvent[]; parser: SseParser } {
  const parser = new SseParser()
  const events: ParsedEvent[] = []
  for (const c of chunks) events.push(...parser.feed(c))
  return { events, parser }
}

/** Every way of cutting `bytes` in two, plus one byte at a time. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [[bytes]]
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)])
  out.push(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)))
  return out
}

function expectSameAtEverySplit(stream: string, expected: ParsedEvent[]): void {
  for (const chunks of splits(utf8.encode(stream))) expect(parseAll(chunks).events).toEqual(expected)
}

const msg = (data: string, lastEventId = '', type = 'message'): ParsedEvent => ({ type, data, lastEventId })

describe('SseParser', () => {
  it('dispatches an event on a blank line, with type message by default', () => {
    expectSameAtEverySplit('data: hello\n\n', [msg('hello')])
  })

  it('joins several data lines with LF and removes the final LF', () => {
    expectSameAtEverySplit('data: a\ndata: b\ndata\n\n', [msg('a\nb\n')])
  })

  it('accepts CRLF, CR and LF line ends, also mixed, at every split point', () => {
    expectSameAtEverySplit('data: a\r\ndata: b\rdata: c\n\r\nevent: x\rdata: d\r\r', [msg('a\nb\nc'), msg('d', '', 'x')])
  })

  it('treats CR then LF split across chunks as one line end, not a blank line', () => {
    const { events } = parseAll(['data: a\r', '\ndata: b\r', '\n\r', '\n'])
    expect(events).toEqual([msg('a\nb')])
  })

  it('skips a BOM at the start of the stream only, even when split inside', () => {
    expectSameAtEverySplit('\uFEFFdata: x\n\n', [msg('x')])
    // a BOM later is part of the text: here it makes the field name unknown
    expect(parseAll(['data: x\n\n', '\uFEFFdata: y\n\n']).events).toEqual([msg('x')])
  })

  it('decodes UTF-8 split inside a multi-byte sequence', () => {
    expectSameAtEverySplit('data: é€😀\n\n', [msg('é€😀')])
  })

  it('strips exactly one leading space of a value', () => {
    expectSameAtEverySplit('data:x\n\ndata:  y\n\n', [msg('x'), msg(' y')])
  })

  it('reads a field name without a colon as a field with an empty value', () => {
    expectSameAtEverySplit('data\n\n', [msg('')])
    expectSameAtEverySplit('data\ndata\n\n', [msg('\n')])
  })

  it('ignores comments and unknown fields', () => {
    expectSameAtEverySplit(': hi\nfoo: bar\nDATA: no\ndata: yes\n:\n\n', [msg('yes')])
  })

  it('dispatches nothing for a block without data, but resets the event type', () => {
    expectSameAtEverySplit('event: x\n\ndata: y\n\n', [msg('y')])
    expectSameAtEverySplit(': heartbeat\n\n\n\n', [])
  })

  it('uses the event field as the type of the next event only', () => {
    expectSameAtEverySplit('event: add\ndata: 1\n\ndata: 2\n\n', [msg('1', '', 'add'), msg('2')])
  })

  it('keeps the last event ID across events until an id field changes it', () => {
    expectSameAtEverySplit('id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n', [msg('a', '1'), msg('b', '1'), msg('c', '')])
  })

  it('commits an id on dispatch even when the block has no data', () => {
    const { events, parser } = parseAll(['id: 7\n\n', 'data: a\n\n'])
    expect(events).toEqual([msg('a', '7')])
    expect(parser.lastEventId).toBe('7')
  })

  it('does not commit an id before the blank line', () => {
    const { parser } = parseAll(['id: 7\ndata: a\n'])
    expect(parser.lastEventId).toBe('')
  })

  it('ignores an id containing NUL', () => {
    expectSameAtEverySplit('id: 1\n\nid: 2\0x\ndata: a\n\n', [msg('a', '1')])
  })

  it('sets the reconnection time only from an all-digits retry value', () => {
    expect(parseAll(['retry: 1500\n']).parser.reconnectionTime).toBe(1500)
    for (const bad of ['retry: 15s\n', 'retry: -1\n', 'retry: 1.5\n', 'retry:\n', 'retry: \n', 'retry:  10\n']) {
      expect(parseAll([bad]).parser.reconnectionTime).toBeUndefined()
    }
    expect(parseAll(['retry: 10\nretry: x\n']).parser.reconnectionTime).toBe(10)
  })

  it('discards an event left unterminated at the end of the stream', () => {
    expect(parseAll(['data: a\n']).events).toEqual([])
    expect(parseAll(['data: a']).events).toEqual([])
  })

  it('starts from a given last event ID, kept by events without an id and reset by an empty id', () => {
    const parser = new SseParser({ lastEventId: '41' })
    expect(parser.lastEventId).toBe('41')
    expect(parser.feed('data: a\n\nid: 42\ndata: b\n\nid\ndata: c\n\n')).toEqual([msg('a', '41'), msg('b', '42'), msg('c', '')])
  })

  it('reports the characters held for the event being received', () => {
    const parser = new SseParser()
    parser.feed('data: abc\ndata: d')
    expect(parser.pendingLength).toBe('abc\n'.length + 'data: d'.length)
    parser.feed('\n\n')
    expect(parser.pendingLength).toBe(0)
  })

  it('accepts strings as well as bytes', () => {
    expect(parseAll(['da', 'ta: ', 'x\r', '\n\r\n']).events).toEqual([msg('x')])
  })

  it('gives the same events for any chunking (property)', () => {
    const line = fc.constantFrom('data: a', 'data:b', 'data', 'event: t', 'id: 9', ': c', 'retry: 5', 'x: y', '', 'data: é😀')
    const eol = fc.constantFrom('\n', '\r', '\r\n')
    const stream = fc.array(fc.tuple(line, eol).map(([l, e]) => l + e), { maxLength: 20 }).map((ls) => ls.join(''))
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 6 }), (s, cuts) => {
        const bytes = utf8.encode(s)
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        const chunks: Uint8Array[] = []
        let prev = 0
        for (const p of points) {
          chunks.push(bytes.subarray(prev, p))
          prev = p
        }
        chunks.push(bytes.subarray(prev))
        const whole = parseAll([bytes])
        const cut = parseAll(chunks)
        expect(cut.events).toEqual(whole.events)
        expect(cut.parser.lastEventId).toBe(whole.parser.lastEventId)
        expect(cut.parser.reconnectionTime).toBe(whole.parser.reconnectionTime)
      }),
    )
  })
})

/**
 * Properties of both parsers on generated input — valid requests built from a model, the same requests
 * mutated byte-wise, and random bytes — each cut at random offsets:
 * - parsing never throws and always terminates;
 * - the events form a well-formed sequence: (start body* trailers? end)*, then possibly a partial message,
 *   then at most one error, last;
 * - the events do not depend on how the input was cut;
 * - valid requests parse to exactly what the model built.
 */
import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MessageEvent, RequestStart, ResponseStart } from './events.js'
import { RequestParser } from './RequestParser.js'
import { ResponseParser } from './ResponseParser.js'
import { cut, drive, normalize } from './testing.js'

type Event = RequestStart | ResponseStart | MessageEvent

/** Checks the event grammar; returns a description of the first violation, or undefined. */
function violation(events: readonly Event[]): string | undefined {
  let state: 'between' | 'in' | 'trailers' | 'dead' = 'between'
  let bodyBytes = 0
  let expected: number | undefined
  for (const [i, e] of events.entries()) {
    if (state === 'dead') return `event ${i} (${e.type}) after an error`
    switch (e.type) {
      case 'start':
        if (state !== 'between') return `start at ${i} inside a message`
        state = 'in'
        bodyBytes = 0
        expected = e.framing === 'length' ? e.contentLength : e.framing === 'none' ? 0 : undefined
        if (e.framing === 'length' && !(e.contentLength !== undefined && e.contentLength > 0)) return `length framing without length at ${i}`
        break
      case 'body':
        if (state !== 'in') return `body at ${i} outside a message`
        if (e.data.length === 0) return `empty body part at ${i}`
        bodyBytes += e.data.length
        if (expected !== undefined && bodyBytes > expected) return `body beyond its length at ${i}`
        break
      case 'trailers':
        if (state !== 'in') return `trailers at ${i} outside a message`
        state = 'trailers'
        break
      case 'end':
        if (state === 'between') return `end at ${i} outside a message`
        if (expected !== undefined && bodyBytes !== expected) return `end at ${i} after ${bodyBytes} of ${expected} bytes`
        state = 'between'
        break
      case 'error':
        state = 'dead'
        break
    }
  }
  return undefined
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/)
const fieldValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e\t]{0,20}[\x21-\x7e])?$/)
const pathSegment = fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,10}$/)

interface ModelRequest {
  method: string
  target: string
  headers: [string, string][]
  body: string
  chunks: number[] | undefined
  trailers: [string, string][]
}

const extraHeader = fc.tuple(token.filter((t) => !['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect'].includes(t.toLowerCase())), fieldValue)

const modelRequest: fc.Arbitrary<ModelRequest> = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), token.map((t) => t.toUpperCase())),
  target: fc.array(pathSegment, { maxLength: 4 }).map((segments) => `/${segments.join('/')}`),
  headers: fc.array(extraHeader, { maxLength: 6 }),
  body: fc.string({ maxLength: 40 }),
  chunks: fc.option(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }), { nil: undefined }),
  trailers: fc.array(extraHeader, { maxLength: 2 }),
}).filter((r) => r.method !== 'CONNECT')

function render(r: ModelRequest): string {
  const lines = [`${r.method} ${r.target} HTTP/1.1`, 'Host: fuzz.example', ...r.headers.map(([n, v]) => `${n}: ${v}`)]
  if (r.chunks === undefined) {
    if (r.body.length > 0) lines.push(`Content-Length: ${r.body.length}`)
    return `${lines.join('\r\n')}\r\n\r\n${r.body}`
  }
  lines.push('Transfer-Encoding: chunked')
  let out = `${lines.join('\r\n')}\r\n\r\n`
  let rest = r.body
  for (const size of r.chunks) {
    if (rest.length === 0) break
    const part = rest.slice(0, size)
    rest = rest.slice(size)
    out += `${part.length.toString(16)};n=v\r\n${part}\r\n`
  }
  if (rest.length > 0) out += `${rest.length.toString(16)}\r\n${rest}\r\n`
  return `${out}0\r\n${r.trailers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`
}

const SPECIAL = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x00, 0x7f, 0xff, 0x30, 0x46, 0x22]
const mutation = fc.tuple(fc.nat(), fc.constantFrom('flip', 'insert', 'delete'), fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 })))

function mutate(input: Buffer, mutations: readonly [number, string, number][]): Buffer {
  const bytes = [...input]
  for (const [at, kind, value] of mutations) {
    const i = bytes.length === 0 ? 0 : at % bytes.length
    if (kind === 'flip') bytes[i] = value
    else if (kind === 'insert') bytes.splice(i, 0, value)
    else bytes.splice(i, 1)
  }
  return Buffer.from(bytes)
}

/** Random ascending cut offsets within `length`. */
const cuts = (length: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 12 }).map((xs) => [...new Set(xs)].filter((x) => x < length).sort((a, b) => a - b))

/** Distinct ascending cut offsets inside `length`, from arbitrary naturals. */
function offsetsFrom(seeds: readonly number[], length: number): number[] {
  if (length < 2) return []
  return [...new Set(seeds.map((s) => 1 + (s % (length - 1))))].sort((a, b) => a - b)
}

const newRequestParser = (): RequestParser => new RequestParser({ maxHeaderCount: 16, maxFieldLineSize: 64, maxBodySize: 256 })
const newResponseParser = (): ResponseParser => {
  const p = new ResponseParser({ maxBodySize: 256 })
  for (const m of ['GET', 'HEAD', 'POST', 'CONNECT', 'GET']) p.expectResponseTo(m)
  return p
}

/** Parses `input` whole and cut, with the end of input; checks the properties; returns the events. */
function check(make: () => RequestParser | ResponseParser, input: Buffer, offsets: readonly number[]): Event[] {
  const events = drive<Event>(make(), [input], true)
  expect(violation(events)).toBeUndefined()
  expect(normalize(drive<Event>(make(), cut(input, offsets), true))).toEqual(normalize(events))
  return events
}

const runs = { numRuns: 300 }

describe('parsers — properties', () => {
  it('parse generated valid pipelined requests to exactly their model, however cut', () => {
    fc.assert(
      fc.property(fc.array(modelRequest, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 16 }), (requests, seeds) => {
        const input = Buffer.from(requests.map(render).join(''), 'latin1')
        const events = check(newRequestParser, input, offsetsFrom(seeds, input.length))
        const got = normalize(events)
        expect(got.some((e) => e.type === 'error')).toBe(false)
        const starts = got.filter((e) => e.type === 'start')
        expect(starts.map((s) => [s.type === 'start' && 'method' in s && s.method, 'target' in s && s.target])).toEqual(requests.map((r) => [r.method, r.target]))
        const bodies: string[] = []
        for (const e of got) if (e.type === 'start') bodies.push('')
        else if (e.type === 'body') bodies[bodies.length - 1] += e.text
        expect(bodies).toEqual(requests.map((r) => r.body))
      }),
      runs,
    )
  })

  it('never throw, never hang, and emit a well-formed sequence for mutated requests, however cut', () => {
    fc.assert(
      fc.property(fc.array(modelRequest, { minLength: 1, maxLength: 2 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 16 }), (requests, mutations, seeds) => {
        const input = mutate(Buffer.from(requests.map(render).join(''), 'latin1'), mutations)
        check(newRequestParser, input, offsetsFrom(seeds, input.length))
      }),
      runs,
    )
  })

  it('never throw, never hang, and emit a well-formed sequence for random bytes, however cut', () => {
    const prefix = fc.constantFrom('', 'GET / HTTP/1.1\r\nHost: a\r\n', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', 'HTTP/1.1 200 OK\r\n')
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 16 }), (head, tail, seeds) => {
        const input = Buffer.concat([Buffer.from(head, 'latin1'), tail])
        const offsets = offsetsFrom(seeds, input.length)
        check(newRequestParser, input, offsets)
        check(newResponseParser, input, offsets)
      }),
      runs,
    )
  })

  it('give the same events for any set of cuts', () => {
    const input = Buffer.from(
      'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x="y"\r\nabc\r\n0\r\nT: 1\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi',
      'latin1',
    )
    fc.assert(fc.property(cuts(input.length), (offsets) => void check(newRequestParser, input, offsets)), runs)
  })

  it('emit a well-formed response sequence for mutated responses, however cut', () => {
    const base = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n' +
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\nrest'
    fc.assert(
      fc.property(fc.array(mutation, { maxLength: 4 }), fc.array(fc.nat(), { maxLength: 16 }), (mutations, seeds) => {
        const input = mutate(Buffer.from(base, 'latin1'), mutations)
        check(newResponseParser, input, offsetsFrom(seeds, input.length))
      }),
      runs,
    )
  })
})

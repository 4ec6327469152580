/**
 * Helpers to drive a parser over input cut into chunks, for the parser's specification and for the suites
 * of the stages built on it: the same bytes must yield the same events however they are cut.
 *
 * `normalize` makes event lists comparable: consecutive body parts are joined (their boundaries follow the
 * input), header sections become `[name, value]` lists, errors become their code, status, reason and limit.
 */
import { Buffer } from 'node:buffer'
import type { HttpParseError } from '../errors.js'
import type { MessageEvent, RequestStart, ResponseStart } from './events.js'

/** The part of a parser the helpers use. */
export interface FeedableParser<E> {
  push(chunk: Uint8Array): void
  pushEnd(): void
  next(): E | undefined
}

/** A comparable event. */
export type NormalizedEvent =
  | (Omit<RequestStart, 'headers'> & { headers: [string, string][] })
  | (Omit<ResponseStart, 'headers'> & { headers: [string, string][] })
  | { type: 'body'; text: string }
  | { type: 'trailers'; headers: [string, string][] }
  | { type: 'end' }
  | { type: 'error'; code: string; status: number; reason: string; limit: number | undefined; actual: number | undefined }

/** Drains the parser, then pushes each chunk (and the end of input when `end`), calling `next()` until it needs more; returns every event. */
export function drive<E>(parser: FeedableParser<E>, chunks: readonly Uint8Array[], end: boolean): E[] {
  const events: E[] = []
  const drain = (): void => {
    for (let e = parser.next(); e !== undefined; e = parser.next()) events.push(e)
  }
  drain()
  for (const chunk of chunks) {
    parser.push(chunk)
    drain()
  }
  if (end) {
    parser.pushEnd()
    drain()
  }
  return events
}

/** Cuts `input` at the given offsets (ascending, within bounds), as views. */
export function cut(input: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let from = 0
  for (const at of offsets) {
    chunks.push(input.subarray(from, at))
    from = at
  }
  chunks.push(input.subarray(from))
  return chunks
}

/** Cuts `input` into pieces of 1..`max` bytes chosen by a seeded generator (deterministic per seed). */
export function cutRandomly(input: Uint8Array, seed: number, max = 7): Uint8Array[] {
  let state = seed >>> 0 || 1
  const offsets: number[] = []
  for (let at = 0; ; ) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    at += 1 + ((state >>> 0) % max)
    if (at >= input.length) break
    offsets.push(at)
  }
  return cut(input, offsets)
}

/** Makes an event list comparable (see the module comment). */
export function normalize(events: readonly (RequestStart | ResponseStart | MessageEvent)[]): NormalizedEvent[] {
  const out: NormalizedEvent[] = []
  let body: Uint8Array[] = []
  const flush = (): void => {
    if (body.length > 0) out.push({ type: 'body', text: Buffer.concat(body).toString('latin1') })
    body = []
  }
  for (const e of events) {
    if (e.type === 'body') {
      body.push(e.data)
      continue
    }
    flush()
    switch (e.type) {
      case 'start':
        out.push({ ...e, headers: e.headers.entries() } as NormalizedEvent)
        break
      case 'trailers':
        out.push({ type: 'trailers', headers: e.headers.entries() })
        break
      case 'end':
        out.push({ type: 'end' })
        break
      case 'error':
        out.push(errorOf(e.error))
        break
    }
  }
  flush()
  return out
}

function errorOf(error: HttpParseError): NormalizedEvent {
  return { type: 'error', code: error.code, status: error.status, reason: error.reason, limit: error.limit, actual: error.actual }
}

/**
 * Every way the helpers cut `input`: whole, at each single offset, byte by byte, and `randomCuts` seeded random
 * cuts. Returns the cut lists, labelled for failure messages.
 */
export function everyCut(input: Uint8Array, randomCuts = 8): [label: string, chunks: Uint8Array[]][] {
  const cuts: [string, Uint8Array[]][] = [['whole', [input]]]
  for (let at = 1; at < input.length; at++) cuts.push([`split at ${at}`, cut(input, [at])])
  cuts.push(['byte by byte', cut(input, Array.from({ length: Math.max(0, input.length - 1) }, (_, i) => i + 1))])
  for (let seed = 1; seed <= randomCuts; seed++) cuts.push([`random cut #${seed}`, cutRandomly(input, seed * 7919)])
  return cuts
}

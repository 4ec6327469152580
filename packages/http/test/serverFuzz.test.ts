/**
 * Fuzzing the server connection (no sockets: the connection stage joined with a handler is a flow
 * of bytes). Random and mutated requests, in random chunks, followed by the client's FIN: the
 * server never throws or hangs, every byte it writes parses as a sequence of well-formed
 * responses, and every stage stops.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BidiFlow, Flow, Materializer, Sink, Source } from '@weir/core'
import { assertAllStagesStopped, parseResponse } from '@weir/testkit'
import { HttpEntity, HttpResponse, ServerCounters, serverSettings, type HttpRequest } from '../src/index.js'
import { requestParserFactory } from '../src/server/parser.js'
import { ServerConnectionStage } from '../src/server/ServerConnectionStage.js'

const settings = serverSettings({ idleTimeout: 'infinite', requestTimeout: 'infinite', headerReadTimeout: 'infinite', lingerTimeout: 0 })

function connectionFlow(respond: (req: HttpRequest) => HttpResponse = (req) => HttpResponse.text(`${req.method} ${req.path}`)): Flow<Uint8Array, Uint8Array, unknown> {
  const stage = new ServerConnectionStage({
    id: 1,
    remote: 'fuzz',
    settings,
    counters: new ServerCounters(),
    parser: requestParserFactory(settings),
    registerControl: () => {},
    onClosed: () => {},
  })
  // a handler that reads the request body before answering (one that does not meets the early-response policy)
  const handler = Flow.create<HttpRequest>().mapAsync(4, async (req) => {
    await HttpEntity.discard(req.entity).catch(() => {})
    return respond(req)
  })
  return BidiFlow.fromGraph(stage).join(handler)
}

const valid = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
  'POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n',
  'HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /old HTTP/1.0\r\n\r\n',
  'GET /k HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
]

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom('\r', '\n', ':', ' ', '\t', '\0', '\r\n', 'Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n', 'ffffffffffffffff', 'Host: b\r\n') }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
)

type Mutation = { readonly kind: 'flip'; readonly at: number; readonly byte: number } | { readonly kind: 'insert'; readonly at: number; readonly text: string } | { readonly kind: 'truncate'; readonly at: number }

function mutate(input: Buffer, m: Mutation): Buffer {
  const at = input.length === 0 ? 0 : m.at % input.length
  if (m.kind === 'flip') {
    const out = Buffer.from(input)
    out[at] = m.byte
    return out
  }
  if (m.kind === 'insert') return Buffer.concat([input.subarray(0, at), Buffer.from(m.text, 'latin1'), input.subarray(at)])
  return input.subarray(0, at)
}

function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let prev = 0
  for (const p of points) {
    if (p > prev) out.push(bytes.subarray(prev, p))
    prev = p
  }
  out.push(bytes.subarray(prev))
  return out.filter((b) => b.length > 0)
}

/** Every response in `out`, or the reason the bytes are not well-formed HTTP. */
function responsesIn(out: Buffer, methods: readonly string[] = []): { statuses: number[]; invalid?: string } {
  const statuses: number[] = []
  let rest = out
  while (rest.length > 0) {
    const r = parseResponse(rest, { atEof: true, requestMethod: methods[statuses.length] })
    if (r.kind !== 'complete') return { statuses, invalid: r.kind === 'invalid' ? r.reason : `incomplete response: ${JSON.stringify(rest.subarray(0, 200).toString('latin1'))}` }
    statuses.push(r.response.status)
    rest = rest.subarray(r.consumed)
  }
  return { statuses }
}

async function run(input: Buffer[], respond?: (req: HttpRequest) => HttpResponse): Promise<Buffer> {
  const mat = Materializer.create()
  mat.logger.error = () => {}
  mat.logger.warn = () => {}
  const out = await Promise.race([
    Source.from(input).via(connectionFlow(respond)).runWith(Sink.seq<Uint8Array>(), mat),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`server hung on ${JSON.stringify(Buffer.concat(input).toString('latin1'))}`)), 2000)),
  ])
  await assertAllStagesStopped(mat, { timeoutMs: 2000 })
  return Buffer.concat(out)
}

describe('server connection fuzz', () => {
  it('answers valid pipelined requests, each exactly once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...valid.filter((v) => !v.includes('close') && !v.includes('1.0'))), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), async (requests, cuts) => {
        const out = await run(chunk(Buffer.from(requests.join(''), 'latin1'), cuts))
        const { statuses, invalid } = responsesIn(out, requests.map((r) => r.slice(0, r.indexOf(' '))))
        expect(invalid).toBeUndefined()
        expect(statuses).toEqual(requests.map(() => 200))
      }),
      { numRuns: 150 },
    )
  })

  it('on random and mutated input: no crash, no hang, only well-formed responses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.tuple(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([v, ms]) => ms.reduce<Buffer>((b, m) => mutate(b, m), Buffer.from(v, 'latin1'))),
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        ),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (bytes, cuts) => {
          // mutated input may still be a valid HEAD request: answers without a body parse the same for any method
          const out = await run(chunk(bytes, cuts), () => HttpResponse.empty(204))
          const { statuses, invalid } = responsesIn(out)
          expect(invalid).toBeUndefined()
          for (const s of statuses) expect([204, 400, 408, 413, 414, 431, 501, 505]).toContain(s)
        },
      ),
      { numRuns: 400 },
    )
  })
})

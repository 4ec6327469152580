/**
 * The client over real sockets against weir's server: requests and responses with strict and streamed entities
 * both ways, keep-alive reuse through the pool, `Connection: close`, hop-by-hop fields owned by the connection,
 * pipelining over one connection, and the entry points (`singleRequest`, `hostPool().flow()`, `superPool`).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, type Socket } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { Materializer, Sink, Source } from '@weir/core'
import { TestSink, assertAllStagesStopped } from '@weir/testkit'
import {
  Headers, Http, HttpEntity, HttpRequest, HttpResponse, InvalidRequestError, type Handler, type HostConnectionPool, type HttpServerBinding, type PoolSettingsInput,
} from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(handler: Handler): Promise<HttpServerBinding> {
  const mat = Materializer.create()
  const binding = await Http.newServerAt('127.0.0.1', 0).withMaterializer(mat).bind(handler)
  cleanups.push(async () => {
    await binding.terminate('1s')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return binding
}

function pool(url: string, settings: PoolSettingsInput = {}): { pool: HostConnectionPool; mat: Materializer } {
  const mat = Materializer.create()
  const p = Http.hostPool(url, settings, { materializer: mat })
  cleanups.push(async () => {
    await p.shutdown()
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return { pool: p, mat }
}

async function waitUntil(cond: () => boolean): Promise<void> {
  const deadline = performance.now() + 5000
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('condition not met within 5 s')
    await new Promise((r) => setImmediate(r))
  }
}

const text = async (res: HttpResponse, mat?: Materializer): Promise<string> => Buffer.from((await HttpEntity.toStrict(res.entity, 64 << 20, mat)).data).toString()

const echo: Handler = async (req) => {
  const body = await HttpEntity.toStrict(req.entity, 16 << 20)
  return new HttpResponse(200, Headers.from([['x-method', req.method], ['x-te', req.headers.get('transfer-encoding') ?? ''], ['x-cl', req.headers.get('content-length') ?? '']]), HttpEntity.strict(body.data, 'application/octet-stream'))
}

describe('HTTP client', () => {
  it('sends a GET and reads a small response as a strict entity', async () => {
    const binding = await serve(() => HttpResponse.text('Hello, World!'))
    const { pool: p } = pool(`http://127.0.0.1:${binding.port}`)
    const res = await p.request(HttpRequest.get('/hello'))
    expect(res.status).toBe(200)
    expect(res.entity.kind).toBe('strict')
    expect(await text(res)).toBe('Hello, World!')
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
  })

  it('streams a large response body with backpressure, as a streamed entity', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const binding = await serve(() => HttpResponse.stream(Source.repeat(new Uint8Array(chunk)).take(64), { contentType: 'text/plain' }))
    const { pool: p, mat } = pool(`http://127.0.0.1:${binding.port}`)
    const res = await p.request(HttpRequest.get('/big'))
    expect(res.entity.kind).toBe('streamed')
    const total = await HttpEntity.dataBytes(res.entity).runWith(Sink.fold(0, (n, c: Uint8Array) => n + c.length), mat)
    expect(total).toBe(64 * 64 * 1024)
  })

  it('sends strict, known-length streamed and chunked request entities', async () => {
    const binding = await serve(echo)
    const { pool: p, mat } = pool(`http://127.0.0.1:${binding.port}`)
    const strict = await p.request(HttpRequest.post('/e', HttpEntity.text('abc')))
    expect([strict.headers.get('x-method'), strict.headers.get('x-cl'), await text(strict)]).toEqual(['POST', '3', 'abc'])
    const parts = ['one ', 'two ', 'three']
    const known = await p.request(HttpRequest.put('/e', HttpEntity.streamed(Source.from(parts.map((s) => new TextEncoder().encode(s))), { contentLength: 13 })))
    expect([known.headers.get('x-cl'), known.headers.get('x-te'), await text(known, mat)]).toEqual(['13', '', 'one two three'])
    const chunked = await p.request(HttpRequest.post('/e', HttpEntity.streamed(Source.from(parts.map((s) => new TextEncoder().encode(s))))))
    expect([chunked.headers.get('x-te'), await text(chunked, mat)]).toEqual(['chunked', 'one two three'])
    expect(p.stats().opened).toBe(1) // one keep-alive connection served all three
    expect(p.stats().reusedExchanges).toBe(2)
  })

  it('does not reuse a connection whose response said Connection: close', async () => {
    const server = createHttpServer((_req, res) => {
      res.setHeader('Connection', 'close')
      res.end('bye')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    cleanups.push(() => new Promise((r) => server.close(r)))
    const { pool: p } = pool(`http://127.0.0.1:${(server.address() as { port: number }).port}`)
    for (let i = 0; i < 3; i++) expect(await text(await p.request(HttpRequest.get('/')))).toBe('bye')
    const s = p.stats()
    expect(s.opened).toBe(3)
    expect(s.reusedExchanges).toBe(0)
  })

  it('owns the hop-by-hop fields: a caller\'s Connection, Keep-Alive, TE and the fields Connection names are not sent', async () => {
    const seen: string[] = []
    const server = createServer((sock: Socket) => {
      sock.on('data', (d) => {
        seen.push(d.toString('latin1'))
        sock.end('HTTP/1.1 204 No Content\r\n\r\n')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    cleanups.push(() => new Promise((r) => server.close(r)))
    const port = (server.address() as { port: number }).port
    const { pool: p } = pool(`http://127.0.0.1:${port}`)
    const req = HttpRequest.get(`http://127.0.0.1:${port}/p?q=1`, Headers.from([['Connection', 'x-secret, keep-alive'], ['Keep-Alive', 'timeout=5'], ['TE', 'trailers'], ['X-Secret', 's'], ['X-Kept', 'k']]))
    expect((await p.request(req)).status).toBe(204)
    expect(seen.join('')).toBe(`GET /p?q=1 HTTP/1.1\r\nX-Kept: k\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
  })

  it('rejects a request that would break framing with InvalidRequestError, before anything is sent', async () => {
    const { pool: p } = pool('http://127.0.0.1:9')
    await expect(p.request(HttpRequest.get('/', Headers.from([['x-bad', 'a\r\nInjected: 1']])))).rejects.toBeInstanceOf(InvalidRequestError)
    await expect(p.request(new HttpRequest('GE T', '/'))).rejects.toMatchObject({ code: 'WEIR_HTTP_CLIENT_INVALID_REQUEST' })
    expect(p.stats().opened).toBe(0)
  })

  it('pipelines requests over one outgoing connection, responses in order', async () => {
    const binding = await serve(async (req) => HttpResponse.text(req.path))
    const mat = Materializer.create()
    cleanups.push(() => mat.shutdown())
    const paths = Array.from({ length: 20 }, (_, i) => `/r${i}`)
    const bodies = await Source.from(paths.map((p) => HttpRequest.get(p)))
      .via(Http.outgoingConnection('127.0.0.1', binding.port, { pipeliningLimit: 8 }))
      .mapAsync(1, (res) => text(res, mat))
      .runWith(Sink.seq(), mat)
    expect(bodies).toEqual(paths)
    expect(binding.counters().connectionsAccepted).toBe(1)
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
  })

  it('singleRequest goes through a shared pool per origin', async () => {
    const binding = await serve((req) => HttpResponse.text(`hi ${req.path}`))
    const mat = Materializer.create()
    cleanups.push(() => mat.shutdown())
    const a = await Http.singleRequest(HttpRequest.get(`http://127.0.0.1:${binding.port}/a`), { materializer: mat, settings: { poolIdleTimeout: 200 } })
    const b = await Http.singleRequest(HttpRequest.get(`http://127.0.0.1:${binding.port}/b`), { materializer: mat })
    expect([await text(a), await text(b)]).toEqual(['hi /a', 'hi /b'])
    expect(binding.counters().connectionsAccepted).toBe(1)
    await expect(Http.singleRequest(HttpRequest.get('/relative'), { materializer: mat })).rejects.toBeInstanceOf(InvalidRequestError)
  })

  it('hostPool().flow() and superPool() answer every request with its context', async () => {
    const binding = await serve((req) => HttpResponse.text(req.path.slice(1)))
    const { pool: p, mat } = pool(`http://127.0.0.1:${binding.port}`, { maxConnections: 4 })
    const out = await Source.range(1, 40)
      .map((i) => [HttpRequest.get(`/${i}`), i] as const)
      .via(p.flow<number>())
      .mapAsync(4, async ([r, i]) => (r._tag === 'Right' ? [await text(r.right, mat), i] : ['error', i]))
      .runWith(Sink.seq(), mat)
    expect(out.map(([body, i]) => body === String(i)).every(Boolean)).toBe(true)
    expect(out).toHaveLength(40)
    expect(p.stats().opened).toBeLessThanOrEqual(4)
    const sp = await Source.from([[HttpRequest.get(`http://127.0.0.1:${binding.port}/x`), 'x'] as const, [HttpRequest.get('http://127.0.0.1:1/'), 'refused'] as const])
      .via(Http.superPool<string>({ materializer: mat, settings: { poolIdleTimeout: 100 } }))
      .runWith(Sink.seq(), mat)
    const byCtx = new Map(sp.map(([r, c]) => [c, r]))
    expect(byCtx.get('x')?._tag).toBe('Right')
    const refused = byCtx.get('refused')
    expect(refused?._tag === 'Left' && (refused.left as { code: string }).code).toBe('WEIR_HTTP_TCP_CONNECT_FAILED')
    const x = byCtx.get('x')
    if (x?._tag === 'Right') HttpEntity.cancel(x.right.entity, mat)
  })

  it('speaks HTTPS with the same graph over node:tls, verifying the server against the given CA', async () => {
    const fixtures = new URL('./fixtures/', import.meta.url)
    const key = readFileSync(new URL('localhost.key', fixtures))
    const cert = readFileSync(new URL('localhost.crt', fixtures))
    const mat = Materializer.create()
    const binding = await Http.newServerAt('127.0.0.1', 0).withMaterializer(mat).enableHttps({ key, cert }).bind((req) => HttpResponse.text(`secure ${req.path}`))
    cleanups.push(async () => {
      await binding.terminate('1s')
      mat.shutdown()
    })
    const trusted = Http.hostPool(`https://localhost:${binding.port}`, {}, { materializer: mat, tls: { ca: cert } })
    cleanups.push(() => trusted.shutdown('1s'))
    expect(await text(await trusted.request(HttpRequest.get('/s')))).toBe('secure /s')
    const untrusted = Http.hostPool(`https://localhost:${binding.port}`, {}, { materializer: mat })
    cleanups.push(() => untrusted.shutdown('1s'))
    await expect(untrusted.request(HttpRequest.get('/s'))).rejects.toMatchObject({ code: 'WEIR_HTTP_TCP_CONNECT_FAILED' })
  })

  it('reads a response body only as fast as it is consumed: a reader that stops holds the server back', async () => {
    let produced = 0
    let cancelled = false
    const chunk = new Uint8Array(16 * 1024)
    const binding = await serve(() =>
      HttpResponse.stream(
        Source.repeat(chunk)
          .map((c) => {
            produced += c.length
            return c
          })
          .take(64 * 1024) // 1 GiB if anyone read it all
          .watchTermination((_m, done) => {
            void done.then(() => (cancelled = true), () => (cancelled = true))
            return undefined
          }),
      ),
    )
    const { pool: p, mat } = pool(`http://127.0.0.1:${binding.port}`)
    const res = await p.request(HttpRequest.get('/endless'))
    let read = 0
    const probe = TestSink.probe<Uint8Array>()
    const sub = HttpEntity.dataBytes(res.entity).runWith(probe, mat)
    sub.request(4)
    for (let i = 0; i < 4; i++) read += (await sub.expectNext()).length
    // the reader stops: socket buffers fill and the server's source stops being pulled
    let last = -1
    for (let i = 0; i < 50 && produced !== last; i++) {
      last = produced
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(read).toBeGreaterThan(0)
    expect(produced).toBeLessThan(16 * 1024 * 1024) // bounded by socket buffers, not 1 GiB
    sub.cancel() // the caller gives up: the upstream connection closes and the server's source is cancelled
    await waitUntil(() => cancelled)
    expect(p.stats().closed).toEqual({ 'entity-cancelled': 1 })
  })
})

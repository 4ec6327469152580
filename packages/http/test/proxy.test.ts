/**
 * A weir proxy over real sockets: what it forwards (headers rewritten exactly, hop-by-hop fields stripped both
 * ways, target rewritten), what it answers when the upstream fails (502 with a body that says which, 504 for
 * timeouts under virtual time), and that it streams both ways with backpressure.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { connect as netConnect, Socket } from 'node:net'
import diagnostics_channel from 'node:diagnostics_channel'
import { Flow, Materializer, Sink, Source } from '@weir/core'
import { RawClient, VirtualTime, assertAllStagesStopped } from '@weir/testkit'
import {
  Headers, Http, HttpEntity, HttpRequest, HttpResponse, Proxy, TcpConnectionStage, proxyChannels, type HttpServerBinding,
} from '../src/index.js'
import { closedPort, headEnd, proxyServer, rawUpstream, received, serve, type Cleanups } from './proxyFixtures.js'

const cleanups: Cleanups = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function client(binding: HttpServerBinding): Promise<RawClient> {
  const c = await RawClient.connect(binding.port)
  cleanups.push(() => c.destroy())
  return c
}

const bodyText = (res: HttpResponse): string => (res.entity.kind === 'strict' ? Buffer.from(res.entity.data).toString() : '<streamed>')

describe('proxy: what is forwarded', () => {
  it('rewrites request and response headers exactly: hop-by-hop stripped both ways, Via and X-Forwarded-* appended', async () => {
    let seen = ''
    const upstream = await rawUpstream(cleanups, (socket) => {
      void received(socket, headEnd).then((head) => {
        seen = head
        socket.write(
          'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Upstream-Hop\r\nKeep-Alive: timeout=5\r\nX-Upstream-Hop: 1\r\nProxy-Connection: keep-alive\r\n' +
            'X-End: e\r\nVia: 1.1 cache\r\nDate: Sat, 21 Nov 2026 22:00:00 GMT\r\nContent-Length: 2\r\n\r\nok',
        )
      })
    })
    const { binding } = await proxyServer(cleanups, upstream.url)
    const c = await client(binding)
    await c.write(
      'GET /items?x=1 HTTP/1.1\r\nHost: front.example\r\nConnection: keep-alive, X-Client-Hop\r\nX-Client-Hop: secret\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\n' +
        'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nAccept: text/plain\r\n\r\n',
    )
    const res = await c.readResponse()
    expect(seen).toBe(
      'GET /items?x=1 HTTP/1.1\r\nAccept: text/plain\r\nVia: 1.1 weir\r\nX-Forwarded-For: 203.0.113.9, 127.0.0.1\r\nX-Forwarded-Proto: http\r\n' +
        `X-Forwarded-Host: front.example\r\nHost: 127.0.0.1:${upstream.port}\r\n\r\n`,
    )
    expect(res.status).toBe(200)
    expect(res.body.toString()).toBe('ok')
    expect(res.rawHeaders).toEqual([
      ['X-End', 'e'],
      ['Date', 'Sat, 21 Nov 2026 22:00:00 GMT'],
      ['Via', '1.1 cache, 1.1 weir'],
      ['Content-Length', '2'],
      ['Keep-Alive', 'timeout=75'], // the proxy's own connection, not the upstream's timeout=5
    ])
  })

  it('rewrites the path under the upstream URL\'s base path and keeps the query; preserveHost keeps the client\'s Host', async () => {
    const { binding: up } = await serve(cleanups, (req) => HttpResponse.text(`${req.target} host=${req.headers.get('host')} xfh=${req.headers.get('x-forwarded-host')}`))
    const { binding } = await proxyServer(cleanups, `http://127.0.0.1:${up.port}/v2/`, { rewritePath: (p) => p.replace(/^\/api/, ''), preserveHost: true })
    const c = await client(binding)
    await c.write('GET /api/users?id=3 HTTP/1.1\r\nHost: front.example\r\n\r\n')
    expect((await c.readResponse()).body.toString()).toBe('/v2/users?id=3 host=front.example xfh=front.example')
    await c.write('GET /api HTTP/1.1\r\nHost: front.example\r\n\r\n')
    expect((await c.readResponse()).body.toString()).toBe('/v2 host=front.example xfh=front.example')
  })

  it('streams a chunked request body to the upstream and a streamed response back, byte for byte', async () => {
    const { binding: up, mat: upMat } = await serve(cleanups, async (req) => {
      const body = (await HttpEntity.toStrict(req.entity, 16 << 20, upMat)).data
      const parts: Uint8Array[] = []
      for (let at = 0; at < body.length; at += 100_000) parts.push(body.subarray(at, at + 100_000))
      return HttpResponse.stream(Source.from(parts), { contentType: 'application/octet-stream' })
    })
    const { binding } = await proxyServer(cleanups, `http://127.0.0.1:${up.port}`)
    const c = await client(binding)
    const payload = Buffer.alloc(3 * 1024 * 1024)
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff
    await c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')
    for (let at = 0; at < payload.length; at += 256 * 1024) {
      const part = payload.subarray(at, at + 256 * 1024)
      await c.write(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]))
    }
    await c.write('0\r\n\r\n')
    const res = await c.readResponse({ timeoutMs: 10_000 })
    expect(res.status).toBe(200)
    expect(res.framing).toBe('chunked')
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'))
  })

  it('over HTTPS, X-Forwarded-Proto says https and the handler sees req.secure', async () => {
    const { readFileSync } = await import('node:fs')
    const fixtures = new URL('./fixtures/', import.meta.url)
    const key = readFileSync(new URL('localhost.key', fixtures))
    const cert = readFileSync(new URL('localhost.crt', fixtures))
    const { binding: up } = await serve(cleanups, (req) => HttpResponse.text(`${req.headers.get('x-forwarded-proto')} ${req.secure}`))
    const mat = Materializer.create()
    const proxy = Proxy.to(`http://127.0.0.1:${up.port}`, { materializer: mat })
    const front = await Http.newServerAt('127.0.0.1', 0).withMaterializer(mat).enableHttps({ key, cert }).bind((req) => (req.secure ? proxy(req) : HttpResponse.text('plain')))
    const pool = Http.hostPool(`https://localhost:${front.port}`, {}, { materializer: mat, tls: { ca: cert } })
    cleanups.push(async () => {
      await pool.shutdown()
      await front.terminate('1s')
      await proxy.pool.shutdown()
      await assertAllStagesStopped(mat, { timeoutMs: 5000 })
      mat.shutdown()
    })
    const res = await pool.request(HttpRequest.get('/'))
    expect(bodyText(res)).toBe('https false') // the proxy's upstream hop is plain http
  })

  it('answers HEAD with the length the upstream announced, and no body', async () => {
    const { binding: up } = await serve(cleanups, () => HttpResponse.text('x'.repeat(1234)))
    const { binding } = await proxyServer(cleanups, `http://127.0.0.1:${up.port}`)
    const c = await client(binding)
    await c.write('HEAD /doc HTTP/1.1\r\nHost: x\r\n\r\n')
    const res = await c.readResponse({ requestMethod: 'HEAD' })
    expect(res.headers['content-length']).toEqual(['1234'])
    expect(res.body.length).toBe(0)
    await c.write('GET /doc HTTP/1.1\r\nHost: x\r\n\r\n') // the connection is still in step
    expect((await c.readResponse()).body.length).toBe(1234)
  })
})

describe('proxy: upstream failures', () => {
  it('answers 502 when the upstream refuses the connection, and says so (diagnostics too)', async () => {
    const port = await closedPort()
    const { binding } = await proxyServer(cleanups, `http://127.0.0.1:${port}`)
    const events: unknown[] = []
    const listener = (m: unknown): void => void events.push(m)
    diagnostics_channel.subscribe('weir:http:proxy:upstream-failure', listener)
    cleanups.push(() => void diagnostics_channel.unsubscribe('weir:http:proxy:upstream-failure', listener))
    const c = await client(binding)
    await c.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n')
    const res = await c.readResponse()
    expect(res.status).toBe(502)
    expect(res.body.toString()).toContain('(WEIR_HTTP_TCP_CONNECT_FAILED)')
    expect(events).toMatchObject([{ method: 'GET', target: '/x', kind: 'connect-failed', status: 502, code: 'WEIR_HTTP_TCP_CONNECT_FAILED' }])
    expect(proxyChannels.upstreamFailure.name).toBe('weir:http:proxy:upstream-failure')
    // the proxy's own connection is fine: it serves the next request
    await c.write('GET /y HTTP/1.1\r\nHost: x\r\n\r\n')
    expect((await c.readResponse()).status).toBe(502)
  })

  it('answers 502 for a malformed upstream response', async () => {
    const upstream = await rawUpstream(cleanups, (socket) => {
      void received(socket, headEnd).then(() => socket.end('HTTP/1.1 2OO Fine\r\nContent-Length: 0\r\n\r\n'))
    })
    const { binding } = await proxyServer(cleanups, upstream.url)
    const c = await client(binding)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    const res = await c.readResponse()
    expect(res.status).toBe(502)
    expect(res.body.toString()).toContain('(WEIR_HTTP_BAD_RESPONSE)')
  })

  it('answers 502 when the upstream resets the connection before responding', async () => {
    const upstream = await rawUpstream(cleanups, (socket) => {
      void received(socket, headEnd).then(() => socket.resetAndDestroy())
    })
    const { binding, proxy } = await proxyServer(cleanups, upstream.url)
    const c = await client(binding)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    const res = await c.readResponse()
    expect(res.status).toBe(502)
    expect(res.body.toString()).toContain('(WEIR_HTTP_CLIENT_RESET_BEFORE_RESPONSE)')
    expect(proxy.pool.stats().connections).toBe(0)
  })

  it('answers 504 when the upstream does not respond within the response timeout (virtual time)', async () => {
    const time = new VirtualTime()
    const upstream = await rawUpstream(cleanups, () => {})
    const proxy = Proxy.to(upstream.url, { materializer: time.materializer, pool: { responseTimeout: '3s' } })
    const heard = new Promise<void>((resolve) => upstream.server.once('connection', (s) => void received(s, headEnd).then(() => resolve())))
    let settled: HttpResponse | undefined
    const pending = proxy(HttpRequest.get('/slow')).then((r) => (settled = r))
    await heard
    await time.advance(2999)
    expect(settled).toBeUndefined()
    await time.advance(1)
    const res = await pending
    expect(res.status).toBe(504)
    expect(bodyText(res)).toContain('(WEIR_HTTP_CLIENT_RESPONSE_TIMEOUT)')
    await proxy.pool.shutdown()
    await assertAllStagesStopped(time.materializer, { timeoutMs: 5000 })
  })

  it('answers 504 when the upstream connection is not established within the connecting timeout (virtual time)', async () => {
    const time = new VirtualTime()
    const sockets: Socket[] = []
    cleanups.push(() => sockets.forEach((s) => s.destroy()))
    // a transport whose socket never connects (a blackholed SYN)
    const pool = Http.hostPool('http://10.255.255.1:80', { connectingTimeout: '2s' }, {
      materializer: time.materializer,
      transport: (origin, ms) => {
        // a socket that stays 'connecting' (its writes are queued until a 'connect' that never comes)
        const socket = Object.assign(new Socket(), { connecting: true })
        sockets.push(socket)
        return Flow.fromGraph(new TcpConnectionStage({ kind: 'connect', connect: () => socket, remote: `${origin.host}:${origin.port}`, connectTimeoutMs: ms }))
      },
    })
    const proxy = Proxy.to('http://10.255.255.1:80', { pool, materializer: time.materializer })
    let settled: HttpResponse | undefined
    const pending = proxy(HttpRequest.get('/')).then((r) => (settled = r))
    await time.advance(1999)
    expect(settled && bodyText(settled)).toBeUndefined()
    await time.advance(1)
    const res = await pending
    expect(bodyText(res)).toContain('(WEIR_HTTP_TCP_CONNECT_TIMEOUT)')
    expect(res.status).toBe(504)
    await pool.shutdown()
    await assertAllStagesStopped(time.materializer, { timeoutMs: 5000 })
  })
})

describe('proxy: backpressure', () => {
  it('a large upload to an upstream that stopped reading is not buffered in the proxy', async () => {
    const total = 256 * 1024 * 1024
    let upstreamGot = 0
    let upstreamSocket: Socket | undefined
    const upstream = await rawUpstream(cleanups, (socket) => {
      upstreamSocket = socket
      socket.on('data', (d: Buffer) => {
        upstreamGot += d.length
        if (upstreamGot >= 1024 * 1024) socket.pause() // a slow upstream: it stops reading after 1 MiB
      })
    })
    const { binding } = await proxyServer(cleanups, upstream.url, { holdResponse: '1s' }, { maxContentLength: '1g' })
    const sock = netConnect({ port: binding.port, host: '127.0.0.1' })
    sock.on('error', () => {})
    cleanups.push(() => void sock.destroy())
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()))
    sock.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${total}\r\n\r\n`)
    const chunk = Buffer.alloc(1024 * 1024, 0x61)
    let flushed = 0
    let offered = 0
    // write until the proxy stops taking bytes (no 'drain' within 1 s), or everything was taken
    for (;;) {
      if (offered >= total) break
      offered += chunk.length
      const more = sock.write(chunk, () => (flushed += chunk.length))
      if (!more) {
        const drained = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 1000)
          sock.once('drain', () => {
            clearTimeout(t)
            resolve(true)
          })
        })
        if (!drained) break
      }
    }
    const inFlight = flushed - upstreamGot
    expect(offered).toBeLessThan(total) // the client was held back
    // what the client handed to its kernel and the upstream did not read sits in socket buffers (client send,
    // proxy receive, proxy send, upstream receive), not in the proxy's memory
    expect(inFlight).toBeLessThan(64 * 1024 * 1024) // observed: about 9 MiB
    expect(upstreamSocket).toBeDefined()
  })

  it('a large download to a client that stopped reading is read from the upstream only as fast as the client takes it', async () => {
    let produced = 0
    const chunk = new Uint8Array(64 * 1024)
    const { binding: up } = await serve(cleanups, () =>
      HttpResponse.stream(Source.repeat(chunk).map((c) => ((produced += c.length), c)), { contentType: 'application/octet-stream' }),
    )
    const { binding } = await proxyServer(cleanups, `http://127.0.0.1:${up.port}`)
    const sock = netConnect({ port: binding.port, host: '127.0.0.1' })
    sock.on('error', () => {})
    cleanups.push(() => void sock.destroy())
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()))
    sock.write('GET /forever HTTP/1.1\r\nHost: x\r\n\r\n')
    await new Promise<void>((resolve) => sock.once('data', () => resolve()))
    sock.pause() // the client stops reading
    // wait until the upstream stops producing (unchanged for 300 ms), bounded by 10 s
    let last = -1
    for (let i = 0; i < 100 && produced !== last; i++) {
      last = produced
      await new Promise((r) => setTimeout(r, 300))
    }
    expect(produced).toBe(last) // it stalled
    expect(produced).toBeLessThan(64 * 1024 * 1024) // observed: about 8 MiB, all of it in socket buffers
  })
})

describe('proxy: building blocks', () => {
  it('forwardRequest watches the streamed entity: entityDone settles when it was sent to its end', async () => {
    const mat = Materializer.create()
    cleanups.push(() => mat.shutdown())
    const req = HttpRequest.post('/p', HttpEntity.streamed(Source.from([new Uint8Array([1]), new Uint8Array([2])])), Headers.from([['Connection', 'close']]))
    const fwd = Proxy.forwardRequest(req, { via: 'edge' })
    expect(fwd.streamed).toBe(true)
    expect(fwd.request.headers.entries).toEqual([['Via', '1.1 edge'], ['X-Forwarded-Proto', 'http']])
    let done = false
    void fwd.entityDone.then(() => (done = true))
    await new Promise((r) => setImmediate(r))
    expect(done).toBe(false) // not materialized yet
    expect(await HttpEntity.dataBytes(fwd.request.entity).runWith(Sink.seq(), mat)).toHaveLength(2)
    await fwd.entityDone
    expect(Proxy.forwardRequest(HttpRequest.get('/')).streamed).toBe(false)
    expect(() => Proxy.to('ftp://127.0.0.1/')).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_CLIENT_INVALID_REQUEST' }))
    const other = Http.hostPool('http://127.0.0.1:1', {}, { materializer: mat })
    expect(() => Proxy.to('http://127.0.0.1:2', { pool: other })).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT' }))
    expect(() => Proxy.to('http://127.0.0.1:2', { holdResponse: 'soon' })).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT' }))
    const res = Proxy.forwardResponse(new HttpResponse(200, Headers.from([['Keep-Alive', 'timeout=1'], ['X-A', 'a']])))
    expect(res.headers.entries).toEqual([['X-A', 'a'], ['Via', '1.1 weir']])
  })
})

/**
 * A proxy's client goes away. Mid-response (FIN or RST), the server cancels the response entity, which cancels
 * the upstream response: the upstream connection is closed and the upstream's streaming source runs its cleanup.
 * Before the response head, the request's signal aborts and the proxy abandons its upstream request (the pool
 * closes that connection). Nothing leaks: stages, pooled connections, sockets.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Socket } from 'node:net'
import { Materializer, Source } from '@weir/core'
import { RawClient, activeHandles, assertAllStagesStopped } from '@weir/testkit'
import { ClientGone, ConnectionAbortedError, Http, HttpEntity, HttpRequest, HttpResponse, type HttpServerBinding } from '../src/index.js'
import { headEnd, proxyServer, rawUpstream, received, serve, type Cleanups } from './proxyFixtures.js'

const cleanups: Cleanups = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Poll `check` every 10 ms until it holds; fail after `ms` of real time (a guard, not a sleep). */
async function eventually(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const until = performance.now() + ms
  while (!check()) {
    if (performance.now() > until) throw new Error(`not within ${ms} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** An upstream weir server streaming forever; each response's source reports how it ended. */
async function streamingUpstream(): Promise<{ binding: HttpServerBinding; ended: Promise<void>[] }> {
  const ended: Promise<void>[] = []
  const chunk = new Uint8Array(16 * 1024).fill(0x61)
  const { binding } = await serve(cleanups, () => {
    const data = Source.repeat(chunk).watchTermination((m, done) => {
      ended.push(done.catch(() => undefined))
      return m
    })
    return HttpResponse.stream(data, { contentType: 'application/octet-stream' })
  })
  return { binding, ended }
}

describe('proxy: the client leaves mid-response', () => {
  for (const how of ['fin', 'rst'] as const) {
    it(`on a client ${how.toUpperCase()}: the upstream response is cancelled, its source cleaned up, the upstream connection closed, nothing leaks`, async () => {
      const upstream = await streamingUpstream()
      const { binding, proxy } = await proxyServer(cleanups, `http://127.0.0.1:${upstream.binding.port}`)
      const baseline = activeHandles()
      for (let i = 0; i < 5; i++) {
        const c = await RawClient.connect(binding.port)
        await c.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n')
        await c.readUntil((b) => b.length > 64 * 1024)
        if (how === 'fin') await c.halfClose()
        else await c.reset()
        await upstream.ended[i] // the upstream's source ran its cleanup
        await c.destroy()
      }
      expect(upstream.ended).toHaveLength(5)
      await eventually('the pool let go of its connections', () => proxy.pool.stats().connections === 0)
      await eventually('both servers closed their connections', () => binding.counters().connectionsOpen === 0 && upstream.binding.counters().connectionsOpen === 0)
      expect(proxy.pool.stats()).toMatchObject({ running: 0, queued: 0, opened: 5 })
      expect(upstream.binding.counters().closesByReason['client-fin']).toBe(5) // the proxy closed each upstream connection gracefully
      expect(binding.counters().closesByReason[how === 'fin' ? 'client-fin' : 'client-rst']).toBe(5)
      await eventually('socket handles back to the baseline', () => activeHandles() <= baseline)
    })
  }
})

describe('proxy: the client leaves before the response head', () => {
  it('on a client RST the upstream request is abandoned: its connection is closed, the pool holds nothing', async () => {
    const upstreamSockets: Socket[] = []
    const heard: Promise<string>[] = []
    const upstream = await rawUpstream(cleanups, (socket) => {
      upstreamSockets.push(socket)
      heard.push(received(socket, headEnd)) // and never answers
    })
    const { binding, proxy } = await proxyServer(cleanups, upstream.url, { pool: { responseTimeout: '1h' } })
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    await c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n')
    await eventually('the upstream got the request', () => heard.length === 1)
    await heard[0]
    const upstreamClosed = new Promise<void>((resolve) => upstreamSockets[0]!.once('end', () => resolve()))
    await c.reset()
    await upstreamClosed // the proxy's pool closed the upstream connection (FIN)
    await eventually('the pool let go of its connection', () => proxy.pool.stats().connections === 0)
    expect(proxy.pool.stats()).toMatchObject({ running: 0, queued: 0, closed: { aborted: 1 } })
  })
})

describe('proxy: a client that half-closes after its request', () => {
  it('still gets the upstream response (a FIN before the response head does not abandon the request)', async () => {
    let answer: (() => void) | undefined
    const { binding: up } = await serve(cleanups, () => new Promise<HttpResponse>((resolve) => (answer = () => resolve(HttpResponse.text('late but wanted')))))
    const { binding, proxy } = await proxyServer(cleanups, `http://127.0.0.1:${up.port}`)
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    await c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n')
    await eventually('the upstream handler has the request', () => answer !== undefined)
    await c.halfClose()
    answer!()
    const r = await c.readResponse()
    expect(r.body.toString()).toBe('late but wanted')
    expect(r.headers['connection']).toEqual(['close'])
    expect(await c.expectClosed()).toBe('fin')
    expect(proxy.pool.stats().closed['aborted']).toBeUndefined()
  })
})

describe('a request received by the server knows its client', () => {
  it('remoteAddress and secure, and a signal aborted with ClientGone when the connection ends before the response', async () => {
    const seen: HttpRequest[] = []
    const aborted: unknown[] = []
    const { binding } = await serve(cleanups, (req) => {
      seen.push(req)
      if (req.path === '/fast') return HttpResponse.text('ok')
      return new Promise<HttpResponse>((resolve) =>
        req.signal!.addEventListener('abort', () => {
          aborted.push(req.signal!.reason)
          resolve(HttpResponse.text('too late'))
        }),
      )
    })
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    await c.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n')
    await c.readResponse()
    await c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n')
    await eventually('the slow request reached the handler', () => seen.length === 2)
    expect(seen[0]!.remoteAddress).toBe('127.0.0.1')
    expect(seen[0]!.secure).toBe(false)
    expect(seen[0]!.withHeaders(seen[0]!.headers).remoteAddress).toBe('127.0.0.1') // derived requests keep it
    expect(seen[0]!.signal!.aborted).toBe(false) // answered: never aborted
    await c.reset()
    await eventually('the slow handler was told', () => aborted.length === 1)
    expect(aborted[0]).toBeInstanceOf(ClientGone)
    expect((aborted[0] as ClientGone).how).toBe('client-rst')
    expect(seen[0]!.signal!.aborted).toBe(false)
    expect(HttpRequest.get('/').signal).toBeUndefined() // requests built by user code have no connection
  })
})

describe('HostConnectionPool.request with a signal', () => {
  async function pool(settings: { maxConnections?: number } = {}) {
    const upstreamSockets: Socket[] = []
    const upstream = await rawUpstream(cleanups, (socket) => {
      upstreamSockets.push(socket)
      void received(socket, (s) => s.includes('GET /answer')).then(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
    })
    const mat = Materializer.create()
    const p = Http.hostPool(upstream.url, settings, { materializer: mat })
    cleanups.push(async () => {
      await p.shutdown()
      await assertAllStagesStopped(mat, { timeoutMs: 5000 })
      mat.shutdown()
    })
    return { p, upstreamSockets, mat }
  }

  it('rejects at once with ConnectionAbortedError when the signal is already aborted, sending nothing', async () => {
    const { p } = await pool()
    const ac = new AbortController()
    ac.abort()
    await expect(p.request(HttpRequest.get('/x'), { signal: ac.signal })).rejects.toMatchObject({ code: 'WEIR_HTTP_CLIENT_ABORTED', reason: 'aborted', requestWritten: false })
    expect(p.stats().opened).toBe(0)
  })

  it('takes a queued request out of the queue', async () => {
    const { p } = await pool({ maxConnections: 1 })
    const hang = new AbortController()
    const first = p.request(HttpRequest.get('/hang'), { signal: hang.signal })
    const ac = new AbortController()
    const second = p.request(HttpRequest.get('/x'), { signal: ac.signal })
    expect(p.stats().queued).toBe(1)
    ac.abort()
    await expect(second).rejects.toBeInstanceOf(ConnectionAbortedError)
    expect(p.stats()).toMatchObject({ queued: 0, connections: 1 })
    hang.abort()
    await expect(first).rejects.toBeInstanceOf(ConnectionAbortedError)
  })

  it('closes the connection of a request sent and not answered; does nothing once the response arrived', async () => {
    const { p, upstreamSockets, mat } = await pool()
    const ac = new AbortController()
    const pending = p.request(HttpRequest.get('/hang'), { signal: ac.signal })
    await eventually('the request was sent', () => upstreamSockets.length === 1)
    const closed = new Promise<void>((resolve) => upstreamSockets[0]!.once('end', () => resolve()))
    ac.abort()
    await expect(pending).rejects.toMatchObject({ code: 'WEIR_HTTP_CLIENT_ABORTED' })
    await closed
    expect(p.stats().closed).toMatchObject({ aborted: 1 })
    const late = new AbortController()
    const res = await p.request(HttpRequest.get('/answer'), { signal: late.signal })
    late.abort()
    expect(Buffer.from((await HttpEntity.toStrict(res.entity, 100, mat)).data).toString()).toBe('ok')
    expect(p.stats().closed['aborted']).toBe(1)
  })
})

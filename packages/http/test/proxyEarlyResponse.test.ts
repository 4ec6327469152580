/**
 * DESIGN §1 B through a weir proxy: an upstream answers a chunked POST before reading its body, with
 * `Connection: keep-alive`. Whatever the upstream does next, the proxy's own client sees only the proxy's
 * connection management: no upstream hop-by-hop field, `Connection: close` whenever the proxy closes (then a
 * FIN, never an RST while the client is still sending), and a reusable connection whenever it does not.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createServer as createHttpServer } from 'node:http'
import diagnostics_channel from 'node:diagnostics_channel'
import { RawClient, type RawResponse } from '@weir/testkit'
import { proxyServer, rawUpstream, received, headEnd, type Cleanups } from './proxyFixtures.js'

const cleanups: Cleanups = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const HEAD = 'POST /upload HTTP/1.1\r\nHost: front.example\r\nTransfer-Encoding: chunked\r\n\r\n'
const FIRST_CHUNK = '10\r\n0123456789abcdef\r\n'
const REST = ('400\r\n' + 'z'.repeat(1024) + '\r\n').repeat(40) + '0\r\n\r\n'
const EARLY = 'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Upstream-Hop\r\nKeep-Alive: timeout=5\r\nX-Upstream-Hop: 1\r\nContent-Length: 5\r\n\r\nearly'

/** No header of the upstream's connection reached the client; only the proxy's own. */
function expectNoUpstreamHopByHop(r: RawResponse): void {
  expect(r.headers['x-upstream-hop']).toBeUndefined()
  expect(r.headers['keep-alive'] ?? ['timeout=75']).toEqual(['timeout=75']) // the proxy's idle timeout, never timeout=5
  expect(r.headers['connection'] ?? ['close']).toEqual(['close']) // never the upstream's keep-alive
  expect(r.headers['via']).toEqual(['1.1 weir'])
}

describe('early upstream response through a weir proxy', () => {
  it('upstream keeps the connection (node:http): the response waits for the body to be forwarded, the client connection is reused', async () => {
    let requests = 0
    const upstream = createHttpServer((req, res) => {
      requests++
      // answer before reading the body; node reads and drops the rest afterwards and keeps the connection
      res.writeHead(200, { Connection: 'keep-alive, X-Upstream-Hop', 'Keep-Alive': 'timeout=5', 'X-Upstream-Hop': '1', 'Content-Length': '5' })
      res.end('early')
    })
    upstream.keepAliveTimeout = 5000
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise((resolve) => upstream.close(resolve)))
    cleanups.push(() => upstream.closeAllConnections())
    const { binding, proxy } = await proxyServer(cleanups, `http://127.0.0.1:${(upstream.address() as { port: number }).port}`)
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    // the proxy's client connection has the upstream's response head (then, without the hold, the proxy would
    // answer at once, before the body was forwarded: an early response that must close the client connection)
    let headArrived: (() => void) | undefined
    const onHead = (): void => headArrived?.()
    diagnostics_channel.subscribe('weir:http:client:response-start', onHead)
    cleanups.push(() => void diagnostics_channel.unsubscribe('weir:http:client:response-start', onHead))
    const iterations = 50
    for (let i = 0; i < iterations; i++) {
      const upstreamAnswered = new Promise<void>((resolve) => (headArrived = resolve))
      await c.write(HEAD + FIRST_CHUNK)
      await upstreamAnswered
      await c.write(REST)
      const r = await c.readResponse()
      expect(r.status).toBe(200)
      expect(r.body.toString()).toBe('early')
      expectNoUpstreamHopByHop(r)
      expect(r.headers['connection']).toBeUndefined() // the whole body was forwarded first: no early response, no close
    }
    expect(c.closed.peer).toBeUndefined()
    expect(binding.counters().connectionsAccepted).toBe(1)
    expect(requests).toBe(iterations)
    const stats = proxy.pool.stats()
    expect(stats.reusedExchanges).toBeGreaterThanOrEqual(iterations - stats.opened)
    expect(stats.closed['failure']).toBeUndefined()
  })

  it('upstream closes after its early keep-alive response: the proxy says Connection: close, FINs and lingers — never an RST', async () => {
    const upstream = await rawUpstream(cleanups, (socket) => {
      socket.on('data', () => {}) // read and drop whatever else arrives
      void received(socket, headEnd).then(() => socket.end(EARLY)) // says keep-alive, then closes anyway
    })
    const { binding, proxy } = await proxyServer(cleanups, upstream.url, {}, { lingerTimeout: '5s' })
    const iterations = 30
    for (let i = 0; i < iterations; i++) {
      const c = await RawClient.connect(binding.port)
      cleanups.push(() => c.destroy())
      // the client waits for the response before sending the rest of its body
      await c.write(HEAD + FIRST_CHUNK)
      const r = await c.readResponse()
      expect(r.status).toBe(200)
      expect(r.body.toString()).toBe('early')
      expectNoUpstreamHopByHop(r)
      expect(r.headers['connection']).toEqual(['close'])
      await c.expectFin()
      // the client, unaware, goes on sending its body: the proxy reads and discards it
      await c.write(REST)
      await c.halfClose()
      expect(await c.expectClosed()).toBe('fin')
      expect(c.closed.reset).toBe(false)
      expect(c.closed.error).toBeUndefined()
      await c.destroy()
    }
    for (let i = 0; i < 100 && binding.counters().connectionsOpen > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(binding.counters().closesByReason['early-response']).toBe(iterations)
    expect(proxy.pool.stats().closed['failure']).toBeUndefined()
  })

  it('upstream stops reading after its early response: the proxy holds the response at most holdResponse, then closes gracefully', async () => {
    const upstream = await rawUpstream(cleanups, (socket) => {
      void received(socket, headEnd).then(() => {
        socket.write(EARLY)
        socket.pause() // and reads nothing more
      })
    })
    const { binding } = await proxyServer(cleanups, upstream.url, { holdResponse: '200ms' }, { lingerTimeout: '5s' })
    const held: unknown[] = []
    const listener = (m: unknown): void => void held.push(m)
    diagnostics_channel.subscribe('weir:http:proxy:hold-expired', listener)
    cleanups.push(() => void diagnostics_channel.unsubscribe('weir:http:proxy:hold-expired', listener))
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    await c.write(HEAD + FIRST_CHUNK)
    const r = await c.readResponse()
    expect(r.body.toString()).toBe('early')
    expectNoUpstreamHopByHop(r)
    expect(r.headers['connection']).toEqual(['close'])
    expect(held).toMatchObject([{ method: 'POST', target: '/upload', holdMs: 200 }])
    await c.expectFin()
    await c.write(REST)
    await c.halfClose()
    expect(await c.expectClosed()).toBe('fin')
    expect(c.closed.reset).toBe(false)
  })
})

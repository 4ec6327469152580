/**
 * The upstream connections of a proxy, where the client connection and the pool must get the edge cases right:
 *
 * 1. After an early response with `Connection: close`, the client connection finishes sending the request body
 *    and then closes itself (FIN): the upstream connection does not wait for the server's FIN, and
 *    `pool.shutdown()` does not wait for it either.
 * 2. When a response entity is cancelled and the connection decides to close (a proxy client that left
 *    mid-response), the pool never hands that connection the next queued request: it goes to a fresh connection,
 *    so the upstream sees it (no 502 for a request the upstream never saw).
 */
import { afterEach, describe, expect, it } from 'vitest'
import diagnostics_channel from 'node:diagnostics_channel'
import { RawClient } from '@weir/testkit'
import { Source } from '@weir/core'
import { HttpResponse } from '../src/index.js'
import { headEnd, proxyServer, rawUpstream, received, serve, type Cleanups } from './proxyFixtures.js'

const cleanups: Cleanups = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Resolves true when `p` settles within `ms` of real time, false otherwise. */
const within = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])

describe('upstream connections of a proxy (client / pool)', () => {
  it('the client connection closes itself after an early Connection: close response once the request body was sent', async () => {
    const upstream = await rawUpstream(cleanups, (socket) => {
      socket.on('data', () => {})
      void received(socket, headEnd).then(() => socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nearly'))
    })
    const { binding } = await proxyServer(cleanups, upstream.url)
    cleanups.push(() => upstream.sockets.forEach((s) => s.destroy())) // runs first: releases the stuck connection
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    const headArrived = new Promise<void>((resolve) => {
      const onHead = (): void => {
        diagnostics_channel.unsubscribe('weir:http:client:response-start', onHead)
        resolve()
      }
      diagnostics_channel.subscribe('weir:http:client:response-start', onHead)
    })
    await c.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n')
    await headArrived // the upstream's early response reached the proxy's client connection
    await c.write('0\r\n\r\n')
    expect((await c.readResponse()).body.toString()).toBe('early')
    const upstreamSawFin = new Promise<void>((resolve) => upstream.sockets[0]!.once('end', () => resolve()))
    expect(await within(upstreamSawFin, 2000)).toBe(true)
  })

  it('a request queued behind a response whose client left is sent on a fresh connection, not on the closing one', async () => {
    const chunk = new Uint8Array(16 * 1024).fill(0x62)
    const { binding: up } = await serve(cleanups, (req) => (req.path === '/stream' ? HttpResponse.stream(Source.repeat(chunk)) : HttpResponse.text('ok')))
    const { binding, proxy } = await proxyServer(cleanups, `http://127.0.0.1:${up.port}`, { pool: { maxConnections: 1 } })
    const streaming = await RawClient.connect(binding.port)
    cleanups.push(() => streaming.destroy())
    await streaming.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n')
    await streaming.readUntil((b) => b.length > 64 * 1024)
    const poster = await RawClient.connect(binding.port)
    cleanups.push(() => poster.destroy())
    await poster.write('POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi')
    for (let i = 0; i < 300 && proxy.pool.stats().queued === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(proxy.pool.stats().queued).toBe(1)
    await streaming.reset() // the streaming client leaves: its upstream response is cancelled
    const r = await poster.readResponse()
    expect(r.body.toString()).toBe('ok')
    expect(r.status).toBe(200)
  })
})

/**
 * Every timeout and limit of the client connection and the host pool (DESIGN §1 D), in virtual time over real
 * sockets: the pool, the client stages and (where one is used) the weir server share one VirtualTime, so each
 * deadline is hit exactly — one millisecond before it nothing has happened, at it the effect is there.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, type Socket, type Server } from 'node:net'
import { Materializer, Sink, type Scheduler } from '@weir/core'
import { VirtualTime, assertAllStagesStopped } from '@weir/testkit'
import {
  ClosedBeforeResponseError, ConnectError, ConnectTimeoutError, Http, HttpEntity, HttpRequest, HttpResponse, PoolOverflowError, ResponseTimeoutError, ResponseTruncatedError,
  type HostConnectionPool, type HttpServerBinding, type PoolSettingsInput, type ServerSettingsInput,
} from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Poll `cond` while letting streams run (real time bound: a hanging test fails instead of waiting forever). */
async function until(time: VirtualTime, cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 3000
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await time.settle()
  }
}

/** A raw TCP server: `onData(socket, bytes, nth)` decides what each received chunk gets. */
async function rawServer(onData: (socket: Socket, data: string, conn: number) => void): Promise<{ port: number; connections: () => number; received: string[] }> {
  let n = 0
  const received: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => {
    const id = ++n
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    s.on('data', (d) => {
      received.push(d.toString('latin1'))
      onData(s, d.toString('latin1'), id)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  cleanups.push(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy()
    server.close(() => r())
  }))
  return { port: (server.address() as { port: number }).port, connections: () => n, received }
}

async function weirServer(time: VirtualTime, settings: ServerSettingsInput, handler = (): HttpResponse => HttpResponse.text('ok')): Promise<HttpServerBinding> {
  const binding = await Http.newServerAt('127.0.0.1', 0).withMaterializer(time.materializer).withSettings(settings).bind(handler)
  cleanups.push(async () => {
    const t = binding.terminate('1s')
    await time.advance(1000)
    await t
  })
  return binding
}

/** Virtual time shared by pool and server; after the test, every stage of both must have stopped. */
function virtualTime(): VirtualTime {
  const time = new VirtualTime()
  cleanups.push(() => assertAllStagesStopped(time.materializer, { timeoutMs: 5000 }))
  return time
}

function pool(time: VirtualTime, port: number, settings: PoolSettingsInput, scheme: 'http' | 'https' = 'http'): HostConnectionPool {
  const p = Http.hostPool(`${scheme}://127.0.0.1:${port}`, settings, { materializer: time.materializer })
  cleanups.push(async () => {
    const done = p.shutdown('1s')
    await time.advance(1000)
    await done
  })
  return p
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'

describe('client connection timeouts', () => {
  it('fails with ConnectTimeoutError exactly at connectingTimeout when the connection is never established', async () => {
    const time = virtualTime()
    // https to a server that accepts TCP and never answers the TLS handshake: the connection is never established
    const srv = await rawServer(() => {})
    const p = pool(time, srv.port, { connectingTimeout: '3s' }, 'https')
    let failure: unknown
    p.request(HttpRequest.get('/')).catch((e: unknown) => (failure = e))
    await time.advance(2999)
    expect(failure).toBeUndefined()
    await time.advance(1)
    await until(time, () => failure !== undefined, 'the connect timeout')
    expect(failure).toBeInstanceOf(ConnectTimeoutError)
    expect(failure).toMatchObject({ code: 'WEIR_HTTP_TCP_CONNECT_TIMEOUT', timeoutMs: 3000 })
    expect(p.stats().retries).toBe(0) // a fresh connection that never connected is not retried
  })

  it('fails with ConnectError (ECONNREFUSED) when nothing listens, without retrying', async () => {
    const time = virtualTime()
    const closed = await rawServer(() => {})
    cleanups.splice(-1, 1)[0]!() // close it: the port now refuses
    const p = pool(time, closed.port, {})
    const e = await p.request(HttpRequest.get('/')).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ConnectError)
    expect(e).toMatchObject({ syscallCode: 'ECONNREFUSED' })
    expect(p.stats().retries).toBe(0)
  })

  it('fails with ResponseTimeoutError at responseTimeout after the request was written, and closes the connection', async () => {
    const time = virtualTime()
    const srv = await rawServer(() => {}) // reads, never answers
    const p = pool(time, srv.port, { responseTimeout: '5s' })
    let failure: unknown
    p.request(HttpRequest.get('/slow')).catch((e: unknown) => (failure = e))
    await until(time, () => srv.received.length > 0, 'the request to arrive')
    await time.advance(4999)
    expect(failure).toBeUndefined()
    await time.advance(1)
    await until(time, () => failure !== undefined, 'the response timeout')
    expect(failure).toBeInstanceOf(ResponseTimeoutError)
    expect(failure).toMatchObject({ code: 'WEIR_HTTP_CLIENT_RESPONSE_TIMEOUT', timeoutMs: 5000, requestWritten: true })
    await until(time, () => p.stats().connections === 0, 'the connection to close')
  })

  it('fails a stalled response body with ResponseTruncatedError at idleTimeout', async () => {
    const time = virtualTime()
    const srv = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(70_000))) // then silence
    const p = pool(time, srv.port, { idleTimeout: '10s', responseTimeout: 'infinite' })
    const res = await p.request(HttpRequest.get('/'))
    expect(res.entity.kind).toBe('streamed')
    let failure: unknown
    let bytes = 0
    HttpEntity.dataBytes(res.entity).runWith(Sink.foreach((c: Uint8Array) => void (bytes += c.length)), time.materializer).catch((e: unknown) => (failure = e))
    await until(time, () => bytes === 70_000, 'the first part of the body')
    await time.advance(9999)
    expect(failure).toBeUndefined()
    await time.advance(1)
    await until(time, () => failure !== undefined, 'the idle timeout')
    expect(failure).toBeInstanceOf(ResponseTruncatedError)
    expect(failure).toMatchObject({ detail: 'idle-timeout' })
  })

  it('reads and drops a response entity nobody subscribes to within responseEntitySubscriptionTimeout, and reuses the connection', async () => {
    const time = virtualTime()
    const big = 'y'.repeat(100_000)
    const srv = await rawServer((s) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`))
    const p = pool(time, srv.port, { responseEntitySubscriptionTimeout: '1s', maxConnections: 1 })
    const forgotten = await p.request(HttpRequest.get('/1'))
    expect(forgotten.entity.kind).toBe('streamed')
    let second: HttpResponse | undefined
    void p.request(HttpRequest.get('/2')).then((r) => (second = r))
    await time.advance(999)
    expect(second).toBeUndefined() // the connection is held by the unread entity
    await time.advance(1)
    await until(time, () => second !== undefined, 'the second response')
    expect(p.stats()).toMatchObject({ opened: 1, reusedExchanges: 1 })
    expect(srv.connections()).toBe(1)
    HttpEntity.cancel(second!.entity, time.materializer)
    // the dropped entity cannot be read any more
    await expect(HttpEntity.toStrict(forgotten.entity, 1 << 20, time.materializer)).rejects.toMatchObject({ code: 'WEIR_CORE_SUBSTREAM' })
  })
})

describe('pool timeouts and limits', () => {
  it('closes an idle connection at keepAliveTimeout; the next request opens a fresh one', async () => {
    const time = virtualTime()
    const server = await weirServer(time, { idleTimeout: '75s' })
    const p = pool(time, server.port, { keepAliveTimeout: '4s', useKeepAliveHint: false })
    HttpEntity.cancel((await p.request(HttpRequest.get('/'))).entity)
    await until(time, () => p.stats().idle === 1, 'the connection to be idle')
    await time.advance(3999)
    expect(p.stats().connections).toBe(1)
    await time.advance(1)
    await until(time, () => p.stats().connections === 0, 'the pool to close the connection')
    expect(p.stats().closed).toEqual({ 'keep-alive-timeout': 1 })
    await until(time, () => (server.counters().closesByReason['client-fin'] ?? 0) === 1, 'the server to see the client FIN')
    HttpEntity.cancel((await p.request(HttpRequest.get('/'))).entity)
    expect(p.stats()).toMatchObject({ opened: 2, reusedExchanges: 0 })
  })

  it('stops reusing a connection keepAliveSafetyMargin before the server\'s Keep-Alive: timeout, closing it first', async () => {
    const time = virtualTime()
    const server = await weirServer(time, { idleTimeout: '3s' }) // advertises Keep-Alive: timeout=3
    const p = pool(time, server.port, { keepAliveTimeout: '60s', keepAliveSafetyMargin: '1s' })
    HttpEntity.cancel((await p.request(HttpRequest.get('/'))).entity)
    await until(time, () => p.stats().idle === 1, 'the connection to be idle')
    await time.advance(1999)
    expect(p.stats().connections).toBe(1)
    await time.advance(1)
    await until(time, () => p.stats().connections === 0, 'the pool to close the connection')
    expect(p.stats().closed).toEqual({ 'keep-alive-hint': 1 })
    expect(server.counters().closesByReason['idle-timeout'] ?? 0).toBe(0) // the client closed first, not the server
  })

  it('does not reuse a connection older than maxConnectionLifetime', async () => {
    const time = virtualTime()
    const server = await weirServer(time, { idleTimeout: '75s' })
    const p = pool(time, server.port, { maxConnectionLifetime: '5s', keepAliveTimeout: '60s', useKeepAliveHint: false })
    for (let i = 0; i < 4; i++) {
      HttpEntity.cancel((await p.request(HttpRequest.get('/'))).entity)
      await until(time, () => p.stats().idle === 1, 'the connection to be idle')
      await time.advance(2000) // requests at 0, 2, 4, 6 s: the one at 6 s needs a new connection
    }
    expect(p.stats()).toMatchObject({ opened: 2, reusedExchanges: 2 })
    expect(p.stats().closed).toEqual({ lifetime: 1 })
  })

  it('closes every connection after poolIdleTimeout without requests, and reopens on the next request', async () => {
    const time = virtualTime()
    const server = await weirServer(time, { idleTimeout: '75s' })
    const p = pool(time, server.port, { poolIdleTimeout: '30s', keepAliveTimeout: '60s', useKeepAliveHint: false, maxConnections: 4 })
    const rs = await Promise.all([1, 2, 3].map(() => p.request(HttpRequest.get('/'))))
    rs.forEach((r) => HttpEntity.cancel(r.entity))
    await until(time, () => p.stats().idle === 3, 'three idle connections')
    await time.advance(29_999)
    expect(p.stats().connections).toBe(3)
    await time.advance(1)
    await until(time, () => p.stats().connections === 0, 'the pool to close its connections')
    expect(p.stats().closed).toEqual({ 'pool-idle': 3 })
    HttpEntity.cancel((await p.request(HttpRequest.get('/'))).entity)
    expect(p.stats().opened).toBe(4)
  })

  it('fails a request beyond maxOpenRequests at once with PoolOverflowError', async () => {
    const time = virtualTime()
    const srv = await rawServer(() => {}) // never answers
    const p = pool(time, srv.port, { maxConnections: 1, maxOpenRequests: 2, responseTimeout: 'infinite' })
    const a = p.request(HttpRequest.get('/a')).catch((e: unknown) => e)
    const b = p.request(HttpRequest.get('/b')).catch((e: unknown) => e)
    const c = await p.request(HttpRequest.get('/c')).catch((e: unknown) => e)
    expect(c).toBeInstanceOf(PoolOverflowError)
    expect(c).toMatchObject({ code: 'WEIR_HTTP_POOL_OVERFLOW', maxOpenRequests: 2 })
    expect(p.stats()).toMatchObject({ running: 1, queued: 1 })
    const down = p.shutdown('2s')
    expect(await b).toMatchObject({ code: 'WEIR_HTTP_POOL_SHUT_DOWN' }) // queued: failed at once
    await time.advance(2000)
    expect(await a).toMatchObject({ code: 'WEIR_HTTP_CLIENT_ABORTED', requestWritten: true }) // running: aborted at the hard deadline
    await down
  })
})

describe('pool retries', () => {
  /** A server that answers the first request of each connection and closes on the second without answering. */
  const closesSecond = (): Promise<{ port: number; connections: () => number; received: string[] }> => {
    const seen = new Map<Socket, number>()
    return rawServer((s) => {
      const n = (seen.get(s) ?? 0) + 1
      seen.set(s, n)
      if (n === 1) s.write(OK)
      else s.end()
    })
  }

  it('retries an idempotent request that found its reused connection closed, on a fresh connection', async () => {
    const time = virtualTime()
    const srv = await closesSecond()
    const p = pool(time, srv.port, { useKeepAliveHint: false })
    HttpEntity.cancel((await p.request(HttpRequest.get('/1'))).entity)
    await until(time, () => p.stats().idle === 1, 'the connection to be idle')
    const res = await p.request(HttpRequest.get('/2'))
    expect(res.status).toBe(200)
    expect(p.stats()).toMatchObject({ retries: 1, opened: 2 })
    expect(srv.connections()).toBe(2)
  })

  it('does not retry a POST the server may have processed: ClosedBeforeResponseError with requestWritten', async () => {
    const time = virtualTime()
    const srv = await closesSecond()
    const p = pool(time, srv.port, { useKeepAliveHint: false })
    HttpEntity.cancel((await p.request(HttpRequest.get('/1'))).entity)
    await until(time, () => p.stats().idle === 1, 'the connection to be idle')
    const e = await p.request(HttpRequest.post('/2', HttpEntity.text('pay'))).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ClosedBeforeResponseError)
    expect(e).toMatchObject({ code: 'WEIR_HTTP_CLIENT_CLOSED_BEFORE_RESPONSE', requestWritten: true })
    expect(p.stats().retries).toBe(0)
  })

  it('gives up after maxRetries and reports the last failure', async () => {
    const time = virtualTime()
    // every connection: answer the first request, then close on the next without answering
    const srv = await closesSecond()
    const p = pool(time, srv.port, { useKeepAliveHint: false, maxRetries: 0 })
    HttpEntity.cancel((await p.request(HttpRequest.get('/1'))).entity)
    await until(time, () => p.stats().idle === 1, 'the connection to be idle')
    await expect(p.request(HttpRequest.get('/2'))).rejects.toBeInstanceOf(ClosedBeforeResponseError)
  })

  it('closes an idle connection at keepAliveTimeout even when the timer fires a little early by the clock', async () => {
    const time = virtualTime()
    const server = await weirServer(time, { idleTimeout: '75s' })
    // a scheduler whose timers fire 1 ms before their deadline (node's do, by up to ~1 ms of performance.now())
    const early: Scheduler = { now: () => time.now(), scheduleOnce: (ms, task) => time.scheduleOnce(Math.max(0, ms - 1), task) }
    const mat = Materializer.create({ scheduler: early })
    const p = Http.hostPool(`http://127.0.0.1:${server.port}`, { keepAliveTimeout: 100, useKeepAliveHint: false }, { materializer: mat })
    cleanups.push(async () => {
      const done = p.shutdown('1s')
      await time.advance(1000)
      await done
      mat.shutdown()
    })
    const res = await p.request(HttpRequest.get('/'))
    await HttpEntity.toStrict(res.entity, 100, mat)
    await until(time, () => p.stats().idle === 1, 'the connection to be idle')
    await time.advance(1000)
    await until(time, () => p.stats().connections === 0, 'the pool to close the connection')
    expect(p.stats().closed).toEqual({ 'keep-alive-timeout': 1 })
  })

  it('fails a request whose connection cannot even be built, and keeps no connection for it', async () => {
    const time = virtualTime()
    const broken = new Error('no transport')
    const p = Http.hostPool('http://127.0.0.1:9', {}, { materializer: time.materializer, transport: () => { throw broken } })
    await expect(p.request(HttpRequest.get('/'))).rejects.toBe(broken)
    expect(p.stats()).toMatchObject({ connections: 0, opened: 0, running: 0, queued: 0 })
    await p.shutdown('1s')
  })
})

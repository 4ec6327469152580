/**
 * WebSocket connections over time, with real sockets: a slow client backpressures the flow (the
 * server does not buffer without bound), a vanished client is found by the keep-alive (its pong
 * never comes), a client that ignores the close frame is cut off at the close timeout, and the
 * server's termination closes WebSockets with 1001 — or destroys them at the hard deadline —
 * without hanging or leaking a socket.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Flow, Sink, Source } from '@weir/core'
import { FaultProxy, RawClient, activeHandles } from '@weir/testkit'
import { Message, webSocketChannels } from '../src/index.js'
import { clientClosed, nextMessage, openClient, recordingSink, serveWebSocket, type Cleanup } from './fixtures/webSocketServer.js'

const cleanups: Cleanup[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const echo = (): Flow<Message, Message, any> => Flow.create<Message>().map((m) => m)
const HANDSHAKE = 'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Poll `read` until it stops changing for `quietMs`; fails after `limitMs` (a value that keeps growing is unbounded). */
async function plateau(read: () => number, quietMs: number, limitMs: number): Promise<number> {
  const started = performance.now()
  let last = read()
  for (;;) {
    await sleep(quietMs)
    const now = read()
    if (now === last) return now
    if (performance.now() - started > limitMs) throw new Error(`still growing after ${limitMs} ms: ${last} → ${now}`)
    last = now
  }
}

describe('backpressure', () => {
  it('stops pulling from the flow while a slow client does not read, and goes on when it reads again', async () => {
    const SIZE = 64 * 1024
    const chunk = Buffer.alloc(SIZE, 7)
    let produced = 0
    const source = Source.repeat(0).map(() => {
      produced++
      return Message.binary(chunk)
    })
    const server = await serveWebSocket(() => Flow.fromSinkAndSource(Sink.ignore<Message>(), source), cleanups, { settings: { keepAliveInterval: 'infinite' } })
    const ws = await openClient(server.url, cleanups)
    ws.pause() // the client stops reading: its kernel buffers fill, then the server's socket
    const stalled = await plateau(() => produced, 300, 15_000)
    // what sits in the two kernels' buffers (loopback autotuning can grow them to tens of MB) and
    // one send buffer limit: bounded, where an unbounded server would keep producing
    expect(stalled * SIZE).toBeLessThan(64 * 1024 * 1024)
    let received = 0
    const more = new Promise<void>((resolve) =>
      ws.on('message', () => {
        if (++received === stalled + 50) resolve()
      }),
    )
    ws.resume()
    await more
    expect(produced).toBeGreaterThan(stalled)
  })

  it('stops reading from a client that sends faster than the flow consumes', async () => {
    let consumed = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const slowSink = Flow.create<Message>()
      .mapAsync(1, async () => {
        await gate
        consumed++
      })
      .to(Sink.ignore())
    const server = await serveWebSocket(() => Flow.fromSinkAndSource(slowSink, Source.never<Message>()), cleanups, { settings: { keepAliveInterval: 'infinite' } })
    const ws = await openClient(server.url, cleanups)
    const payload = Buffer.alloc(64 * 1024, 1)
    let sent = 0
    // send until the client's own socket buffers: the server stopped reading
    const pressure = await new Promise<number>((resolve) => {
      const pump = (): void => {
        while (ws.bufferedAmount < 8 * 1024 * 1024) {
          ws.send(payload)
          sent++
        }
        setTimeout(() => (ws.bufferedAmount >= 8 * 1024 * 1024 ? resolve(ws.bufferedAmount) : pump()), 50)
      }
      pump()
    })
    expect(pressure).toBeGreaterThanOrEqual(8 * 1024 * 1024)
    expect(consumed).toBe(0)
    release()
    await expect.poll(() => consumed, { timeout: 15_000 }).toBe(sent)
  })
})

describe('keep-alive', () => {
  it('terminates a client that vanished (a blackholing proxy) when its pong does not come, and fails the flow with the pong timeout', async () => {
    const rec = recordingSink()
    const server = await serveWebSocket(() => Flow.fromSinkAndSource(rec.sink, Source.never<Message>()), cleanups, {
      settings: { keepAliveInterval: '100ms', pongTimeout: '300ms' },
    })
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server.binding.port } })
    cleanups.push(() => proxy.stop())
    const published: unknown[] = []
    const listener = (m: unknown): void => void published.push(m)
    webSocketChannels.pongTimeout.subscribe(listener)
    cleanups.push(() => void webSocketChannels.pongTimeout.unsubscribe(listener))
    const ws = await openClient(`ws://127.0.0.1:${proxy.port}/chat`, cleanups)
    await new Promise<void>((r) => ws.once('ping', () => r())) // the keep-alive runs while the client is there
    proxy.setMode('blackhole')
    const vanishedAt = performance.now()
    const closed = await server.nextClose()
    const tookMs = performance.now() - vanishedAt
    expect(closed).toMatchObject({ code: 1006, by: 'server', error: { code: 'WEIR_HTTP_WS_PONG_TIMEOUT', timeoutMs: 300 } })
    expect(tookMs).toBeGreaterThanOrEqual(250) // not before the pong timeout (real-time slack of the timers)
    expect(tookMs).toBeLessThan(5000)
    expect(await rec.ended).toMatchObject({ kind: 'failed', error: { code: 'WEIR_HTTP_WS_PONG_TIMEOUT' } })
    expect(published).toEqual([{ id: expect.any(Number), ms: 300 }])
    await expect.poll(() => server.binding.counters().upgradedOpen).toBe(0)
  })

  it('keeps a client that answers its pings', async () => {
    const server = await serveWebSocket(echo, cleanups, { settings: { keepAliveInterval: '100ms', pongTimeout: '500ms' } })
    const ws = await openClient(server.url, cleanups)
    let pings = 0
    ws.on('ping', () => pings++)
    await expect.poll(() => pings, { timeout: 10_000 }).toBeGreaterThanOrEqual(8) // past the first pings' pong timeouts
    const got = nextMessage(ws)
    ws.send('still here')
    expect((await got).data.toString()).toBe('still here')
    expect(server.closes).toEqual([])
  })
})

describe('closing deadlines', () => {
  it('destroys the socket of a client that does not answer the close frame within the close timeout', async () => {
    const server = await serveWebSocket(() => Flow.fromSinkAndSource(Sink.ignore<Message>(), Source.empty<Message>()), cleanups, {
      settings: { closeTimeout: '200ms', keepAliveInterval: 'infinite' },
    })
    const c = await RawClient.connect(server.binding.port)
    cleanups.push(() => c.destroy())
    await c.write(HANDSHAKE)
    await c.readUntil('\r\n\r\n')
    const frame = await c.readUntil((b) => b.length >= 4)
    expect([frame[0], frame.readUInt16BE(2)]).toEqual([0x88, 1000]) // FIN + close, code 1000
    expect(await c.expectClosed({ timeoutMs: 5000 })).toMatch(/fin|rst/)
    expect(await server.nextClose()).toMatchObject({ code: 1006, by: 'server' })
  })
})

describe('server termination', () => {
  it('closes WebSockets with 1001 and resolves once they closed', async () => {
    const server = await serveWebSocket(echo, cleanups)
    const a = await openClient(server.url, cleanups)
    const b = await openClient(server.url, cleanups)
    const closedA = clientClosed(a)
    const closedB = clientClosed(b)
    await server.binding.terminate('5s')
    expect((await closedA).code).toBe(1001)
    expect((await closedB).code).toBe(1001)
    expect(server.binding.counters()).toMatchObject({ upgradedOpen: 0, connectionsOpen: 0 })
  })

  it('destroys a WebSocket whose client does not answer at the hard deadline', async () => {
    const server = await serveWebSocket(echo, cleanups, { settings: { closeTimeout: 'infinite' } })
    const c = await RawClient.connect(server.binding.port)
    cleanups.push(() => c.destroy())
    await c.write(HANDSHAKE)
    await c.readUntil('\r\n\r\n')
    const started = performance.now()
    await server.binding.terminate('300ms')
    expect(performance.now() - started).toBeGreaterThanOrEqual(250)
    const frame = await c.readUntil((b) => b.length >= 4)
    expect([frame[0], frame.readUInt16BE(2)]).toEqual([0x88, 1001])
    expect(await c.expectClosed({ timeoutMs: 5000 })).toMatch(/fin|rst/)
  })
})

describe('leaks', () => {
  it('leaves no socket or server behind after WebSocket sessions ended every way', async () => {
    const before = activeHandles()
    const local: Cleanup[] = []
    const server = await serveWebSocket(echo, local, { settings: { keepAliveInterval: '50ms', pongTimeout: '100ms' } })
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server.binding.port } })
    const normal = await openClient(server.url, local)
    const vanishing = await openClient(`ws://127.0.0.1:${proxy.port}/chat`, local)
    const resetting = await openClient(server.url, local)
    const byClose = clientClosed(normal)
    normal.close(1000)
    await byClose
    proxy.setMode('blackhole')
    resetting.terminate()
    await server.nextClose()
    await server.nextClose()
    await server.nextClose()
    vanishing.terminate()
    await proxy.stop()
    for (const c of local.reverse()) await c()
    await expect.poll(() => activeHandles(), { timeout: 5000 }).toBeLessThanOrEqual(before)
  })

})

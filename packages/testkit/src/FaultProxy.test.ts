import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ProbeAssertionError } from './expectations.js'
import { FaultProxy, type FaultProxyOptions } from './FaultProxy.js'
import { activeHandles, activeResources } from './leaks.js'
import { RawClient } from './RawClient.js'
import { startTinyServer, type TinyServer } from './testing.js'

const cleanups: (() => Promise<unknown>)[] = []
const tinyServer = (onConnection?: (socket: Socket) => void): Promise<TinyServer> => startTinyServer((close) => cleanups.push(close), onConnection)

/** An echo server: what a connection receives it sends back; it half-closes when the client does. */
const echo = (socket: Socket): void => {
  socket.pipe(socket)
}

async function proxyTo(server: TinyServer, options: Omit<FaultProxyOptions, 'target'> = {}): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server.port }, ...options })
  cleanups.push(() => proxy.stop())
  return proxy
}

async function connect(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port)
  cleanups.push(() => client.destroy())
  return client
}

/** Let the loop turn until the live handles are back to `before` (bounded); the kinds left over. */
async function leftOver(before: readonly string[]): Promise<string[]> {
  for (let i = 0; i < 200 && activeHandles() > before.length; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve))
  const extra = activeResources()
  for (const kind of before) {
    const i = extra.indexOf(kind)
    if (i >= 0) extra.splice(i, 1)
  }
  return extra
}

let before: string[] = []
beforeEach(() => {
  before = activeResources()
})
afterEach(async () => {
  const leaked = await leftOver(before)
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  expect(leaked).toEqual([])
})

describe('FaultProxy — pass', () => {
  it('carries every byte both ways and forwards FINs, counting bytes and recording how each side ended', async () => {
    const server = await tinyServer(echo)
    const proxy = await proxyTo(server)
    const client = await connect(proxy.port)
    const payload = randomBytes(1 << 20)
    const [sent] = await Promise.all([client.write(payload), client.readUntil((got) => got.length >= payload.length)])
    expect(sent).toBeUndefined()
    expect(client.received.equals(payload)).toBe(true)
    await client.halfClose()
    await client.expectFin() // the echo server ended its side when it saw ours
    const [conn] = await proxy.waitFor('the connection closed', (all) => all[0]?.state === 'closed')
    expect(conn).toMatchObject({
      id: 1,
      mode: 'pass',
      bytesFromClient: payload.length,
      bytesToServer: payload.length,
      bytesFromServer: payload.length,
      bytesToClient: payload.length,
      client: { peer: 'fin', proxy: 'fin', errorCode: undefined, closed: true },
      server: { peer: 'fin', proxy: 'fin', errorCode: undefined, closed: true },
    })
    expect(proxy.connections).toEqual([])
    await client.destroy()
    await proxy.stop()
    await server.close()
  })

  it('turns a client that left into a reset of the server side, so heartbeats fail (the direct-connection behaviour)', async () => {
    const server = await tinyServer()
    const proxy = await proxyTo(server)
    const client = await connect(proxy.port)
    const peer = await server.next()
    await client.destroy()
    await peer.expectFin()
    let writeError: unknown
    for (let beat = 0; beat < 100 && writeError === undefined && peer.closed.error === undefined; beat++) {
      await peer.write('event: heartbeat\n\n').catch((e: unknown) => (writeError = e))
      await new Promise((resolve) => setTimeout(resolve, 10)) // the heartbeat interval
    }
    expect(['ECONNRESET', 'EPIPE']).toContain(peer.closed.error?.code)
    const [conn] = await proxy.waitFor('the connection closed', (all) => all[0]?.state === 'closed')
    expect(conn?.server.proxy).toBe('rst')
    await proxy.stop()
    await server.close()
  })
})

describe('FaultProxy — fin-only', () => {
  it('forwards only a FIN when the client leaves, then keeps reading and discarding what the server sends', async () => {
    const server = await tinyServer()
    const proxy = await proxyTo(server, { mode: 'fin-only' })
    const client = await connect(proxy.port)
    const peer = await server.next()
    await client.write('GET /events HTTP/1.1\r\n\r\n')
    await peer.readUntil('\r\n\r\n')
    await client.destroy()
    await peer.expectFin()
    const beat = 'event: heartbeat\n\n'
    for (let i = 0; i < 5; i++) await peer.write(beat) // none of these fails
    const [conn] = await proxy.waitFor('the heartbeats read', (all) => (all[0]?.bytesFromServer ?? 0) >= 5 * beat.length)
    expect(peer.closed).toMatchObject({ peer: 'fin', reset: false, error: undefined, socketClosed: false })
    expect(conn).toMatchObject({
      state: 'open',
      bytesToClient: 0,
      client: { peer: 'fin' },
      server: { peer: undefined, proxy: 'fin', errorCode: undefined, closed: false },
    })
    await peer.expectOpen(30) // and the proxy does not close the server side on its own
    await proxy.stop()
    expect(proxy.connection(1).server.proxy).toBe('fin')
    await server.close()
  })

  it('also turns a client reset into just a FIN towards the server', async () => {
    const server = await tinyServer()
    const proxy = await proxyTo(server, { mode: 'fin-only' })
    const client = await connect(proxy.port)
    const peer = await server.next()
    await proxy.waitForConnections(1)
    await client.reset()
    await peer.expectFin()
    await peer.write('still here')
    await proxy.waitFor('the write read', (all) => all[0]?.bytesFromServer === 10)
    expect(proxy.connection(1).client.peer).toBe('rst')
    expect(peer.closed.error).toBeUndefined()
    await proxy.stop()
    await server.close()
  })
})

describe('FaultProxy — rst and blackhole', () => {
  it('resets both sides of a connection on demand', async () => {
    const server = await tinyServer()
    const proxy = await proxyTo(server)
    const client = await connect(proxy.port)
    const peer = await server.next()
    const [conn] = await proxy.waitForConnections(1)
    proxy.setMode('rst', { connection: conn?.id })
    await client.expectRst()
    await peer.expectRst()
    const [after] = await proxy.waitFor('the connection closed', (all) => all[0]?.state === 'closed')
    expect(after).toMatchObject({ mode: 'rst', client: { proxy: 'rst' }, server: { proxy: 'rst' } })
    await proxy.stop()
    await server.close()
  })

  it('resets new connections while the global mode is rst', async () => {
    const server = await tinyServer()
    const proxy = await proxyTo(server, { mode: 'rst' })
    const client = await RawClient.connect(proxy.port).catch((e: NodeJS.ErrnoException) => e)
    if (client instanceof RawClient) {
      cleanups.push(() => client.destroy())
      await client.expectRst() // the reset may also beat the connect event: then connect itself fails with it
    } else expect(client.code).toBe('ECONNRESET')
    await proxy.waitFor('the connection closed', (all) => all[0]?.state === 'closed')
    await proxy.stop()
    await server.close()
  })

  it('blackholes both directions, FINs included, with both sockets kept open, until switched back', async () => {
    const server = await tinyServer()
    const proxy = await proxyTo(server)
    const client = await connect(proxy.port)
    const peer = await server.next()
    await client.write('ping')
    await peer.readUntil('ping')
    proxy.setMode('blackhole')
    expect(proxy.mode).toBe('blackhole')
    await client.write('lost')
    await peer.write('lost too')
    await client.halfClose()
    const [conn] = await proxy.waitFor('everything read', (all) => all[0]?.client.peer === 'fin' && all[0].bytesFromServer === 8)
    expect(conn).toMatchObject({ bytesFromClient: 8, bytesToServer: 4, bytesToClient: 0, server: { proxy: undefined } })
    await peer.expectOpen(30)
    expect(client.received.length).toBe(0)
    proxy.setMode('pass')
    await peer.write('found')
    expect((await client.readUntil('found')).toString()).toBe('found')
    await proxy.stop()
    await server.close()
  })
})

describe('FaultProxy — delay', () => {
  it('adds at least the delay in each direction and keeps the order', async () => {
    const delayMs = 40
    const server = await tinyServer(echo)
    const proxy = await proxyTo(server, { mode: 'delay', delayMs })
    const client = await connect(proxy.port)
    const started = performance.now()
    await client.write('a')
    await client.write('b')
    await client.write('c')
    expect((await client.readUntil('abc')).toString()).toBe('abc')
    const roundTrip = performance.now() - started
    expect(roundTrip).toBeGreaterThanOrEqual(2 * delayMs)
    expect(roundTrip).toBeLessThan(2 * delayMs + 1500)
    await client.halfClose()
    await client.expectFin()
    await proxy.stop()
    await server.close()
  })
})

describe('FaultProxy — control', () => {
  it('closes one side on demand and nothing else', async () => {
    const server = await tinyServer()
    const proxy = await proxyTo(server)
    const client = await connect(proxy.port)
    const peer = await server.next()
    const [conn] = await proxy.waitForConnections(1)
    const id = conn?.id ?? 0
    await proxy.closeServerSide(id, 'fin')
    await peer.expectFin()
    await client.expectOpen(20)
    await proxy.closeClientSide(id, 'rst')
    await client.expectRst()
    expect(proxy.connection(id)).toMatchObject({ client: { proxy: 'rst', closed: true }, server: { proxy: 'fin', closed: false } })
    await proxy.stop()
    await server.close()
  })

  it('lists live connections by id and stops without leaving a socket open', async () => {
    const server = await tinyServer()
    const proxy = await proxyTo(server)
    const a = await connect(proxy.port)
    const b = await connect(proxy.port)
    const all = await proxy.waitForConnections(2)
    expect(all.map((c) => [c.id, c.state])).toEqual([
      [1, 'open'],
      [2, 'open'],
    ])
    expect(proxy.connections.map((c) => c.id)).toEqual([1, 2])
    await proxy.stop()
    await Promise.all([a.expectClosed(), b.expectClosed()])
    expect(proxy.connections).toEqual([])
    expect(proxy.history.map((c) => [c.state, c.client.proxy, c.server.proxy])).toEqual([
      ['closed', 'destroy', 'destroy'],
      ['closed', 'destroy', 'destroy'],
    ])
    await proxy.stop() // idempotent
    await Promise.all([a.destroy(), b.destroy()])
    await server.close()
  })

  it('resets the client when the target refuses the connection', async () => {
    const gone = await tinyServer()
    const proxy = await proxyTo(gone)
    await gone.close()
    const client = await RawClient.connect(proxy.port).catch((e: NodeJS.ErrnoException) => e)
    if (client instanceof RawClient) {
      cleanups.push(() => client.destroy())
      await client.expectRst()
    } else expect(client.code).toBe('ECONNRESET')
    const [conn] = await proxy.waitFor('the connection closed', (all) => all[0]?.state === 'closed')
    expect(conn?.server.errorCode).toBe('ECONNREFUSED')
    await proxy.stop()
  })

  it('rejects an unknown mode or connection, and times out a wait that cannot be met', async () => {
    const server = await tinyServer()
    const proxy = await proxyTo(server, { timeoutMs: 30 })
    expect(() => proxy.setMode('chaos' as never)).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'mode' }))
    expect(() => proxy.closeServerSide(7, 'fin')).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT', argument: 'connection' }))
    const e = await proxy.waitForConnections(1).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(ProbeAssertionError)
    expect((e as ProbeAssertionError).reason).toBe('timeout')
    await proxy.stop()
    await server.close()
  })
})

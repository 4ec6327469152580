import type { Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ProbeAssertionError } from './expectations.js'
import { activeHandles, activeResources } from './leaks.js'
import { RawClient } from './RawClient.js'
import { startTinyServer, type TinyServer } from './testing.js'

const cleanups: (() => Promise<unknown>)[] = []
const tinyServer = (onConnection?: (socket: Socket) => void): Promise<TinyServer> => startTinyServer((close) => cleanups.push(close), onConnection)

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

async function failure(p: Promise<unknown>): Promise<ProbeAssertionError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(ProbeAssertionError)
  return e as ProbeAssertionError
}

describe('RawClient — how the peer ended', () => {
  it('sees an orderly close as a FIN', async () => {
    const server = await tinyServer((socket) => socket.end('bye'))
    const client = await connect(server.port)
    await client.expectFin()
    expect(await client.expectClosed()).toBe('fin')
    expect(client.closed).toMatchObject({ peer: 'fin', reset: false, error: undefined })
    expect((await client.readUntil('bye')).toString()).toBe('bye')
    await client.destroy()
    await server.close()
  })

  it('sees an abortive close as a RST (ECONNRESET)', async () => {
    const server = await tinyServer((socket) => socket.once('data', () => socket.resetAndDestroy()))
    const client = await connect(server.port)
    await client.write('reset me')
    await client.expectRst()
    expect(await client.expectClosed()).toBe('rst')
    expect(client.closed).toMatchObject({ peer: 'rst', reset: true })
    expect(client.closed.error?.code).toBe('ECONNRESET')
    expect((await failure(client.expectFin())).reason).toBe('unexpected-event')
    await server.close()
  })

  it('fails expectRst when the peer sent a FIN', async () => {
    const server = await tinyServer((socket) => socket.end())
    const client = await connect(server.port)
    expect((await failure(client.expectRst())).reason).toBe('unexpected-event')
    await client.destroy()
    await server.close()
  })

  it('lets the server see ECONNRESET when the client resets, and a FIN when it half-closes', async () => {
    const server = await tinyServer()
    const resetting = await connect(server.port)
    const resetPeer = await server.next()
    await resetting.reset()
    await resetPeer.expectRst()

    const closing = await connect(server.port)
    const closingPeer = await server.next()
    await closing.halfClose()
    await closingPeer.expectFin()
    await closingPeer.write('still talking')
    expect((await closing.readUntil('talking')).toString()).toBe('still talking')
    await closingPeer.halfClose()
    await closing.expectFin()
    expect(closing.closed).toMatchObject({ peer: 'fin', local: 'half-close', error: undefined })
    await server.close()
  })

  it('rejects writes after it half-closed', async () => {
    const server = await tinyServer()
    const client = await connect(server.port)
    await client.halfClose()
    expect((await failure(client.write('late'))).reason).toBe('misuse')
    await client.destroy()
    await server.close()
  })

  it('rejects connect with the socket error when nobody listens', async () => {
    const server = await tinyServer()
    const port = server.port
    await server.close()
    const e = await RawClient.connect(port).catch((err: NodeJS.ErrnoException) => err)
    expect((e as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
  })
})

describe('RawClient — reading', () => {
  it('reads up to and including a marker and leaves the rest buffered', async () => {
    const server = await tinyServer((socket) => socket.write('abc\r\ndef\r\nghi'))
    const client = await connect(server.port)
    expect((await client.readUntil('\r\n')).toString()).toBe('abc\r\n')
    expect((await client.readUntil(/e./)).toString()).toBe('def')
    expect((await client.readUntil((rest) => rest.includes('i'))).toString()).toBe('\r\nghi')
    expect(client.unread.length).toBe(0)
    expect(client.received.toString()).toBe('abc\r\ndef\r\nghi')
    await client.destroy()
    await server.close()
  })

  it('fails a read with terminated when the connection ends before the marker', async () => {
    const server = await tinyServer((socket) => socket.end('partial'))
    const client = await connect(server.port)
    expect((await failure(client.readUntil('never'))).reason).toBe('terminated')
    expect((await failure(client.readResponse())).reason).toBe('terminated')
    await client.destroy()
    await server.close()
  })

  it('fails a read with timeout after its guard, and overlapping reads as misuse', async () => {
    const server = await tinyServer()
    const client = await connect(server.port)
    const pending = client.readUntil('never', { timeoutMs: 30 })
    expect((await failure(client.readResponse())).reason).toBe('misuse')
    const timedOut = await failure(pending)
    expect(timedOut.reason).toBe('timeout')
    expect(timedOut.message).toContain('connect')
    await client.destroy()
    await server.close()
  })

  it('reads responses split across many writes: Content-Length, chunked, and pipelined', async () => {
    const wire =
      'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello world' +
      'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\n\r\n'
    const server = await tinyServer()
    const client = await connect(server.port)
    const peer = await server.next()
    const first = client.readResponse()
    let sent = 0
    for (const cut of [3, 20, 47, 70, 90, 120, 150, wire.length]) {
      await peer.write(wire.slice(sent, cut))
      sent = cut
      // a short gap so pieces tend to arrive apart; the result must not depend on it
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const a = await first
    expect(a.status).toBe(200)
    expect(a.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(a.body.toString()).toBe('hello world')
    const b = await client.readResponse()
    expect(b).toMatchObject({ status: 201, framing: 'chunked' })
    expect(b.body.toString()).toBe('wikipedia')
    const c = await client.readResponse()
    expect(c.status).toBe(204)
    expect(Buffer.concat([a.raw, b.raw, c.raw]).toString()).toBe(wire)
    expect(client.unread.length).toBe(0)
    await client.destroy()
    await server.close()
  })

  it('reads a body delimited by the close, and a HEAD response without body', async () => {
    const server = await tinyServer((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nHTTP/1.1 200 OK\r\n\r\nto the end'))
    const client = await connect(server.port)
    expect((await client.readResponse({ requestMethod: 'HEAD' })).body.length).toBe(0)
    const res = await client.readResponse()
    expect(res.framing).toBe('until-close')
    expect(res.body.toString()).toBe('to the end')
    await client.destroy()
    await server.close()
  })

  it('rejects bytes that are not a valid response with mismatch', async () => {
    const server = await tinyServer((socket) => socket.write('HTTP/1.1 200 OK\nbroken\r\n\r\n'))
    const client = await connect(server.port)
    expect((await failure(client.readResponse())).reason).toBe('mismatch')
    await client.destroy()
    await server.close()
  })
})

describe('RawClient — timing', () => {
  it('expectOpen passes when nothing arrives, and fails at once when a byte does', async () => {
    const server = await tinyServer()
    const client = await connect(server.port)
    const peer = await server.next()
    await client.expectOpen(20)
    const watching = client.expectOpen(5_000)
    const started = performance.now()
    await peer.write('x')
    expect((await failure(watching)).reason).toBe('unexpected-event')
    expect(performance.now() - started).toBeLessThan(2_000)
    await client.destroy()
    await server.close()
  })

  it('writes slowly: every byte arrives, in pieces spread over time', async () => {
    const server = await tinyServer()
    const client = await connect(server.port)
    const peer = await server.next()
    const started = performance.now()
    await client.writeSlowly('GET / HTTP/1.1\r\n\r\n', 6, 15)
    expect((await peer.readUntil('\r\n\r\n')).toString()).toBe('GET / HTTP/1.1\r\n\r\n')
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 14)
    expect(client.events.filter((e) => e.kind === 'write').map((e) => e.bytes)).toEqual([6, 6, 6])
    await client.destroy()
    await server.close()
  })

  it('records what happened, in order, with relative timestamps', async () => {
    const server = await tinyServer((socket) => socket.end('hi'))
    const client = await connect(server.port)
    await client.expectFin()
    await client.destroy()
    const kinds = client.events.map((e) => e.kind)
    expect(kinds).toEqual(['connect', 'data', 'end', 'destroy', 'close'])
    const times = client.events.map((e) => e.atMs)
    expect(times).toEqual([...times].sort((x, y) => x - y))
    await server.close()
  })
})

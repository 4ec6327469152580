/**
 * DESIGN §1 C — an SSE endpoint on a real socket: the exact bytes a client receives, heartbeats
 * only while idle, and session cleanup exactly once however the client leaves — including behind
 * a proxy that forwards only a FIN, where no heartbeat write ever fails.
 */
import { connect as netConnect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Materializer, Source } from '@weir/core'
import { Http, type HttpServerBinding } from '@weir/http'
import { FaultProxy, RawClient, TestSource, VirtualTime, assertAllStagesStopped, type SourceProbe } from '@weir/testkit'
import { SessionRegistry, sse, sseSession, type CloseReason, type SseFrame, type SseOptions } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const REQUEST = 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n'

async function serve(mat: Materializer, handler: () => ReturnType<typeof sse>): Promise<HttpServerBinding> {
  const binding = await Http.newServerAt('127.0.0.1', 0).withMaterializer(mat).bind(handler)
  cleanups.push(async () => {
    await binding.terminate('200ms')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
  })
  return binding
}

interface Ended {
  readonly reason: CloseReason
  readonly at: number
}

/** A server whose sessions stream `events()` and record every cleanup run. */
async function sessionServer(events: () => Source<SseFrame, unknown>, options: SseOptions = {}) {
  const mat = Materializer.create()
  cleanups.push(() => mat.shutdown())
  const registry = new SessionRegistry()
  const ends: Ended[] = []
  let ended!: (e: Ended) => void
  const firstEnd = new Promise<Ended>((r) => (ended = r))
  const binding = await serve(mat, () =>
    sseSession((s) => {
      s.onClose((reason) => {
        const e = { reason, at: performance.now() }
        ends.push(e)
        ended(e)
      })
      return events()
    }, { ...options, registry }),
  )
  return { binding, registry, ends, firstEnd }
}

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port)
  cleanups.push(() => c.destroy())
  return c
}

describe('an SSE endpoint', () => {
  it('sends the SSE headers and the encoded events, exactly, then ends the session as completed', async () => {
    const { binding, registry, ends } = await sessionServer(() => Source.from<SseFrame>([{ data: 'one' }, { data: 'a\nb', event: 'multi', id: '7' }]))
    const c = await connect(binding.port)
    await c.write(REQUEST)
    const r = await c.readResponse()
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toEqual(['text/event-stream'])
    expect(r.headers['cache-control']).toEqual(['no-cache'])
    expect(r.headers['x-accel-buffering']).toEqual(['no'])
    expect(r.framing).toBe('chunked')
    expect(r.body.toString('utf8')).toBe('data: one\n\nevent: multi\nid: 7\ndata: a\ndata: b\n\n')
    const body = r.raw.subarray(r.raw.indexOf('\r\n\r\n') + 4).toString('latin1')
    expect(body).toBe('b\r\ndata: one\n\n\r\n24\r\nevent: multi\nid: 7\ndata: a\ndata: b\n\n\r\n0\r\n\r\n')
    await expect.poll(() => ends.map((e) => e.reason)).toEqual(['completed'])
    expect(registry.count).toBe(0)
  })

  it('behind a proxy that forwards only a FIN: cleanup runs once, client-fin, within 100 ms', async () => {
    const { binding, registry, ends, firstEnd } = await sessionServer(() => Source.tick(0, 60_000, { data: 'hello' }))
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: binding.port }, mode: 'fin-only' })
    cleanups.push(() => proxy.stop())
    const c = await connect(proxy.port)
    await c.write(REQUEST)
    await c.readUntil('data: hello\n\n')
    expect(registry.count).toBe(1)
    const leftAt = performance.now()
    await c.destroy() // the tab closes; the proxy sends the server only a FIN
    const { reason, at } = await firstEnd
    expect(reason).toBe('client-fin')
    expect(at - leftAt).toBeLessThan(100)
    expect(registry.count).toBe(0)
    await new Promise((r) => setTimeout(r, 50))
    expect(ends).toHaveLength(1)
  })

  it('on an RST: cleanup runs once, client-rst', async () => {
    const { binding, registry, ends, firstEnd } = await sessionServer(() => Source.tick(0, 60_000, { data: 'hello' }))
    const c = await connect(binding.port)
    await c.write(REQUEST)
    await c.readUntil('data: hello\n\n')
    await c.reset()
    expect((await firstEnd).reason).toBe('client-rst')
    expect(registry.count).toBe(0)
    await new Promise((r) => setTimeout(r, 50))
    expect(ends).toHaveLength(1)
  })

  it('sends heartbeats only while no event comes (virtual time)', async () => {
    const time = new VirtualTime()
    const probes: SourceProbe<SseFrame>[] = []
    const binding = await serve(time.materializer, () => sse(TestSource.probe<SseFrame>().mapMaterializedValue((p) => probes.push(p)), { heartbeat: '10s' }))
    const c = await connect(binding.port)
    await c.write(REQUEST)
    await c.readUntil('\r\n\r\n')
    await time.settle()
    const events = probes[0]!
    for (let i = 0; i < 3; i++) {
      await time.advance(6000)
      events.sendNext({ data: String(i) })
      await time.settle()
      expect((await c.readUntil('\n\n\r\n')).toString('latin1')).toBe(`9\r\ndata: ${i}\n\n\r\n`)
    }
    // 9.999 s of silence, then an event: what arrives is the event alone, no heartbeat before it
    await time.advance(9999)
    events.sendNext({ data: 'late' })
    await time.settle()
    expect((await c.readUntil('\n\n\r\n')).toString('latin1')).toBe('c\r\ndata: late\n\n\r\n')
    await time.advance(9999)
    await time.advance(1)
    expect((await c.readUntil('\n\n\r\n')).toString('latin1')).toBe('4\r\n: \n\n\r\n')
    await time.advance(10_000)
    expect((await c.readUntil('\n\n\r\n')).toString('latin1')).toBe('4\r\n: \n\n\r\n')
    events.sendComplete()
    await time.settle()
    expect((await c.readUntil('0\r\n\r\n')).toString('latin1')).toBe('0\r\n\r\n')
  })
})

describe('a client that vanishes silently', () => {
  /** An idle-timeout server on virtual time whose sessions stream `events()`. */
  async function idleServer(time: VirtualTime, events: () => Source<SseFrame, unknown>, heartbeat: string) {
    const registry = new SessionRegistry()
    const ends: CloseReason[] = []
    const binding = await Http.newServerAt('127.0.0.1', 0)
      .withSettings({ idleTimeout: '30s' })
      .withMaterializer(time.materializer)
      .bind(() => sseSession((s) => (s.onClose((r) => ends.push(r)), events()), { registry, heartbeat }))
    cleanups.push(async () => {
      await binding.terminate('200ms')
      await assertAllStagesStopped(time.materializer, { timeoutMs: 5000 })
    })
    return { binding, registry, ends }
  }

  it('a reader that stops reading (no ACKs, a full window) is ended by the idle timeout: idle, once', async () => {
    const time = new VirtualTime()
    const big = 'x'.repeat(64 * 1024)
    const { binding, registry, ends } = await idleServer(time, () => Source.repeat<SseFrame>({ data: big }), '1h')
    const socket = netConnect(binding.port, '127.0.0.1')
    cleanups.push(() => void socket.destroy())
    await new Promise<void>((r) => socket.once('connect', r))
    socket.write(REQUEST)
    await new Promise<void>((r) => socket.once('data', () => r()))
    socket.pause() // the peer vanishes: nothing more is read, the kernel's window fills, writes stall
    expect(registry.count).toBe(1)
    // while bytes still move the connection is busy; once the writes stall, 30 s of virtual time end it
    await expect
      .poll(
        async () => {
          await time.advance(30_000)
          return registry.count
        },
        { timeout: 10_000, interval: 20 },
      )
      .toBe(0)
    expect(ends).toEqual(['idle'])
  })

  it('a quiet session whose client still reads is kept open by its heartbeats, past many idle timeouts', async () => {
    const time = new VirtualTime()
    const { binding, registry, ends } = await idleServer(time, () => Source.never<SseFrame>(), '10s')
    const c = await connect(binding.port)
    await c.write(REQUEST)
    await c.readUntil('\r\n\r\n')
    for (let i = 0; i < 12; i++) {
      await time.advance(10_000)
      expect((await c.readUntil('\n\n\r\n')).toString('latin1')).toBe('4\r\n: \n\n\r\n')
    }
    expect(registry.count).toBe(1)
    expect(ends).toEqual([])
  })
})

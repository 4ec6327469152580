/**
 * Server lifecycle over real sockets: graceful termination with a hard deadline, the connection
 * limit, `Expect: 100-continue`, diagnostics (channels, counters, wire trace), and a timeout in
 * real time.
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { Materializer } from '@weir/core'
import { RawClient, assertAllStagesStopped } from '@weir/testkit'
import { Http, HttpEntity, HttpResponse, diagnosticsChannels, type Handler, type HttpServerBinding, type ServerSettingsInput } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(handler: Handler, settings: ServerSettingsInput = {}, trace = false): Promise<{ binding: HttpServerBinding; mat: Materializer }> {
  const mat = Materializer.create()
  mat.logger.warn = () => {}
  const binding = await Http.newServerAt('127.0.0.1', 0).withSettings(settings).withMaterializer(mat).withWireTrace(trace).bind(handler)
  cleanups.push(async () => {
    await binding.terminate('200ms')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return { binding, mat }
}

async function connect(binding: HttpServerBinding): Promise<RawClient> {
  const c = await RawClient.connect(binding.port)
  cleanups.push(() => c.destroy())
  return c
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'

describe('graceful termination', () => {
  it('stops accepting, finishes in-flight requests with Connection: close, closes idle connections with a FIN', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { binding } = await serve(async (req) => {
      if (req.path === '/slow') await gate
      return HttpResponse.text(req.path)
    })
    const idle = await connect(binding)
    await idle.write(GET)
    await idle.readResponse()
    const busy = await connect(binding)
    await busy.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n')
    await new Promise((r) => setTimeout(r, 20))
    const terminated = binding.terminate('5s')
    expect(await idle.expectClosed()).toBe('fin')
    await expect(RawClient.connect(binding.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    release()
    const r = await busy.readResponse()
    expect(r.body.toString()).toBe('/slow')
    expect(r.headers['connection']).toEqual(['close'])
    expect(await busy.expectClosed()).toBe('fin')
    await idle.halfClose()
    await busy.halfClose()
    await terminated
    expect(binding.counters().connectionsOpen).toBe(0)
  })

  it('destroys what is still open at the hard deadline', async () => {
    const { binding } = await serve(() => new Promise<HttpResponse>(() => {}), { requestTimeout: 'infinite' })
    const c = await connect(binding)
    await c.write(GET)
    await new Promise((r) => setTimeout(r, 20))
    const started = performance.now()
    await binding.terminate('150ms')
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    expect(await c.expectClosed()).toMatch(/fin|rst/)
    expect(binding.counters().closesByReason['shutdown']).toBe(1)
  })
})

describe('connection limit', () => {
  it('closes connections beyond maxConnections at once', async () => {
    const { binding } = await serve(() => HttpResponse.text('x'), { maxConnections: 2 })
    const a = await connect(binding)
    const b = await connect(binding)
    await a.write(GET)
    await b.write(GET)
    await a.readResponse()
    await b.readResponse()
    const c = await connect(binding)
    expect(await c.expectClosed()).toMatch(/fin|rst/)
    expect(binding.counters().closesByReason['max-connections']).toBe(1)
  })
})

describe('Expect: 100-continue', () => {
  it('sends 100 Continue when the handler starts reading the body, then the response', async () => {
    const { binding, mat } = await serve(async (req) => HttpResponse.text(String((await HttpEntity.toStrict(req.entity, 1 << 20, mat)).data.length)))
    const c = await connect(binding)
    await c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n')
    await c.readUntil('HTTP/1.1 100 Continue\r\n\r\n')
    await c.write('hello')
    const r = await c.readResponse()
    expect(r.body.toString()).toBe('5')
  })
})

describe('diagnostics', () => {
  it('publishes the lifecycle of a connection on diagnostics_channel, counts closes by reason, and records a wire trace', async () => {
    const seen: [string, Record<string, unknown>][] = []
    const subs = Object.entries(diagnosticsChannels).map(([name, ch]) => {
      const fn = (m: unknown): void => void seen.push([name, m as Record<string, unknown>])
      diagnostics_channel.subscribe(ch.name, fn)
      return () => diagnostics_channel.unsubscribe(ch.name, fn)
    })
    cleanups.push(() => subs.forEach((u) => u()))
    const { binding } = await serve(() => HttpResponse.text('x'), {}, true)
    const c = await connect(binding)
    await c.write('GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    await c.readResponse()
    await c.expectClosed()
    await c.halfClose()
    await new Promise((r) => setTimeout(r, 50))
    const names = seen.map(([n]) => n)
    expect(names).toEqual(expect.arrayContaining(['connectionAccepted', 'requestStart', 'responseStart', 'responseEnd', 'peerClosed', 'connectionClosed']))
    const start = seen.find(([n]) => n === 'responseStart')![1]
    expect(start['close']).toBe(true)
    const closed = seen.find(([n]) => n === 'connectionClosed')![1]
    expect(closed['reason']).toBe('connection-close')
    expect(binding.counters().closesByReason['connection-close']).toBe(1)
    const trace = [...binding.traces().values()][0]!
    expect(trace.entries.map((e) => e.dir)).toEqual(expect.arrayContaining(['in', 'out']))
    expect(trace.entries.find((e) => e.dir === 'in')!.text).toContain('GET /d HTTP/1.1')
  })
})

describe('timeouts in real time', () => {
  it('answers 503 when the handler misses the request timeout', async () => {
    const { binding } = await serve(() => new Promise<HttpResponse>(() => {}), { requestTimeout: '150ms' })
    const c = await connect(binding)
    const sent = performance.now()
    await c.write(GET)
    const r = await c.readResponse()
    expect(r.status).toBe(503)
    expect(performance.now() - sent).toBeGreaterThanOrEqual(140)
  })
})

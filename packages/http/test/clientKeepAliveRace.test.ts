/**
 * DESIGN §1 A from the client's side — the keep-alive race reproducer: a server whose keep-alive (idle) timeout is
 * 500 ms, and requests on kept-alive connections at intervals sweeping from 520 ms down to 440 ms, 500 requests per
 * run. Between client and server sits a FaultProxy adding 25 ms each way (the network to a load balancer's target):
 * the server's FIN reaches the client late, so requests sent in the last ~50 ms before the FIN arrives cross it on
 * the wire — the reused connection dies under them (an RST from node:http, a FIN with the request unanswered from
 * weir, which lingers).
 *
 * The pool's protections — FIN/RST on an idle connection seen at once, the server's keep-alive hint honoured with a
 * safety margin, retry on a fresh connection of an idempotent request that failed before any response byte — must
 * make every request succeed. A pool with those protections off (no hint, no margin, no retry) must fail some: so
 * the test shows what the features prevent.
 *
 * The sweep runs in 50 lanes of 10 sequential requests (one pool with one connection per lane), in real time:
 * about 5 s per run.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createServer as createHttpServer, type Server } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { Materializer } from '@weir/core'
import { FaultProxy, assertAllStagesStopped } from '@weir/testkit'
import { Http, HttpEntity, HttpRequest, HttpResponse, type HttpServerBinding, type PoolSettingsInput } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const LANES = 50
const STEPS = 10
const DELAY_MS = 25

/** The interval before request `k` of the sweep (0 ≤ k < 500): 520 ms down to 440 ms. */
const interval = (k: number): number => 520 - (80 * k) / (LANES * STEPS - 1)

async function nodeServer(): Promise<number> {
  const server: Server = createHttpServer((req, res) => {
    // a server that does not advertise its timeout (node writes no Keep-Alive hint when the handler sets Connection)
    res.setHeader('Connection', 'keep-alive')
    // node adds a fixed 1 s buffer to keepAliveTimeout (500 would close at 1.5 s): set the socket's idle timeout to
    // exactly 500 ms after each response instead — node's own timeout handler then destroys the idle socket
    const socket = req.socket
    res.on('finish', () => setImmediate(() => socket.setTimeout(500)))
    res.end('ok')
  })
  server.keepAliveTimeout = 500
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  cleanups.push(() => new Promise<void>((r) => {
    server.closeAllConnections()
    server.close(() => r())
  }))
  return (server.address() as { port: number }).port
}

async function weirServer(): Promise<HttpServerBinding> {
  const mat = Materializer.create()
  const binding = await Http.newServerAt('127.0.0.1', 0).withMaterializer(mat).withSettings({ idleTimeout: 500, lingerTimeout: '2s' }).bind(() => HttpResponse.text('ok'))
  cleanups.push(async () => {
    await binding.terminate('1s')
    mat.shutdown()
  })
  return binding
}

async function behindProxy(port: number): Promise<number> {
  const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port }, mode: 'delay', delayMs: DELAY_MS })
  cleanups.push(() => proxy.stop())
  return proxy.port
}

interface SweepResult {
  readonly ok: number
  readonly failures: readonly string[]
  readonly reused: number
  readonly retries: number
}

async function sweep(port: number, settings: PoolSettingsInput): Promise<SweepResult> {
  const mat = Materializer.create()
  const pools = Array.from({ length: LANES }, () => Http.hostPool(`http://127.0.0.1:${port}`, { maxConnections: 1, keepAliveTimeout: '10s', ...settings }, { materializer: mat }))
  let ok = 0
  const failures: string[] = []
  await Promise.all(
    pools.map(async (pool, lane) => {
      for (let step = 0; step < STEPS; step++) {
        try {
          const res = await pool.request(HttpRequest.get('/'))
          await HttpEntity.toStrict(res.entity, 1024, mat)
          if (res.status === 200) ok++
          else failures.push(`status ${res.status}`)
        } catch (e) {
          failures.push((e as { code?: string }).code ?? String(e))
        }
        if (step < STEPS - 1) await sleep(interval(lane * STEPS + step))
      }
    }),
  )
  let reused = 0
  let retries = 0
  for (const p of pools) {
    reused += p.stats().reusedExchanges
    retries += p.stats().retries
  }
  await Promise.all(pools.map((p) => p.shutdown()))
  await assertAllStagesStopped(mat, { timeoutMs: 5000 })
  mat.shutdown()
  return { ok, failures, reused, retries }
}

const UNPROTECTED: PoolSettingsInput = { maxRetries: 0, keepAliveSafetyMargin: 0, useKeepAliveHint: false }

describe('keep-alive race, client side (500 requests at 520 → 440 ms intervals, server timeout 500 ms)', () => {
  it('node:http server: no request fails with the pool defaults, though connections die under reused requests', async () => {
    const port = await behindProxy(await nodeServer())
    const r = await sweep(port, {})
    expect(r.failures).toEqual([])
    expect(r.ok).toBe(LANES * STEPS)
    expect(r.reused).toBeGreaterThan(LANES * STEPS * 0.4) // most requests went over kept-alive connections
    expect(r.retries).toBeGreaterThan(0) // the race happened, and the retry absorbed it
  }, 30_000)

  it('node:http server: the same pool without hint, margin and retry loses requests to the race', async () => {
    const port = await behindProxy(await nodeServer())
    const r = await sweep(port, UNPROTECTED)
    expect(r.failures.length).toBeGreaterThan(0)
    // the crossing request dies on an RST (node destroys the idle socket) or on the FIN that preceded it
    for (const f of r.failures) expect(['WEIR_HTTP_CLIENT_RESET_BEFORE_RESPONSE', 'WEIR_HTTP_CLIENT_CLOSED_BEFORE_RESPONSE']).toContain(f)
    expect(r.ok + r.failures.length).toBe(LANES * STEPS)
  }, 30_000)

  it('weir server: its Keep-Alive: timeout=0 hint is honoured, so nothing is reused past it and nothing fails', async () => {
    const binding = await weirServer()
    const r = await sweep(await behindProxy(binding.port), {})
    expect(r.failures).toEqual([])
    expect(r.reused).toBe(0) // a 500 ms timeout is advertised as 0 s: no idle connection may be reused
  }, 30_000)

  it('weir server: without the hint, reused connections die under requests and the retry absorbs every one', async () => {
    const binding = await weirServer()
    const r = await sweep(await behindProxy(binding.port), { useKeepAliveHint: false })
    expect(r.failures).toEqual([])
    expect(r.reused).toBeGreaterThan(LANES * STEPS * 0.4)
    expect(r.retries).toBeGreaterThan(0)
  }, 30_000)

  it('weir server: the unprotected pool loses requests — to a FIN, never to an RST (the server lingers)', async () => {
    const binding = await weirServer()
    const r = await sweep(await behindProxy(binding.port), UNPROTECTED)
    expect(r.failures.length).toBeGreaterThan(0)
    expect(new Set(r.failures)).toEqual(new Set(['WEIR_HTTP_CLIENT_CLOSED_BEFORE_RESPONSE']))
  }, 30_000)
})

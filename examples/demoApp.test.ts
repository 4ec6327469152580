/**
 * The demo application in-process (examples/demo/app.ts): what `pnpm demo` cannot show from the
 * outside — every stage stopped after `stop`, a second `stop` answering the same report, a port
 * already taken failing the start with a typed error and nothing left behind, an upstream that is
 * gone answered with 502 (saying the connection failed), and /metrics reporting exactly the servers' counters.
 */
import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { assertAllStagesStopped } from '@weir/testkit'
import { defaultConfig, startDemo, type Demo } from './demo/app.js'
import { upstreamPath } from './demo/proxy.js'

const config = { ...defaultConfig, tickMs: 50, snapshotMs: 100, shutdownDeadline: '2s' }
const running: Demo[] = []
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('test over')
})

async function start(): Promise<Demo> {
  const demo = await startDemo(config)
  running.push(demo)
  return demo
}

describe('the demo application', () => {
  it('stops everything it started; stop is idempotent', async () => {
    const demo = await start()
    expect((await fetch(`${demo.urls.proxy}x`)).status).toBe(200)
    const first = demo.stop('test')
    expect(demo.stop('again')).toBe(first)
    const report = await first
    expect(report.why).toBe('test')
    expect(report.poolConnections).toBe(1)
    await assertAllStagesStopped(demo.materializer, { timeoutMs: 5000 })
    await expect(fetch(demo.urls.api)).rejects.toThrow()
    await expect(fetch(demo.urls.upstream)).rejects.toThrow()
  })

  it('fails to start on a port in use with WEIR_HTTP_TCP_BIND_FAILED, leaving its upstream closed', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const upstreamPort = await freePort()
      await expect(startDemo({ ...config, port, upstreamPort })).rejects.toMatchObject({ code: 'WEIR_HTTP_TCP_BIND_FAILED', syscallCode: 'EADDRINUSE' })
      // the upstream it had started is gone: its port can be bound again
      const again = createServer()
      await new Promise<void>((resolve, reject) => again.once('error', reject).listen(upstreamPort, '127.0.0.1', resolve))
      await new Promise((resolve) => again.close(resolve))
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  it('answers 502 saying what failed when the upstream is gone', async () => {
    const demo = await start()
    await demo.upstream.terminate('1s')
    const res = await fetch(`${demo.urls.proxy}anything`)
    expect(res.status).toBe(502)
    expect(await res.text()).toMatch(/^502 Bad Gateway: .*\(WEIR_HTTP_TCP_CONNECT_FAILED\)\.\n$/)
  })

  it('/metrics reports the counters of both servers and the open sessions', async () => {
    const demo = await start()
    await fetch(`${demo.urls.proxy}a`)
    const text = await (await fetch(demo.urls.metrics)).text()
    const value = (sample: string): number => Number(text.split('\n').find((l) => l.startsWith(sample + ' '))?.slice(sample.length + 1))
    const app = demo.app.counters()
    expect(value('weir_http_requests_total{server="app"}')).toBe(app.requests)
    expect(value('weir_http_connections_accepted_total{server="app"}')).toBe(app.connectionsAccepted)
    expect(value('weir_http_requests_total{server="upstream"}')).toBe(demo.upstream.counters().requests)
    expect(value('weir_sse_sessions_open{endpoint="feed"}')).toBe(0)
  })

  it('maps proxied paths onto the upstream (the query is kept by the proxy)', () => {
    expect(upstreamPath('/proxy/a/b')).toBe('/a/b')
    expect(upstreamPath('/proxy')).toBe('/')
    expect(upstreamPath('/proxy/')).toBe('/')
  })
})

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

/**
 * `pnpm demo`, end to end: the demo is started as its own process (the `demo` script's command),
 * its printed URLs are parsed, every route is exercised over real sockets — the JSON API with its
 * validation, a proxied GET and POST, an SSE client that leaves with a FIN, `/metrics` — and the
 * diagnostics page is checked in headless Chromium: its charts move when a client connects and
 * leaves, and a screenshot is written (kept in $WEIR_DEMO_SCREENSHOTS when set). Then SIGINT: exit code 0, the shutdown report, nothing on
 * stderr, and no process left in the demo's process group.
 *
 * Needs Debian's `chromium` (WEIR_CHROMIUM for another binary); fails rather than skips without it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { RawClient } from '@weir/testkit'
import { ROOT, scriptCommand } from './scriptCommand.js'

const CHROMIUM = process.env['WEIR_CHROMIUM'] ?? '/usr/bin/chromium'
const LABELS = ['diagnostics', 'feed', 'api', 'proxy', 'metrics', 'upstream'] as const
type Urls = Record<(typeof LABELS)[number], string>

let demo: ChildProcessByStdio<null, Readable, Readable>
let stdout = ''
let stderr = ''
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
let urls: Urls
let browser: Browser
/** The screenshot goes to a temporary directory, removed afterwards, unless WEIR_DEMO_SCREENSHOTS names one to keep it in. */
const keptShots = process.env['WEIR_DEMO_SCREENSHOTS']
const shotDir = keptShots ?? mkdtempSync(join(tmpdir(), 'weir-demo-'))

/** Resolves with the printed URLs once the demo says it is listening. */
function readUrls(): Promise<Urls> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!stdout.includes('Ctrl-C stops it.')) return
      const found = Object.fromEntries(LABELS.map((l) => [l, new RegExp(`^\\s+${l}\\s+(http://127\\.0\\.0\\.1:\\d+/\\S*)$`, 'm').exec(stdout)?.[1]]))
      if (LABELS.some((l) => found[l] === undefined)) reject(new Error(`URLs missing in:\n${stdout}`))
      else resolve(found as Urls)
    }
    demo.stdout.on('data', check)
    void exited.then(({ code }) => reject(new Error(`demo exited (${code}) before listening:\n${stdout}\n${stderr}`)))
  })
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw e
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set WEIR_CHROMIUM`)
  const [command, ...args] = scriptCommand('demo')
  // detached: its own process group, as a terminal's Ctrl-C would see it
  demo = spawn(command, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEMO_PORT: '0', DEMO_UPSTREAM_PORT: '0', DEMO_TICK_MS: '200' } })
  demo.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
  demo.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
  exited = new Promise((resolve) => demo.on('exit', (code, signal) => resolve({ code, signal })))
  ;[urls, browser] = await Promise.all([readUrls(), chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })])
}, 60_000)

afterAll(async () => {
  await browser?.close()
  if (demo?.pid !== undefined && groupAlive(demo.pid)) process.kill(-demo.pid, 'SIGKILL')
  if (keptShots === undefined) rmSync(shotDir, { recursive: true, force: true })
})

const postJson = (url: string, body: unknown): Promise<Response> => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

/** The value of one sample in Prometheus text, or undefined. */
async function metric(sample: string): Promise<number | undefined> {
  const text = await (await fetch(urls.metrics)).text()
  const line = text.split('\n').find((l) => l.startsWith(sample + ' '))
  return line === undefined ? undefined : Number(line.slice(sample.length + 1))
}

/** Opens an SSE client on the feed and waits for its first tick. */
async function feedClient(lastEventId?: string): Promise<RawClient> {
  const { port } = new URL(urls.feed)
  const client = await RawClient.connect(Number(port), '127.0.0.1', { timeoutMs: 10_000 })
  await client.write(`GET /feed HTTP/1.1\r\nHost: demo\r\nAccept: text/event-stream\r\n${lastEventId === undefined ? '' : `Last-Event-ID: ${lastEventId}\r\n`}\r\n`)
  await client.readUntil('event: tick')
  return client
}

describe('pnpm demo', () => {
  it('prints its URLs on 127.0.0.1 and redirects / to the diagnostics page', async () => {
    expect(new URL(urls.diagnostics).pathname).toBe('/diagnostics')
    expect(new URL(urls.upstream).port).not.toBe(new URL(urls.api).port)
    const root = await fetch(new URL('/', urls.api), { redirect: 'manual' })
    expect(root.status).toBe(303)
    expect(root.headers.get('location')).toBe('/diagnostics')
    const page = await fetch(urls.diagnostics)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('<script src="/diagnostics/dashboard.js">')
    expect((await fetch(new URL('/diagnostics/dashboard.js', urls.api))).headers.get('content-type')).toBe('text/javascript; charset=utf-8')
  })

  it('the JSON API validates, answers 201, and publishes to the feed', async () => {
    const client = await feedClient()
    const created = await postJson(urls.api, { author: 'ada', text: 'hello feed' })
    expect(created.status).toBe(201)
    const event = (await created.json()) as { kind: string; seq: number }
    expect(event).toMatchObject({ kind: 'message', author: 'ada', text: 'hello feed' })
    await client.readUntil(`id: ${event.seq}\ndata: {"kind":"message","seq":${event.seq},"author":"ada","text":"hello feed"}`)
    await client.destroy()

    const missing = await postJson(urls.api, { author: 'ada' })
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { errors: unknown[] }).errors).toEqual([{ path: '$.text', expected: 'string', received: 'undefined' }])
    const tooLong = await postJson(urls.api, { author: 'ada', text: 'x'.repeat(281) })
    expect(tooLong.status).toBe(400)
    const listed = (await (await fetch(urls.api)).json()) as unknown[]
    expect(listed).toContainEqual(event)

    // a client that reconnects with Last-Event-ID gets what it missed
    const again = await feedClient(String(event.seq - 1))
    expect(again.received.toString()).toContain(`id: ${event.seq}\n`)
    await again.destroy()
  })

  it('proxies GET and POST to its upstream, hop-by-hop fields stripped', async () => {
    const client = await RawClient.connect(Number(new URL(urls.proxy).port), '127.0.0.1', { timeoutMs: 10_000 })
    await client.write('GET /proxy/items?id=7 HTTP/1.1\r\nHost: demo\r\nConnection: keep-alive, x-secret\r\nX-Secret: hop\r\nKeep-Alive: timeout=5\r\n\r\n')
    const res = await client.readResponse()
    await client.destroy()
    expect(res.status).toBe(200)
    expect(res.headers['via']).toEqual(['1.1 weir-demo'])
    const echo = JSON.parse(res.body.toString()) as { headerNames: string[] }
    expect(echo).toMatchObject({ service: 'upstream', method: 'GET', path: '/items?id=7', via: '1.1 weir-demo', bodyBytes: 0 })
    expect(echo.headerNames).toContain('host')
    expect(echo.headerNames).not.toContain('x-secret') // named in Connection: hop-by-hop
    expect(echo.headerNames).not.toContain('keep-alive')
    const posted = await fetch(`${urls.proxy}upload`, { method: 'POST', body: 'x'.repeat(1000) })
    expect(await posted.json()).toMatchObject({ method: 'POST', path: '/upload', bodyBytes: 1000 })
    expect(await metric('weir_http_requests_total{server="upstream"}')).toBeGreaterThanOrEqual(2)
  })

  it('an SSE client that leaves with a FIN ends its session at once, and /metrics shows it', async () => {
    const finsBefore = (await metric('weir_http_connection_closes_total{server="app",reason="client-fin"}')) ?? 0
    const client = await feedClient()
    expect(await metric('weir_sse_sessions_open{endpoint="feed"}')).toBe(1)
    expect(await metric('weir_demo_topic_subscribers')).toBe(1)
    await client.halfClose()
    expect(await client.expectClosed()).toBe('fin')
    await expect.poll(() => metric('weir_sse_sessions_open{endpoint="feed"}'), { timeout: 5000 }).toBe(0)
    await expect.poll(() => metric('weir_http_connection_closes_total{server="app",reason="client-fin"}'), { timeout: 5000 }).toBeGreaterThan(finsBefore)
    await client.destroy()
    const text = await (await fetch(urls.metrics)).text()
    expect(text).toContain('# TYPE weir_http_connection_closes_total counter')
    expect(text).toContain('# TYPE weir_http_connections_open gauge')
  })

  it('the diagnostics page charts a client connecting and leaving (headless Chromium), with a screenshot', async () => {
    const page: Page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
    try {
      await page.goto(urls.diagnostics)
      const tile = (id: string): Promise<string | null> => page.locator(`#${id}`).textContent()
      await page.waitForFunction(() => (globalThis as unknown as { weirDashboard: { received: number } }).weirDashboard.received > 0, undefined, { timeout: 10_000 })
      await expect.poll(() => tile('sse-sessions'), { timeout: 10_000 }).toBe('0')
      const lastY = async (): Promise<number> => {
        const points = (await page.locator('#chart-sessions polyline[data-series="feed sessions"]').getAttribute('points')) ?? ''
        return Number(points.trim().split(' ').at(-1)?.split(',')[1])
      }
      expect(await lastY()).toBe(150) // the baseline: no session

      const closesBefore = Number(await tile('closes'))
      const client = await feedClient()
      await expect.poll(() => tile('sse-sessions'), { timeout: 10_000 }).toBe('1')
      expect(await lastY()).toBeLessThan(150)
      expect(Number(await tile('connections-open'))).toBeGreaterThanOrEqual(2) // the page's own stream and the client
      await client.reset()
      await expect.poll(() => tile('sse-sessions'), { timeout: 10_000 }).toBe('0')
      expect(await lastY()).toBe(150)
      await expect.poll(async () => Number(await tile('closes')), { timeout: 10_000 }).toBeGreaterThan(closesBefore)
      await expect.poll(() => page.locator('#legend-closes').textContent(), { timeout: 10_000 }).toContain('client-rst')
      await expect.poll(() => page.locator('#events').textContent(), { timeout: 10_000 }).toContain('rst')

      const file = join(shotDir, 'diagnostics.png')
      await page.screenshot({ path: file, fullPage: true })
      const png = readFileSync(file)
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
      expect(png.length).toBeGreaterThan(10_000)
    } finally {
      await page.close()
    }
  })

  it('stops on SIGINT: exit code 0, a shutdown report, no error, no process left', async () => {
    const client = await feedClient() // a session open at shutdown is closed by it
    const pgid = demo.pid!
    process.kill(-pgid, 'SIGINT')
    // the session ends, the response completes, the server closes the connection with a FIN: the client closes too
    expect(await client.expectClosed()).toBe('fin')
    await client.destroy()
    const { code, signal } = await exited
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(stderr).toBe('')
    expect(stdout).toContain('SIGINT received: terminating gracefully')
    expect(stdout).toMatch(/weir demo stopped \(SIGINT\) in \d+ ms:/)
    expect(stdout).toContain('feed sessions closed: shutdown 1')
    expect(stdout).toMatch(/app connections closed: .*shutdown \d/)
    await expect.poll(() => groupAlive(pgid), { timeout: 5000 }).toBe(false)
  })
})

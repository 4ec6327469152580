/**
 * A real browser leaving an SSE session (DESIGN §1 C): headless Chromium opens an `EventSource`
 * page served by weir, then either calls `EventSource.close()` or closes the tab. Either way the
 * server's session registry is back to zero within 500 ms — with the heartbeat an hour away, so a
 * failed heartbeat write cannot be what ends the session.
 *
 * Needs Debian's `chromium` (`.ci/run` installs it). Set WEIR_CHROMIUM to use another binary.
 * Without a browser this file fails rather than skips: the cleanup it shows is not optional.
 */
import { existsSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser } from 'playwright-core'
import { Materializer, Source } from '@weir/core'
import { Headers, Http, HttpEntity, HttpResponse, type HttpServerBinding } from '@weir/http'
import { assertAllStagesStopped } from '@weir/testkit'
import { SessionRegistry, sseSession, type CloseReason, type ServerSentEvent } from '../src/index.js'

const CHROMIUM = process.env['WEIR_CHROMIUM'] ?? '/usr/bin/chromium'

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>weir sse</title>
<script>
  window.received = []
  window.source = new EventSource('/events')
  window.source.onmessage = (e) => window.received.push(e.data)
</script>`

/** What the page's script leaves on its window. */
interface PageGlobals {
  readonly received: string[]
  readonly source: { close(): void }
}

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

let browser: Browser
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set WEIR_CHROMIUM`)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
}, 60_000)
afterAll(async () => {
  await browser?.close()
})

interface Server {
  readonly binding: HttpServerBinding
  readonly registry: SessionRegistry
  readonly reasons: CloseReason[]
}

async function serve(): Promise<Server> {
  const mat = Materializer.create()
  const registry = new SessionRegistry()
  const reasons: CloseReason[] = []
  const binding = await Http.newServerAt('127.0.0.1', 0)
    .withMaterializer(mat)
    .bind((req) => {
      if (req.target === '/events') {
        return sseSession(
          (s) => {
            s.onClose((r) => reasons.push(r))
            return Source.single<ServerSentEvent>({ data: 'hello' }).concat(Source.never<ServerSentEvent>())
          },
          { registry, heartbeat: '1h' },
        )
      }
      if (req.target === '/') return new HttpResponse(200, Headers.empty, HttpEntity.text(PAGE, 'text/html; charset=utf-8'))
      return HttpResponse.text('not found', 404)
    })
  cleanups.push(async () => {
    await binding.terminate('200ms')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    await mat.shutdown()
  })
  return { binding, registry, reasons }
}

/** Opens the page in a new tab and waits until its EventSource received the first event. */
async function openPage(port: number) {
  const page = await browser.newPage()
  cleanups.push(() => (page.isClosed() ? undefined : page.close()))
  await page.goto(`http://127.0.0.1:${port}/`)
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).received.length > 0, undefined, { timeout: 10_000 })
  return page
}

/** How long, in ms since `start`, until the registry has no session (polled every 5 ms, at most 5 s). */
async function timeUntilEmpty(registry: SessionRegistry, start: number): Promise<number> {
  await expect.poll(() => registry.count, { timeout: 5000, interval: 5 }).toBe(0)
  return performance.now() - start
}

describe('a browser leaving an SSE session', () => {
  it('EventSource.close(): the session is gone within 500 ms', async () => {
    const { binding, registry, reasons } = await serve()
    const page = await openPage(binding.port)
    expect(registry.count).toBe(1)
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).received)).toEqual(['hello'])
    const leftAt = performance.now()
    await page.evaluate(() => (globalThis as unknown as PageGlobals).source.close())
    expect(await timeUntilEmpty(registry, leftAt)).toBeLessThan(500)
    expect(reasons).toHaveLength(1)
    expect(['client-fin', 'client-rst']).toContain(reasons[0])
  })

  it('closing the tab: the session is gone within 500 ms', async () => {
    const { binding, registry, reasons } = await serve()
    const page = await openPage(binding.port)
    expect(registry.count).toBe(1)
    const leftAt = performance.now()
    await page.close()
    expect(await timeUntilEmpty(registry, leftAt)).toBeLessThan(500)
    expect(reasons).toHaveLength(1)
    expect(['client-fin', 'client-rst']).toContain(reasons[0])
  })
})

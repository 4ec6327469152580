/**
 * DESIGN §1 A — the keep-alive race behind a load balancer: the server closes an idle keep-alive
 * connection at the instant the client reuses it. The server must never answer a request it has
 * read with an RST: an idle close is a FIN followed by lingering (reading and discarding), and a
 * request the server has already started reading is answered, whatever the idle timer says.
 *
 * Virtual time puts the request on either side of the idle deadline exactly; the bytes travel over
 * real sockets on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { RawClient, VirtualTime, assertAllStagesStopped } from '@weir/testkit'
import { Http, HttpResponse, type Handler, type HttpServerBinding, type ServerSettingsInput } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(handler: Handler, settings: ServerSettingsInput): Promise<{ binding: HttpServerBinding; time: VirtualTime }> {
  const time = new VirtualTime()
  const binding = await Http.newServerAt('127.0.0.1', 0).withSettings(settings).withMaterializer(time.materializer).bind(handler)
  cleanups.push(async () => {
    const t = binding.terminate('1s')
    await time.advance(1000)
    await t
    await assertAllStagesStopped(time.materializer, { timeoutMs: 5000 })
  })
  return { binding, time }
}

async function connect(binding: HttpServerBinding): Promise<RawClient> {
  const c = await RawClient.connect(binding.port)
  cleanups.push(() => c.destroy())
  return c
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'

describe('keep-alive race (idle timeout 500 ms)', () => {
  it('closes an idle connection with a FIN, and keeps reading: a request that crosses the FIN gets no RST', async () => {
    const { binding, time } = await serve(() => HttpResponse.text('ok'), { idleTimeout: 500, lingerTimeout: '5s' })
    const c = await connect(binding)
    await c.write(GET)
    expect((await c.readResponse()).headers['keep-alive']).toEqual(['timeout=0'])
    await time.advance(499)
    await c.expectOpen(20)
    await time.advance(1) // the idle deadline: the server half-closes
    await c.readUntil(() => false, { timeoutMs: 200 }).catch(() => {})
    // the client reuses the connection at that very instant: its request crosses the server's FIN
    await c.write(GET)
    await time.advance(100)
    expect(await c.expectClosed()).toBe('fin') // never 'rst': the server lingered and discarded the request
    expect(c.received.toString().match(/HTTP\/1\.1 200/g)).toHaveLength(1) // and no answer to the late request
  })

  it('answers a request it has started to read even when the idle deadline passes meanwhile', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { binding, time } = await serve(async () => {
      await gate
      return HttpResponse.text('late but answered')
    }, { idleTimeout: 500 })
    const c = await connect(binding)
    await c.write(GET)
    await time.settle()
    await time.advance(2000) // far past the idle deadline, with a request in flight
    release()
    const r = await c.readResponse()
    expect(r.body.toString()).toBe('late but answered')
  })

  it('sweeps request intervals across the idle timeout: every request gets a response or a clean FIN, never an RST', async () => {
    const { binding, time } = await serve(() => HttpResponse.text('ok'), { idleTimeout: 500, lingerTimeout: '5s' })
    let c = await connect(binding)
    await c.write(GET)
    await c.readResponse()
    let answered = 0
    let closedCleanly = 0
    for (let interval = 520; interval >= 440; interval -= 5) {
      await time.advance(interval) // the connection sits idle, then is reused
      await c.write(GET).catch(() => {})
      // a response, or (the request crossed the idle FIN) a closed connection: which way did it close?
      const outcome = await c.readResponse().then(
        () => 'response' as const,
        () => c.expectClosed(),
      )
      if (outcome === 'response') answered++
      else {
        expect(outcome).toBe('fin')
        closedCleanly++
        c = await connect(binding) // what a pool does after a clean close: retry on a new connection
        await c.write(GET)
        await c.readResponse()
        answered++
      }
    }
    expect(answered).toBeGreaterThan(0)
    expect(closedCleanly).toBeGreaterThan(0) // the sweep did cross the deadline
  })
})

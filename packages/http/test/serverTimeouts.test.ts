/**
 * Every server timeout of DESIGN §1 D, driven by virtual time over real sockets: exact deadlines
 * (nothing at d − 1, the effect at d), and what the client sees on the wire.
 */
import { connect as netConnect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Source } from '@weir/core'
import { RawClient, VirtualTime, assertAllStagesStopped } from '@weir/testkit'
import { Http, HttpResponse, setRequestTimeout, type Handler, type HttpServerBinding, type ServerSettingsInput } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(handler: Handler, settings: ServerSettingsInput): Promise<{ binding: HttpServerBinding; time: VirtualTime }> {
  const time = new VirtualTime()
  time.materializer.logger.warn = () => {}
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

const never: Handler = () => new Promise<HttpResponse>(() => {})

/** Nothing arrives until `ms` after the request was sent, then a 503 whose entity names the timeout. */
async function expectRequestTimeoutAt(c: RawClient, time: VirtualTime, ms: number): Promise<Awaited<ReturnType<RawClient['readResponse']>>> {
  await time.advance(ms - 1)
  await c.expectOpen(20)
  expect(c.received.length).toBe(0)
  await time.advance(1)
  const r = await c.readResponse()
  expect(r.status).toBe(503)
  expect(r.body.toString()).toMatch(new RegExp(`${ms} ms`))
  return r
}
const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'

describe('request timeout', () => {
  it('answers 503 with an explanation at the deadline, then closes', async () => {
    const { binding, time } = await serve(never, { requestTimeout: '2s' })
    const c = await connect(binding)
    await c.write(GET)
    const r = await expectRequestTimeoutAt(c, time, 2000)
    expect(r.headers['connection']).toEqual(['close'])
    expect(await c.expectClosed()).toBe('fin')
    await c.halfClose() // the server lingered until now
    await time.settle()
    expect(binding.counters().closesByReason['request-timeout']).toBe(1)
  })

  it('can be overridden per request', async () => {
    let release!: (r: HttpResponse) => void
    const { binding, time } = await serve(
      (req) => {
        setRequestTimeout(req, '10s')
        return new Promise<HttpResponse>((r) => (release = r))
      },
      { requestTimeout: '2s' },
    )
    const c = await connect(binding)
    await c.write(GET)
    await time.advance(5000)
    release(HttpResponse.text('slow route'))
    expect((await c.readResponse()).body.toString()).toBe('slow route')
  })

  it("drops the handler's late response", async () => {
    let release!: (r: HttpResponse) => void
    const { binding, time } = await serve(() => new Promise<HttpResponse>((r) => (release = r)), { requestTimeout: '1s' })
    const c = await connect(binding)
    await c.write(GET)
    await time.advance(1000)
    expect((await c.readResponse()).status).toBe(503)
    release(HttpResponse.text('too late'))
    await time.settle()
    expect(c.received.toString()).not.toContain('too late')
  })
})

describe('header-read timeout', () => {
  it('answers 408 to a client that never finishes its header section (slowloris), then closes', async () => {
    const { binding, time } = await serve(() => HttpResponse.text('x'), { headerReadTimeout: '5s' })
    const c = await connect(binding)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    await time.advance(4999)
    await c.expectOpen(20)
    await time.advance(1)
    const r = await c.readResponse()
    expect(r.status).toBe(408)
    expect(await c.expectClosed()).toBe('fin')
  })
})

describe('idle timeout', () => {
  it('closes an idle connection gracefully at the deadline (FIN, not RST)', async () => {
    const { binding, time } = await serve(() => HttpResponse.text('x'), { idleTimeout: '10s' })
    const c = await connect(binding)
    await c.write(GET)
    await c.readResponse()
    await time.advance(9999)
    await c.expectOpen(20)
    await time.advance(1)
    expect(await c.expectClosed()).toBe('fin')
    await c.halfClose()
    await time.settle()
    expect(binding.counters().closesByReason['idle-timeout']).toBe(1)
  })

  it('is extended by traffic', async () => {
    const { binding, time } = await serve(() => HttpResponse.text('x'), { idleTimeout: '10s' })
    const c = await connect(binding)
    for (let i = 0; i < 3; i++) {
      await time.advance(6000)
      await c.write(GET)
      expect((await c.readResponse()).status).toBe(200)
    }
    await time.advance(9000)
    await c.expectOpen(20)
  })

  it('ends a streaming response whose reader stopped reading (a full window, no progress) at the deadline', async () => {
    const chunk = new Uint8Array(64 * 1024)
    let ended = false
    const { binding, time } = await serve(
      () => HttpResponse.stream(Source.repeat(chunk).watchTermination((_, done) => void done.catch(() => undefined).finally(() => (ended = true)))),
      { idleTimeout: '10s' },
    )
    const socket = netConnect(binding.port, '127.0.0.1')
    cleanups.push(() => void socket.destroy())
    await new Promise<void>((r) => socket.once('connect', r))
    socket.write(GET)
    await new Promise<void>((r) => socket.once('data', () => r()))
    socket.pause() // the peer stops reading: the windows fill and the server's writes stall
    // bytes move until the stall; from then on nothing does, and each 10 s of virtual time is a full idle period
    await expect
      .poll(
        async () => {
          await time.advance(10_000)
          return binding.counters().closesByReason['idle-timeout'] ?? 0
        },
        { timeout: 10_000, interval: 20 },
      )
      .toBe(1)
    // the response's stream was cancelled: its cleanup ran
    await expect.poll(() => ended).toBe(true)
  })
})

describe('linger timeout', () => {
  it('destroys a closed connection whose client keeps it open past the linger timeout', async () => {
    const { binding, time } = await serve(() => HttpResponse.text('x'), { lingerTimeout: '3s' })
    const c = await connect(binding)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    await c.readResponse()
    await c.expectFin()
    await c.write('garbage the client still sends') // read and discarded while lingering
    await time.advance(2999)
    await c.write('more')
    expect(c.closed.reset).toBe(false)
    await time.advance(1)
    await time.settle()
    // the server gave up and destroyed the socket: the client's next writes are answered with an RST
    for (let i = 0; i < 100 && !c.closed.reset && !c.closed.socketClosed; i++) {
      await c.write('after the linger timeout').catch(() => {})
      await new Promise((r) => setImmediate(r))
    }
    expect(c.closed.reset || c.closed.socketClosed).toBe(true)
    expect(binding.counters().closesByReason['linger-timeout']).toBe(1)
  })
})

describe('the timeouts of one connection', () => {
  it('share one scheduler timer, and short connections share the server\'s: more requests or connections arm no more timers', async () => {
    const { binding, time } = await serve(() => HttpResponse.text('x'), {})
    const before = time.pendingTimers
    const c = await connect(binding)
    await c.write(GET)
    await c.readResponse()
    await time.settle()
    const withConnection = time.pendingTimers
    expect(withConnection - before).toBe(1)
    for (let i = 0; i < 3; i++) {
      await c.write(GET)
      expect((await c.readResponse()).status).toBe(200)
    }
    const c2 = await connect(binding)
    await c2.write(GET)
    expect((await c2.readResponse()).status).toBe(200)
    await time.settle()
    expect(time.pendingTimers).toBe(withConnection)
  })

  it('still fires a deadline earlier than the one the timer is armed for, exactly (a request timeout shortened per request)', async () => {
    const { binding, time } = await serve(
      (req) => {
        setRequestTimeout(req, '300ms')
        return new Promise<HttpResponse>(() => {})
      },
      { requestTimeout: '20s', headerReadTimeout: '5s' },
    )
    const c = await connect(binding)
    await c.write(GET)
    await expectRequestTimeoutAt(c, time, 300)
  })

  it('fires each timeout at its own deadline after the timer woke up early for another (idle after header-read)', async () => {
    const { binding, time } = await serve(() => HttpResponse.text('x'), { idleTimeout: '10s', headerReadTimeout: '2s' })
    const c = await connect(binding)
    await time.advance(5000)
    await c.write(GET)
    expect((await c.readResponse()).status).toBe(200)
    // the idle deadline is 10 s after the last traffic, whatever the timer did in between
    await time.advance(9999)
    await c.expectOpen(20)
    await time.advance(1)
    expect(await c.expectClosed()).toBe('fin')
    await c.halfClose()
    await time.settle()
    expect(binding.counters().closesByReason['idle-timeout']).toBe(1)
  })
})

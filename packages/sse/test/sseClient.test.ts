/**
 * The SSE client over real sockets against weir's own SSE server: reconnection with `Last-Event-ID` after the
 * server ends the stream and after a reset (a FaultProxy playing the broken middlebox), replay from a topic with
 * exactly the missed events in order and then live ones, 204 and error statuses, backpressure from a consumer
 * that does not read to the server's source, and no session, stage or connection left after the client stops.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Keep, Materializer, Sink, Source } from '@weir/core'
import { Http, HttpResponse, type Handler, type HostConnectionPool, type HttpRequest, type HttpServerBinding } from '@weir/http'
import { FaultProxy, TestSink, assertAllStagesStopped } from '@weir/testkit'
import { SessionRegistry, SseClient, SseStatusError, Topic, sse, sseSession, type ServerSentEvent, type SseClientOptions, type SseConnect } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(handler: Handler): Promise<{ binding: HttpServerBinding; mat: Materializer }> {
  const mat = Materializer.create()
  const binding = await Http.newServerAt('127.0.0.1', 0).withMaterializer(mat).bind(handler)
  cleanups.push(async () => {
    await binding.terminate('500ms')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return { binding, mat }
}

/** A client materializer and a dedicated pool for `port`, both checked and shut down after the test. */
function clientSide(port: number): { mat: Materializer; pool: HostConnectionPool; connect: SseConnect } {
  const mat = Materializer.create()
  const pool = Http.hostPool(`http://127.0.0.1:${port}`, {}, { materializer: mat })
  cleanups.push(async () => {
    await pool.shutdown('1s')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return { mat, pool, connect: (req) => pool.request(req) }
}

interface Price {
  readonly id: string
  readonly price: number
}
const toEvent = (p: Price): ServerSentEvent => ({ id: p.id, data: String(p.price) })
const ev = (id: string, data: string): ServerSentEvent => ({ data, event: 'message', id })

describe('SseClient over real sockets', () => {
  it('reconnects with Last-Event-ID after the server ends each stream, and stops when it gets 204', async () => {
    const seen: string[] = []
    const { binding } = await serve((req) => {
      const last = req.headers.get('last-event-id')
      seen.push(last ?? '')
      const from = last === undefined ? 0 : Number(last)
      if (from >= 4) return HttpResponse.empty(204)
      return sse(Source.from([{ id: String(from + 1), data: `e${from + 1}` }, { id: String(from + 2), data: `e${from + 2}` }]), { retry: 20 })
    })
    const { mat, connect } = clientSide(binding.port)
    const [control, events] = SseClient.source(`http://127.0.0.1:${binding.port}/events`, { connect }).toMat(Sink.seq(), Keep.both).run(mat)
    expect(await events).toEqual([ev('1', 'e1'), ev('2', 'e2'), ev('3', 'e3'), ev('4', 'e4')])
    expect(seen).toEqual(['', '2', '4'])
    expect(control.readyState).toBe('closed')
    expect(control.reconnectionTime).toBe(20)
  })

  it('fails with SseStatusError when the server answers 500, through the default client (Http.singleRequest)', async () => {
    const { binding } = await serve(() => HttpResponse.text('boom', 500))
    const mat = Materializer.create()
    cleanups.push(async () => {
      await assertAllStagesStopped(mat, { timeoutMs: 5000 })
      mat.shutdown()
    })
    const url = `http://127.0.0.1:${binding.port}/events`
    const failure = await SseClient.source(url, { pool: { poolIdleTimeout: '100ms' } }).runWith(Sink.ignore(), mat).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(failure).toBeInstanceOf(SseStatusError)
    expect(failure).toMatchObject({ code: 'WEIR_SSE_CLIENT_STATUS', status: 500, url })
  })

  it('after a reset, reconnects with Last-Event-ID and gets exactly the missed events from the topic replay, then live ones; no session left after cancel', async () => {
    const { binding, mat: serverMat } = await serve(() => HttpResponse.empty(404)) // replaced below, once the topic exists
    await binding.terminate('100ms')
    const prices = Topic.local<Price>({ bufferSize: 16, replay: 10 })
    const registry = new SessionRegistry()
    const lastIds: (string | undefined)[] = []
    const handler: Handler = (req: HttpRequest) => {
      const last = req.headers.get('last-event-id')
      lastIds.push(last)
      return sseSession((s) => (last === undefined ? prices.subscribe(s) : prices.subscribeFrom(last, (p) => p.id, s)).map(toEvent), { registry })
    }
    const server = await Http.newServerAt('127.0.0.1', 0).withMaterializer(serverMat).bind(handler)
    cleanups.push(async () => {
      prices.close()
      await server.terminate('500ms')
    })
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server.port } })
    cleanups.push(() => proxy.stop())

    const { mat, connect } = clientSide(proxy.port)
    const options: SseClientOptions = { connect, reconnectionTime: 20, backoff: { factor: 1 } }
    const [control, events] = SseClient.source(`http://127.0.0.1:${proxy.port}/prices`, options).toMat(TestSink.probe<ServerSentEvent>({ timeoutMs: 10_000 }), Keep.both).run(mat)
    events.request(100)
    await expect.poll(() => registry.count).toBe(1)
    await expect.poll(() => prices.subscriberCount).toBe(1)
    for (let i = 1; i <= 3; i++) prices.publish({ id: String(i), price: 100 + i })
    for (let i = 1; i <= 3; i++) await events.expectNext(ev(String(i), String(100 + i)))

    // the middlebox resets everything and refuses new connections while events 4 and 5 are published
    proxy.setMode('rst')
    await expect.poll(() => registry.count).toBe(0)
    await expect.poll(() => prices.subscriberCount).toBe(0)
    expect(control.readyState).toBe('connecting')
    prices.publish({ id: '4', price: 104 })
    prices.publish({ id: '5', price: 105 })
    proxy.setMode('pass')

    await events.expectNext(ev('4', '104'))
    await events.expectNext(ev('5', '105'))
    expect(lastIds[0]).toBeUndefined()
    expect(lastIds.at(-1)).toBe('3')
    await expect.poll(() => prices.subscriberCount).toBe(1)
    prices.publish({ id: '6', price: 106 })
    await events.expectNext(ev('6', '106'))
    await events.expectNoMessage()
    expect(control.lastEventId).toBe('6')

    events.cancel()
    await control.done
    await expect.poll(() => registry.count).toBe(0)
    await expect.poll(() => prices.subscriberCount).toBe(0)
    expect(control.readyState).toBe('closed')
  })

  it('a consumer that does not read holds the server back (backpressure to the server\'s source); cancelling ends the session', async () => {
    const registry = new SessionRegistry()
    let produced = 0
    const payload = 'x'.repeat(16 * 1024)
    const { binding } = await serve(() =>
      sseSession(
        () =>
          Source.repeat(0)
            .take(100_000)
            .map(() => ({ data: payload, id: String(++produced) })),
        { registry },
      ),
    )
    const { mat, connect } = clientSide(binding.port)
    const [control, events] = SseClient.source(`http://127.0.0.1:${binding.port}/firehose`, { connect }).toMat(TestSink.probe<ServerSentEvent>({ timeoutMs: 10_000 }), Keep.both).run(mat)
    const first = await events.requestNext()
    expect(first.id).toBe('1')
    // the server writes until the socket buffers (and the bounded buffers of both graphs) are full, then stops:
    // wait until nothing more is produced for 150 ms (at most 5 s)
    let stalled = -1
    const deadline = performance.now() + 5000
    while (produced !== stalled) {
      if (performance.now() > deadline) throw new Error(`the server kept producing: ${produced} events`)
      stalled = produced
      await new Promise((r) => setTimeout(r, 150))
    }
    expect(stalled).toBeLessThan(2000) // 32 MB: far below the 1.6 GB the source would produce unhindered
    // reading resumes where it stopped, in order
    events.request(3)
    for (const id of ['2', '3', '4']) expect((await events.expectNext()).id).toBe(id)
    events.cancel()
    await control.done
    await expect.poll(() => registry.count).toBe(0)
  })
})

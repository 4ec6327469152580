/**
 * The SSE client's processing model without sockets: a fake `connect` answers each request with a response whose
 * body is a source probe, and virtual time drives the reconnection delays.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError, Keep, type Materializer } from '@weir/core'
import { ConnectError, Headers, HttpEntity, HttpResponse, InvalidRequestError, ResponseTruncatedError, type HttpRequest } from '@weir/http'
import { TestSink, TestSource, VirtualTime, assertAllStagesStopped, type SinkProbe, type SourceProbe } from '@weir/testkit'
import {
  SseAttemptsExhaustedError, SseClient, SseContentTypeError, SseEventTooLargeError, SseRedirectError, SseStatusError, sseClientChannels,
  type ServerSentEvent, type SseClientControl, type SseClientOptions, type SseConnect,
} from './index.js'

const URL_ = 'http://feed.test/events'
const utf8 = new TextEncoder()

interface Exchange {
  readonly request: HttpRequest
  respond(res: HttpResponse): void
  fail(error: unknown): void
}

/** A `connect` whose requests the test answers one by one. */
class FakeServer {
  readonly requests: HttpRequest[] = []
  readonly signals: AbortSignal[] = []
  readonly #unanswered: Exchange[] = []
  readonly connect: SseConnect = (request, { signal }) =>
    new Promise<HttpResponse>((resolve, reject) => {
      this.requests.push(request)
      this.signals.push(signal)
      this.#unanswered.push({ request, respond: resolve, fail: reject })
    })

  /** The oldest request not answered yet (the test settled first); fails when there is none. */
  take(): Exchange {
    const ex = this.#unanswered.shift()
    if (ex === undefined) throw new Error(`no request waiting (${this.requests.length} sent so far)`)
    return ex
  }
  get waiting(): number {
    return this.#unanswered.length
  }
}

/** A 200 `text/event-stream` response whose body the test writes through the returned probe. */
async function open(ex: Exchange, time: VirtualTime, contentType = 'text/event-stream'): Promise<SourceProbe<Uint8Array>> {
  let body!: SourceProbe<Uint8Array>
  const data = TestSource.probe<Uint8Array>().mapMaterializedValue((p) => (body = p))
  ex.respond(new HttpResponse(200, Headers.from([['content-type', contentType]]), HttpEntity.streamed(data, { contentType })))
  await time.settle()
  return body
}

const text = (s: string): Uint8Array => utf8.encode(s)
const header = (ex: Exchange, name: string): string | undefined => ex.request.headers.get(name)

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function client(options: SseClientOptions = {}): { time: VirtualTime; server: FakeServer; control: SseClientControl; events: SinkProbe<ServerSentEvent>; mat: Materializer } {
  const time = new VirtualTime()
  const server = new FakeServer()
  const [control, events] = SseClient.source(URL_, { connect: server.connect, ...options })
    .toMat(TestSink.probe<ServerSentEvent>(), Keep.both)
    .run(time.materializer)
  cleanups.push(async () => {
    control.close()
    await time.settle()
    await assertAllStagesStopped(time.materializer, { timeoutMs: 3000 })
  })
  return { time, server, control, events, mat: time.materializer }
}

describe('SseClient.source', () => {
  it('sends a GET with Accept, Cache-Control and the extra headers, and emits the parsed events', async () => {
    const { time, server, control, events } = client({ headers: Headers.from([['X-Token', 'abc'], ['Last-Event-ID', 'not-mine']]) })
    await time.settle()
    expect(control.readyState).toBe('connecting')
    const ex = server.take()
    expect(ex.request.method).toBe('GET')
    expect(ex.request.target).toBe(URL_)
    expect(header(ex, 'accept')).toBe('text/event-stream')
    expect(header(ex, 'cache-control')).toBe('no-cache')
    expect(header(ex, 'x-token')).toBe('abc')
    expect(ex.request.headers.has('last-event-id')).toBe(false)
    const body = await open(ex, time)
    expect(control.readyState).toBe('open')
    events.request(3)
    body.sendNext(text('data: one\n\nevent: add\nid: 7\ndata: a\ndata: b\n\n: comment\n'))
    body.sendNext(text('data: three\n\n'))
    await events.expectNext({ data: 'one', event: 'message' })
    await events.expectNext({ data: 'a\nb', event: 'add', id: '7' })
    await events.expectNext({ data: 'three', event: 'message', id: '7' })
    expect(control.lastEventId).toBe('7')
  })

  it('reconnects exactly the reconnection time (default 3 s) after the server ended the stream, with Last-Event-ID', async () => {
    const { time, server, control, events } = client()
    await time.settle()
    const body = await open(server.take(), time)
    events.request(10)
    body.sendNext(text('id: 41\ndata: x\n\ndata: unterminated'))
    await events.expectNext({ data: 'x', event: 'message', id: '41' })
    body.sendComplete()
    await time.settle()
    expect(control.readyState).toBe('connecting')
    await time.advance(2999)
    expect(server.waiting).toBe(0)
    await time.advance(1)
    const again = server.take()
    expect(header(again, 'last-event-id')).toBe('41')
    const body2 = await open(again, time)
    // the unterminated event of the first stream was discarded; an event without id keeps the last one
    body2.sendNext(text('data: y\n\n'))
    await events.expectNext({ data: 'y', event: 'message', id: '41' })
    await events.expectNoMessage()
  })

  it('uses the server\'s retry: field as the reconnection time, also for later connections', async () => {
    const { time, server, control, events } = client({ reconnectionTime: '10s' })
    await time.settle()
    const body = await open(server.take(), time)
    events.request(10)
    body.sendNext(text('retry: 1500\n\nretry: 1x\n\n'))
    await time.settle()
    expect(control.reconnectionTime).toBe(1500)
    body.sendComplete()
    await time.advance(1499)
    expect(server.waiting).toBe(0)
    await time.advance(1)
    const body2 = await open(server.take(), time)
    body2.sendError(new ResponseTruncatedError('feed.test:80', 'reset'))
    await time.advance(1499)
    expect(server.waiting).toBe(0)
    await time.advance(1)
    expect(server.waiting).toBe(1)
  })

  it('follows the id rules: an id with NUL is ignored, an empty id resets (no Last-Event-ID on reconnection)', async () => {
    const { time, server, events } = client({ reconnectionTime: 100 })
    await time.settle()
    let body = await open(server.take(), time)
    events.request(10)
    body.sendNext(text('id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n'))
    await events.expectNext({ data: 'a', event: 'message', id: '1' })
    await events.expectNext({ data: 'b', event: 'message', id: '1' })
    body.sendComplete()
    await time.advance(100)
    let ex = server.take()
    expect(header(ex, 'last-event-id')).toBe('1')
    body = await open(ex, time)
    body.sendNext(text('id\ndata: c\n\n'))
    await events.expectNext({ data: 'c', event: 'message' })
    body.sendComplete()
    await time.advance(100)
    ex = server.take()
    expect(ex.request.headers.has('last-event-id')).toBe(false)
    await open(ex, time)
  })

  it('sends a given initial last event ID, as UTF-8 on the wire', async () => {
    const { time, server } = client({ lastEventId: 'é-1' })
    await time.settle()
    const value = header(server.take(), 'last-event-id')!
    expect(Buffer.from(value, 'latin1').toString('utf8')).toBe('é-1')
  })

  it('completes on 204 and never reconnects, after delivering the events already parsed', async () => {
    const { time, server, control, events } = client({ reconnectionTime: 100 })
    await time.settle()
    const body = await open(server.take(), time)
    events.request(1)
    body.sendNext(text('data: 1\n\ndata: 2\n\n'))
    await events.expectNext({ data: '1', event: 'message' })
    body.sendComplete()
    await time.advance(100)
    server.take().respond(HttpResponse.empty(204))
    await time.settle()
    events.request(1)
    await events.expectNext({ data: '2', event: 'message' })
    await events.expectComplete()
    await expect(control.done).resolves.toBeUndefined()
    expect(control.readyState).toBe('closed')
    await time.advance(60_000)
    expect(server.requests).toHaveLength(2)
  })

  it.each([500, 404, 401])('fails with SseStatusError on %i and does not reconnect', async (status) => {
    const { time, server, control, events } = client({ reconnectionTime: 100 })
    await time.settle()
    server.take().respond(HttpResponse.text('no', status))
    const error = await events.expectError()
    expect(error).toBeInstanceOf(SseStatusError)
    expect(error).toMatchObject({ code: 'WEIR_SSE_CLIENT_STATUS', status, url: URL_ })
    await expect(control.done).rejects.toBe(error)
    await time.advance(60_000)
    expect(server.requests).toHaveLength(1)
  })

  it('fails with SseContentTypeError on a 200 that is not text/event-stream, and cancels its body', async () => {
    const { time, server, events } = client()
    await time.settle()
    const body = await open(server.take(), time, 'application/json')
    const error = await events.expectError()
    expect(error).toMatchObject({ code: 'WEIR_SSE_CLIENT_CONTENT_TYPE', contentType: 'application/json' })
    expect(error).toBeInstanceOf(SseContentTypeError)
    await body.expectCancellation()
  })

  it('accepts parameters on the content type (text/event-stream; charset=utf-8)', async () => {
    const { time, server, events } = client()
    await time.settle()
    const body = await open(server.take(), time, 'Text/Event-Stream; charset=utf-8')
    events.request(1)
    body.sendNext(text('data: ok\n\n'))
    await events.expectNext({ data: 'ok', event: 'message' })
  })

  it('reconnects after network errors with backoff, and fails after maxAttempts in a row', async () => {
    const { time, server, control, events } = client({ reconnectionTime: 1000, backoff: { factor: 2, max: '3s' }, maxAttempts: 4 })
    const refused = (): ConnectError => new ConnectError('feed.test:80', 'ECONNREFUSED', undefined)
    await time.settle()
    server.take().fail(refused())
    for (const delay of [1000, 2000, 3000]) {
      await time.advance(delay - 1)
      expect(server.waiting).toBe(0)
      await time.advance(1)
      server.take().fail(refused())
    }
    const error = await events.expectError()
    expect(error).toBeInstanceOf(SseAttemptsExhaustedError)
    expect(error).toMatchObject({ code: 'WEIR_SSE_CLIENT_ATTEMPTS_EXHAUSTED', attempts: 4, url: URL_ })
    expect((error as Error).cause).toBeInstanceOf(ConnectError)
    expect(control.readyState).toBe('closed')
  })

  it('counts attempts from the last stream that opened', async () => {
    const { time, server, events } = client({ reconnectionTime: 100, backoff: { factor: 1 }, maxAttempts: 2 })
    await time.settle()
    server.take().fail(new ConnectError('feed.test:80', 'ECONNREFUSED', undefined))
    await time.advance(100)
    const body = await open(server.take(), time)
    body.sendComplete()
    await time.advance(100)
    server.take().fail(new ConnectError('feed.test:80', 'ECONNREFUSED', undefined))
    await time.advance(100)
    server.take().fail(new ConnectError('feed.test:80', 'ECONNREFUSED', undefined))
    expect(await events.expectError()).toMatchObject({ attempts: 2 })
  })

  it('treats the statuses of reconnectOnStatus as network errors', async () => {
    const { time, server, events } = client({ reconnectionTime: 100, reconnectOnStatus: [503] })
    await time.settle()
    server.take().respond(HttpResponse.text('busy', 503))
    await time.advance(100)
    const body = await open(server.take(), time)
    events.request(1)
    body.sendNext(text('data: back\n\n'))
    await events.expectNext({ data: 'back', event: 'message' })
  })

  it('fails with the error of a request that cannot be sent, without reconnecting', async () => {
    const { time, server, events } = client()
    await time.settle()
    server.take().fail(new InvalidRequestError('bad header'))
    expect(await events.expectError()).toBeInstanceOf(InvalidRequestError)
    await time.advance(60_000)
    expect(server.requests).toHaveLength(1)
  })

  it('follows redirects per connection and reconnects to the original URL; credentials stay on their origin', async () => {
    const { time, server, events } = client({ reconnectionTime: 100, headers: Headers.from([['Authorization', 'Bearer t']]) })
    await time.settle()
    server.take().respond(new HttpResponse(307, Headers.from([['location', '/v2/events']])))
    await time.settle()
    const same = server.take()
    expect(same.request.target).toBe('http://feed.test/v2/events')
    expect(header(same, 'authorization')).toBe('Bearer t')
    same.respond(new HttpResponse(302, Headers.from([['location', 'http://other.test:8080/e']])))
    await time.settle()
    const other = server.take()
    expect(other.request.target).toBe('http://other.test:8080/e')
    expect(other.request.headers.has('authorization')).toBe(false)
    const body = await open(other, time)
    events.request(1)
    body.sendNext(text('id: 5\ndata: moved\n\n'))
    await events.expectNext({ data: 'moved', event: 'message', id: '5' })
    body.sendComplete()
    await time.advance(100)
    const back = server.take()
    expect(back.request.target).toBe(URL_)
    expect(header(back, 'last-event-id')).toBe('5')
    await open(back, time)
  })

  it('fails with SseRedirectError after maxRedirects, or on a Location that is not http(s)', async () => {
    const a = client({ maxRedirects: 2 })
    await a.time.settle()
    for (let i = 0; i < 3; i++) {
      a.server.take().respond(new HttpResponse(301, Headers.from([['location', `/r${i}`]])))
      await a.time.settle()
    }
    expect(await a.events.expectError()).toMatchObject({ code: 'WEIR_SSE_CLIENT_REDIRECT', reason: 'too-many', redirects: 2, location: '/r2', url: 'http://feed.test/r1' })
    const b = client()
    await b.time.settle()
    b.server.take().respond(new HttpResponse(308, Headers.from([['location', 'ftp://feed.test/x']])))
    const error = await b.events.expectError()
    expect(error).toBeInstanceOf(SseRedirectError)
    expect(error).toMatchObject({ reason: 'bad-location', location: 'ftp://feed.test/x' })
  })

  it('fails with SseEventTooLargeError when an event grows past maxEventSize, and cancels the body', async () => {
    const { time, server, events } = client({ maxEventSize: 16 })
    await time.settle()
    const body = await open(server.take(), time)
    events.request(2)
    body.sendNext(text('data: 0123456789\n\n: a comment and heartbeats do not count\n\n\n'))
    await events.expectNext({ data: '0123456789', event: 'message' })
    body.sendNext(text('data: 0123456789\ndata: 0'))
    const error = await events.expectError()
    expect(error).toBeInstanceOf(SseEventTooLargeError)
    expect(error).toMatchObject({ code: 'WEIR_SSE_CLIENT_EVENT_TOO_LARGE', limit: 16, actual: 18 })
    await body.expectCancellation()
  })

  it('reads the body only as fast as downstream takes events', async () => {
    const { time, server, events } = client()
    await time.settle()
    const body = await open(server.take(), time)
    expect(body.pending).toBe(0) // nobody asked for an event yet
    events.request(1)
    await time.settle()
    expect(body.pending).toBe(1)
    body.sendNext(text('data: 1\n\ndata: 2\n\n'))
    await events.expectNext({ data: '1', event: 'message' })
    expect(body.pending).toBe(0) // event 2 is waiting: the body is not read further
    events.request(1)
    await events.expectNext({ data: '2', event: 'message' })
    expect(body.pending).toBe(0)
    events.request(1)
    await time.settle()
    expect(body.pending).toBe(1)
  })

  it('cancels the body when downstream cancels, and reconnects no more', async () => {
    const { time, server, control, events } = client({ reconnectionTime: 100 })
    await time.settle()
    const body = await open(server.take(), time)
    events.cancel()
    await body.expectCancellation()
    await expect(control.done).resolves.toBeUndefined()
    await time.advance(60_000)
    expect(server.requests).toHaveLength(1)
  })

  it('close() while waiting to reconnect: completes, drops the timer, sends nothing more', async () => {
    const { time, server, control, events } = client({ reconnectionTime: 100 })
    await time.settle()
    const body = await open(server.take(), time)
    body.sendComplete()
    await time.advance(50)
    control.close()
    await events.expectComplete()
    expect(control.readyState).toBe('closed')
    expect(time.pendingTimers).toBe(0)
    await time.advance(60_000)
    expect(server.requests).toHaveLength(1)
  })

  it('close() while a request is on its way: its signal aborts, and a late response\'s body is cancelled', async () => {
    const { time, server, control, events } = client()
    await time.settle()
    const ex = server.take()
    expect(server.signals[0]!.aborted).toBe(false)
    control.close()
    await events.expectComplete()
    expect(server.signals[0]!.aborted).toBe(true) // the request in flight is abandoned (a pool drops it)
    const body = await open(ex, time)
    await body.expectCancellation()
  })

  it('close() before the stream runs closes it as soon as it starts', async () => {
    const time = new VirtualTime()
    const server = new FakeServer()
    const graph = SseClient.source(URL_, { connect: server.connect }).toMat(TestSink.probe<ServerSentEvent>(), Keep.both)
    const [control, events] = graph.run(time.materializer)
    control.close()
    control.close()
    await events.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('publishes connect, open, reconnect and close on diagnostics channels', async () => {
    const seen: string[] = []
    const handlers = Object.entries(sseClientChannels).map(([name, channel]) => {
      const h = (m: unknown): void => void seen.push(`${name} ${JSON.stringify(m, (k, v: unknown) => (k === 'error' ? (v as { code?: string } | undefined)?.code : v))}`)
      subscribe(channel.name as string, h)
      return () => unsubscribe(channel.name as string, h)
    })
    cleanups.push(() => handlers.forEach((off) => off()))
    const { time, server, events } = client({ reconnectionTime: 100 })
    await time.settle()
    const body = await open(server.take(), time)
    events.request(1)
    body.sendNext(text('id: 3\ndata: x\n\n'))
    await events.expectNext()
    body.sendComplete()
    await time.advance(100)
    server.take().respond(HttpResponse.text('gone', 410))
    await events.expectError()
    expect(seen).toEqual([
      `connect {"url":"${URL_}","attempt":1,"lastEventId":""}`,
      `open {"url":"${URL_}","status":200}`,
      `reconnect {"url":"${URL_}","delayMs":100,"reason":"end"}`,
      `connect {"url":"${URL_}","attempt":1,"lastEventId":"3"}`,
      `close {"url":"${URL_}","reason":"failed","error":"WEIR_SSE_CLIENT_STATUS"}`,
    ])
  })

  it('checks its options when the source is created', () => {
    const bad: [string | URL, SseClientOptions][] = [
      ['ftp://x/', {}],
      ['/relative', {}],
      [URL_, { backoff: { factor: 0.5 } }],
      [URL_, { maxAttempts: 0 }],
      [URL_, { maxRedirects: -1 }],
      [URL_, { reconnectionTime: 'soon' }],
      [URL_, { lastEventId: 'a\nb' }],
      [URL_, { reconnectOnStatus: [200] }],
      [URL_, { maxEventSize: 0 }],
    ]
    for (const [url, options] of bad) expect(() => SseClient.source(url, options), JSON.stringify([url, options])).toThrow(InvalidArgumentError)
    expect(() => SseClient.source(new URL(URL_), { maxAttempts: Infinity, maxRedirects: 0 })).not.toThrow()
  })
})

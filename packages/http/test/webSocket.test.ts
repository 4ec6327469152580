/**
 * WebSockets over real sockets with a real `ws` client: echo of text and binary, fragmented
 * sends, close codes both ways (the flow's ending closes the connection; the client's close code
 * reaches the flow), the upgraded connection in the server's counters and diagnostics, wss over
 * the HTTPS server, and subprotocol selection.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { Flow, Materializer, Source } from '@weir/core'
import { assertAllStagesStopped } from '@weir/testkit'
import { Http, WebSocket, Message, WebSocketClosed, webSocketChannels, type StrictMessage } from '../src/index.js'
import { clientClosed, collectingClient, nextMessage, openClient, recordingSink, serveWebSocket, watchCancel, type Cleanup } from './fixtures/webSocketServer.js'

const cleanups: Cleanup[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const echo = (): Flow<Message, Message, any> => Flow.create<Message>().map((m) => m)

describe('WebSocket echo', () => {
  it('echoes text as text and binary as binary', async () => {
    const server = await serveWebSocket(echo, cleanups)
    const ws = await openClient(server.url, cleanups)
    const first = nextMessage(ws)
    ws.send('hello')
    expect(await first).toEqual({ data: Buffer.from('hello'), isBinary: false })
    const second = nextMessage(ws)
    ws.send(Buffer.from([0, 1, 2, 255]))
    expect(await second).toEqual({ data: Buffer.from([0, 1, 2, 255]), isBinary: true })
    const closed = clientClosed(ws)
    ws.close(1000, 'done')
    expect(await closed).toEqual({ code: 1000, reason: 'done' })
    expect(await server.nextClose()).toMatchObject({ code: 1000, reason: 'done', by: 'client' })
  })

  it('serves many messages in order on one connection and plain HTTP on others', async () => {
    const server = await serveWebSocket(echo, cleanups)
    const ws = await openClient(server.url, cleanups)
    const got: string[] = []
    const all = new Promise<void>((resolve) =>
      ws.on('message', (d: Buffer) => {
        got.push(d.toString())
        if (got.length === 200) resolve()
      }),
    )
    for (let i = 0; i < 200; i++) ws.send(`m${i}`)
    await all
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`))
    const res = await fetch(`http://127.0.0.1:${server.binding.port}/plain`)
    expect(await res.text()).toBe('http /plain')
  })

  it('counts the connection as upgraded: its HTTP side closes with the reason upgraded, and it stays tracked until it closes', async () => {
    const server = await serveWebSocket(echo, cleanups)
    const ws = await openClient(server.url, cleanups)
    const echoed = nextMessage(ws)
    ws.send('x')
    await echoed
    expect(server.binding.counters()).toMatchObject({ upgradedOpen: 1, closesByReason: { upgraded: 1 } })
    ws.close()
    await server.nextClose()
    await expect.poll(() => server.binding.counters().upgradedOpen).toBe(0)
  })
})

describe('diagnostics', () => {
  it('publishes the opening and the closing of each WebSocket with the server connection id', async () => {
    const seen: [string, unknown][] = []
    const opened = (m: unknown): void => void seen.push(['opened', m])
    const closed = (m: unknown): void => void seen.push(['closed', m])
    webSocketChannels.opened.subscribe(opened)
    webSocketChannels.closed.subscribe(closed)
    cleanups.push(() => {
      webSocketChannels.opened.unsubscribe(opened)
      webSocketChannels.closed.unsubscribe(closed)
    })
    const server = await serveWebSocket(echo, cleanups)
    const ws = await openClient(`${server.url}?room=1`, cleanups)
    ws.close(1000, 'bye')
    await server.nextClose()
    expect(seen).toEqual([
      ['opened', { id: expect.any(Number), target: '/chat?room=1' }],
      ['closed', { id: (seen[0]![1] as { id: number }).id, code: 1000, reason: 'bye', by: 'client', error: undefined }],
    ])
  })
})

describe('the README example', () => {
  it('answers text with an echo prefix and binary as it is', async () => {
    const readmeEcho = Flow.create<Message>().map((m) => (m.kind === 'strict' && m.type === 'text' ? Message.text(`echo: ${m.text}`) : m))
    const server = await serveWebSocket(() => readmeEcho, cleanups)
    const ws = await openClient(server.url, cleanups)
    const got = nextMessage(ws)
    ws.send('hi')
    expect((await got).data.toString()).toBe('echo: hi')
  })
})

describe('fragmented messages', () => {
  it('sends a streamed text message as one message of several frames', async () => {
    const server = await serveWebSocket(
      () => Flow.create<Message>().map(() => Message.textStream(Source.from(['frag', 'men', 'ted']))),
      cleanups,
    )
    const ws = await openClient(server.url, cleanups)
    const got = nextMessage(ws)
    ws.send('go')
    expect(await got).toEqual({ data: Buffer.from('fragmented'), isBinary: false })
  })

  it('sends a streamed binary message, then goes on with the next message', async () => {
    const parts = [Buffer.from([1, 2]), Buffer.from([3]), Buffer.from([4, 5, 6])]
    const server = await serveWebSocket(
      () => Flow.create<Message>().mapConcat(() => [Message.binaryStream(Source.from(parts)), Message.text('after')]),
      cleanups,
    )
    const ws = await openClient(server.url, cleanups)
    const got: { data: Buffer; isBinary: boolean }[] = []
    const two = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        got.push({ data, isBinary })
        if (got.length === 2) resolve()
      }),
    )
    ws.send('go')
    await two
    expect(got).toEqual([
      { data: Buffer.from([1, 2, 3, 4, 5, 6]), isBinary: true },
      { data: Buffer.from('after'), isBinary: false },
    ])
  })

  it('collects a streamed message with Message.toStrict', async () => {
    const strict: StrictMessage = await Message.toStrict(Message.textStream(Source.from(['a', 'b'])))
    expect(strict).toEqual(Message.text('ab'))
    expect(await Message.toStrict(Message.binaryStream(Source.from([new Uint8Array([1]), new Uint8Array([2])])))).toEqual(Message.binary(Buffer.from([1, 2])))
  })
})

describe('closing', () => {
  it('closes with 1000 when the flow completes (a server-side cancellation), after the messages it sent', async () => {
    const server = await serveWebSocket(() => Flow.create<Message>().take(1), cleanups)
    const ws = await openClient(server.url, cleanups)
    const got = nextMessage(ws)
    const closed = clientClosed(ws)
    ws.send('only one')
    expect((await got).data.toString()).toBe('only one')
    expect(await closed).toEqual({ code: 1000, reason: '' })
    expect(await server.nextClose()).toMatchObject({ code: 1000, by: 'server' })
  })

  it('closes with 1011 when the flow fails, and reports the failure', async () => {
    const boom = new Error('boom')
    const server = await serveWebSocket(
      () =>
        Flow.create<Message>().map((m) => {
          if (m.kind === 'strict' && m.type === 'text' && m.text === 'fail') throw boom
          return m
        }),
      cleanups,
    )
    const ws = await openClient(server.url, cleanups)
    const closed = clientClosed(ws)
    ws.send('fail')
    expect((await closed).code).toBe(1011)
    expect(await server.nextClose()).toMatchObject({ code: 1011, by: 'server', error: boom })
  })

  it('gives the client close code to the flow: its received side fails with it, its outgoing side is cancelled with it', async () => {
    const rec = recordingSink()
    const out = watchCancel(Source.never<Message>())
    const server = await serveWebSocket(() => Flow.fromSinkAndSource(rec.sink, out.source), cleanups)
    const ws = await openClient(server.url, cleanups)
    ws.send('before closing')
    ws.close(4001, 'going home')
    const ended = await rec.ended
    expect(ended).toMatchObject({ kind: 'failed', error: { code: 'WEIR_HTTP_WS_CLOSED', closeCode: 4001, reason: 'going home' } })
    expect(ended.received).toEqual([Message.text('before closing')])
    const cause = await out.cancelled
    expect(cause).toBeInstanceOf(WebSocketClosed)
    expect(cause).toMatchObject({ closeCode: 4001, closeReason: 'going home', by: 'client' })
    expect(await server.nextClose()).toMatchObject({ code: 4001, by: 'client' })
  })

  it('fails the received side with 1006 when the client drops the connection without a close frame', async () => {
    const rec = recordingSink()
    const out = watchCancel(Source.never<Message>())
    const server = await serveWebSocket(() => Flow.fromSinkAndSource(rec.sink, out.source), cleanups)
    const ws = await openClient(server.url, cleanups)
    ws.terminate() // the socket is destroyed: no close frame
    expect(await rec.ended).toMatchObject({ kind: 'failed', error: { code: 'WEIR_HTTP_WS_CLOSED', closeCode: 1006 } })
    expect(await out.cancelled).toMatchObject({ closeCode: 1006, by: 'client' })
    expect(await server.nextClose()).toMatchObject({ code: 1006, by: 'client' })
    await expect.poll(() => server.binding.counters().upgradedOpen).toBe(0)
  })

  it('is not closed by the HTTP idle, request or header-read timeouts once switched', async () => {
    const server = await serveWebSocket(echo, cleanups, { settings: { keepAliveInterval: 'infinite' } }, { idleTimeout: '100ms', requestTimeout: '100ms', headerReadTimeout: '100ms' })
    const ws = await openClient(server.url, cleanups)
    await new Promise((r) => setTimeout(r, 400)) // several times every HTTP timeout
    const got = nextMessage(ws)
    ws.send('still open')
    expect((await got).data.toString()).toBe('still open')
    expect(server.closes).toEqual([])
  })

  it('completes the received side when the client closes normally', async () => {
    const rec = recordingSink()
    const server = await serveWebSocket(() => Flow.fromSinkAndSource(rec.sink, Source.never<Message>()), cleanups)
    const ws = await openClient(server.url, cleanups)
    ws.send(Buffer.from([7]))
    ws.close(1000)
    const ended = await rec.ended
    expect(ended.kind).toBe('completed')
    expect(ended.received).toEqual([Message.binary(Buffer.from([7]))])
    await server.nextClose()
  })

  it('reads and drops messages once the flow cancelled its received side, and keeps sending', async () => {
    const server = await serveWebSocket(
      () => Flow.fromSinkAndSource(Flow.create<Message>().take(1).to(rec.sink), Source.from(['a', 'b']).map((t): Message => Message.text(t)).concat(Source.never<Message>())),
      cleanups,
    )
    const rec = recordingSink()
    const { ws, waitFor } = await collectingClient(server.url, cleanups)
    for (let i = 0; i < 5; i++) ws.send(`in ${i}`)
    expect(await waitFor(2)).toEqual(['a', 'b'])
    expect(await rec.ended).toMatchObject({ kind: 'completed', received: [Message.text('in 0')] })
    const closed = clientClosed(ws)
    ws.close(1000)
    expect((await closed).code).toBe(1000)
  })

  it('closes with 1009 when a message is larger than maxMessageSize, and fails the received side with a protocol error', async () => {
    const rec = recordingSink()
    const server = await serveWebSocket(() => Flow.fromSinkAndSource(rec.sink, Source.never<Message>()), cleanups, { settings: { maxMessageSize: 1024 } })
    const ws = await openClient(server.url, cleanups)
    const closed = clientClosed(ws)
    ws.send(Buffer.alloc(1025))
    expect((await closed).code).toBe(1009)
    expect(await rec.ended).toMatchObject({ kind: 'failed', error: { code: 'WEIR_HTTP_WS_PROTOCOL', closeCode: 1009 } })
  })
})

describe('over TLS', () => {
  it('switches an HTTPS connection to a secure WebSocket (wss)', async () => {
    const fixtures = new URL('./fixtures/', import.meta.url)
    const key = readFileSync(new URL('localhost.key', fixtures))
    const cert = readFileSync(new URL('localhost.crt', fixtures))
    const mat = Materializer.create()
    const binding = await Http.newServerAt('127.0.0.1', 0)
      .withMaterializer(mat)
      .enableHttps({ key, cert })
      .bind((req) => WebSocket.handle(req, echo()))
    cleanups.push(async () => {
      await binding.terminate('1s')
      await assertAllStagesStopped(mat, { timeoutMs: 5000 })
      mat.shutdown()
    })
    const ws = await openClient(`wss://127.0.0.1:${binding.port}/secure`, cleanups, { ca: cert })
    const got = nextMessage(ws)
    ws.send('over tls')
    expect(await got).toEqual({ data: Buffer.from('over tls'), isBinary: false })
    const closed = clientClosed(ws)
    await binding.terminate('1s')
    expect((await closed).code).toBe(1001)
  })
})

describe('subprotocols', () => {
  it('selects the first subprotocol of the handler that the client offers', async () => {
    const server = await serveWebSocket(echo, cleanups, { subprotocols: ['v2', 'v1'] })
    const plain = await openClient(server.url, cleanups)
    expect(plain.protocol).toBe('')
    const ws2 = await openClient(server.url, cleanups, undefined, ['v1', 'v2'])
    expect(ws2.protocol).toBe('v2')
  })
})

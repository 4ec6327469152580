/**
 * WebSocketStage without sockets: a scripted stand-in for `ws.WebSocket` and virtual time, so the
 * keep-alive and close deadlines are checked to the millisecond, and backpressure in both
 * directions is checked frame by frame.
 */
import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { Flow, Sink, Source } from '@weir/core'
import { VirtualTime, assertAllStagesStopped } from '@weir/testkit'
import type { WebSocket as WsSocket } from 'ws'
import { HttpRequest } from '../model/HttpMessage.js'
import type { UpgradedConnection, UpgradedControl } from '../server/upgrade.js'
import { Message } from './Message.js'
import { webSocketSettings, type WebSocketSettingsInput } from './WebSocketSettings.js'
import type { WebSocketCloseInfo } from './errors.js'
import { WebSocketStage } from './WebSocketStage.js'

/** What the stage does to its `ws`, recorded; the test plays the peer by emitting events. */
class FakeWs extends EventEmitter {
  readonly CLOSED = 3
  readyState = 1
  bufferedAmount = 0
  pings = 0
  paused = false
  closedWith: [number, string] | undefined
  terminated = false
  readonly sent: { data: string | Uint8Array; fin: boolean; binary: boolean }[] = []
  readonly #pending: ((e: Error | null) => void)[] = []
  ping(): void {
    this.pings++
  }
  pause(): void {
    this.paused = true
  }
  resume(): void {
    this.paused = false
  }
  send(data: string | Uint8Array, opts: { binary: boolean; fin: boolean }, cb: (e: Error | null) => void): void {
    this.sent.push({ data, fin: opts.fin, binary: opts.binary })
    this.#pending.push(cb)
  }
  /** The socket flushed everything written so far. */
  flush(): void {
    this.bufferedAmount = 0
    for (const cb of this.#pending.splice(0)) cb(null)
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason]
  }
  terminate(): void {
    if (this.readyState === this.CLOSED) return
    this.terminated = true
    this.peerClosed(1006, '')
  }
  peerClosed(code: number, reason: string): void {
    this.readyState = this.CLOSED
    this.emit('close', code, Buffer.from(reason))
  }
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function run(flow: Flow<Message, Message, any>, settings: WebSocketSettingsInput = {}): { ws: FakeWs; time: VirtualTime; closes: WebSocketCloseInfo[]; released: () => number; control: () => UpgradedControl } {
  const time = new VirtualTime()
  const ws = new FakeWs()
  const closes: WebSocketCloseInfo[] = []
  let released = 0
  let control: UpgradedControl | undefined
  const connection: UpgradedConnection = {
    id: 7,
    request: HttpRequest.get('/ws'),
    socket: undefined as never,
    head: Buffer.alloc(0),
    materializer: time.materializer,
    registerControl: (c) => (control = c),
    closed: () => void released++,
  }
  const stage = new WebSocketStage({ ws: ws as unknown as WsSocket, settings: webSocketSettings(settings), connection, onClosed: (i) => void closes.push(i) })
  Flow.fromGraph(stage).join(flow).run(time.materializer)
  cleanups.push(async () => {
    await assertAllStagesStopped(time.materializer, { timeoutMs: 2000 })
    time.materializer.shutdown()
  })
  return { ws, time, closes, released: () => released, control: () => control! }
}

describe('keep-alive under virtual time', () => {
  it('pings every interval and terminates exactly at the pong timeout of an unanswered ping', async () => {
    let ended: unknown
    const flow = Flow.fromSinkAndSource(Sink.onComplete<Message>((r) => (ended = r)), Source.never<Message>())
    const { ws, time, closes, released } = run(flow, { keepAliveInterval: 1000, pongTimeout: 500 })
    await time.advance(999)
    expect(ws.pings).toBe(0)
    await time.advance(1)
    expect(ws.pings).toBe(1)
    await time.advance(499)
    expect(ws.terminated).toBe(false)
    await time.advance(1)
    expect(ws.terminated).toBe(true)
    expect(closes).toMatchObject([{ code: 1006, by: 'server', error: { code: 'WEIR_HTTP_WS_PONG_TIMEOUT', timeoutMs: 500 } }])
    expect(ended).toMatchObject({ _tag: 'Left', left: { code: 'WEIR_HTTP_WS_PONG_TIMEOUT' } })
    expect(released()).toBe(1)
  })

  it('a pong in time keeps the connection, and the next ping follows at the next interval', async () => {
    const { ws, time, control } = run(Flow.create<Message>(), { keepAliveInterval: 1000, pongTimeout: 500 })
    await time.advance(1000)
    ws.emit('pong')
    await time.advance(999)
    expect([ws.pings, ws.terminated]).toEqual([1, false])
    await time.advance(1)
    expect(ws.pings).toBe(2)
    control()('abort')
    await time.settle()
    expect(ws.terminated).toBe(true)
  })
})

describe('closing under virtual time', () => {
  it('sends 1000 when the flow completes and terminates at exactly the close timeout if the peer never answers', async () => {
    const { ws, time, closes } = run(Flow.fromSinkAndSource(Sink.ignore<Message>(), Source.empty<Message>()), { closeTimeout: 300 })
    await time.settle()
    expect(ws.closedWith).toEqual([1000, ''])
    await time.advance(299)
    expect(ws.terminated).toBe(false)
    await time.advance(1)
    expect(ws.terminated).toBe(true)
    expect(closes).toMatchObject([{ code: 1006, by: 'server' }])
  })

  it('closes with 1001 on graceful termination and stops when the peer answers', async () => {
    const { ws, time, control, closes, released } = run(Flow.create<Message>())
    await time.settle()
    control()('graceful')
    await time.settle()
    expect(ws.closedWith).toEqual([1001, 'server shutting down'])
    ws.peerClosed(1001, 'server shutting down')
    await time.settle()
    expect(closes).toMatchObject([{ code: 1001, by: 'server' }])
    expect(released()).toBe(1)
  })
})

describe('a socket that closes at once', () => {
  it('is not missed when it closes before the stage started', async () => {
    let ended: unknown
    const { ws, time, closes, released } = run(Flow.fromSinkAndSource(Sink.onComplete<Message>((r) => (ended = r)), Source.never<Message>()))
    ws.peerClosed(1006, '') // synchronously after materialization: the stage has not run yet
    await time.settle()
    expect(closes).toMatchObject([{ code: 1006, by: 'client' }])
    expect(ended).toMatchObject({ _tag: 'Left', left: { code: 'WEIR_HTTP_WS_CLOSED', closeCode: 1006 } })
    expect(released()).toBe(1)
  })
})

describe('backpressure', () => {
  it('pulls the next message only once the frames over the send buffer limit were flushed', async () => {
    let pulled = 0
    const source = Source.from([1, 2, 3]).map((i) => {
      pulled++
      return Message.text(`m${i}`)
    })
    const { ws, time } = run(Flow.fromSinkAndSource(Sink.ignore<Message>(), source), { sendBufferLimit: 10 })
    ws.bufferedAmount = 11 // every write leaves the socket over the limit
    await time.settle()
    expect(ws.sent.map((s) => s.data)).toEqual(['m1'])
    expect(pulled).toBeLessThanOrEqual(2) // at most one element prefetched by the fused source, none sent
    ws.flush()
    ws.bufferedAmount = 11
    await time.settle()
    expect(ws.sent.map((s) => s.data)).toEqual(['m1', 'm2'])
    ws.flush()
    await time.settle()
    expect(ws.sent.map((s) => s.data)).toEqual(['m1', 'm2', 'm3'])
    expect(ws.closedWith).toEqual([1000, ''])
    ws.peerClosed(1000, '')
  })

  it('pauses reading while received messages wait for demand, and resumes when they are taken', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const got: string[] = []
    const slow = Flow.create<Message>()
      .mapAsync(1, async (m) => {
        await gate
        got.push(m.kind === 'strict' && m.type === 'text' ? m.text : '?')
      })
      .to(Sink.ignore())
    const { ws, time } = run(Flow.fromSinkAndSource(slow, Source.never<Message>()))
    await time.settle()
    expect(ws.paused).toBe(false) // demand from the start: reading
    for (const t of ['a', 'b', 'c', 'd']) ws.emit('message', Buffer.from(t), false)
    await time.settle()
    expect(ws.paused).toBe(true)
    release()
    await time.settle()
    expect(got).toEqual(['a', 'b', 'c', 'd'])
    expect(ws.paused).toBe(false)
    ws.peerClosed(1000, '')
  })
})

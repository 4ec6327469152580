/**
 * One open WebSocket (a `ws.WebSocket` on a handed-over socket) as a `Flow<Message, Message>`:
 * messages to send in, messages received out. It is joined with the handler's flow.
 *
 * - Emits when a message was received and downstream pulled. Reading from the socket is paused
 *   while received messages wait for demand (the peer's sends are then held back by TCP).
 * - Backpressures when the socket holds more than `sendBufferLimit` bytes not yet flushed: the
 *   next outgoing message is pulled once that write was flushed. A streamed message is sent one
 *   fragment at a time under the same bound.
 * - Completes (the received side) when the peer closed with 1000, 1001 or no status, or when the
 *   server closed; fails with {@link WebSocketClosedError} for any other code or a dropped
 *   connection, {@link WebSocketProtocolError} when the peer broke the protocol, and
 *   {@link PongTimeoutError} when a ping went unanswered. Messages received before the close are
 *   delivered first.
 * - Cancels (the outgoing side) with {@link WebSocketClosed} (close code, who closed) when the
 *   connection closed before the flow finished sending.
 *
 * The flow's ending closes the connection: outgoing completion → close 1000; outgoing failure →
 * 1011; received side cancelled alone → further messages are read and dropped (the flow may go
 * on sending). Keep-alive: a ping every `keepAliveInterval`, the connection terminated when its
 * pong is not back within `pongTimeout`. After the server's close frame the peer has
 * `closeTimeout` to answer before the socket is destroyed. Timers come from the materializer's
 * scheduler. The stage stops when the socket closed; `postStop` terminates the socket if it is
 * still open and reports the connection closed.
 */
import { FlowShape, GraphStageLogic, GraphStage, Inlet, Outlet, SubSinkInlet, isNonFailureCancellation, type AsyncCallback } from '@weir/core'
import type { WebSocket as WsSocket } from 'ws'
import type { UpgradedConnection } from '../server/upgrade.js'
import { channels } from './diagnostics.js'
import { PongTimeoutError, WebSocketClosed, WebSocketClosedError, WebSocketProtocolError, type ClosedBy, type WebSocketCloseInfo } from './errors.js'
import { Message, type StreamedBinaryMessage, type StreamedTextMessage } from './Message.js'
import type { WebSocketSettings } from './WebSocketSettings.js'

const KEEPALIVE = 'keepalive'
const PONG = 'pong'
const CLOSE = 'close'
/** The close codes that end the received side normally: normal, going away, no status (RFC 6455 §7.4.1). */
const NORMAL_CLOSE = new Set([1000, 1001, 1005])
/** ws parser errors → the close code ws sent for them (RFC 6455 §7.4.1). */
const PROTOCOL_CLOSE_CODES: Readonly<Record<string, number>> = { WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009, WS_ERR_INVALID_UTF8: 1007 }

type CloseState =
  | { readonly kind: 'open' }
  /** the server sent its close frame */
  | { readonly kind: 'closing'; readonly code: number; readonly reason: string; readonly error: unknown }
  | { readonly kind: 'closed'; readonly info: WebSocketCloseInfo }

export interface WebSocketStageContext {
  readonly ws: WsSocket
  readonly settings: WebSocketSettings
  readonly connection: UpgradedConnection
  readonly onClosed: ((info: WebSocketCloseInfo) => void) | undefined
}

class WebSocketLogic extends GraphStageLogic {
  readonly in: Inlet<Message>
  readonly out: Outlet<Message>
  readonly #ws: WsSocket
  readonly #s: WebSocketSettings
  readonly #received: Message[] = []
  #readingPaused = true
  /** The received side was cancelled: read and drop. */
  #dropIncoming = false
  /** How the received side ends, once the socket closed (after the queued messages). */
  #incomingEnd: { readonly error: unknown } | undefined
  #state: CloseState = { kind: 'open' }
  /** The streamed message being sent. */
  #sending: SubSinkInlet<string | Uint8Array> | undefined
  /** The flow completed its outgoing side (after the message being streamed, if any). */
  #outgoingDone = false
  /** Waiting for writes to flush before taking the next message or fragment. */
  #waitingFlush = false
  /** Frames handed to ws whose write callback has not run yet. */
  #unflushed = 0
  #awaitingPong = false
  #vanished = false
  #protocolError: WebSocketProtocolError | undefined
  readonly #onFlushed: AsyncCallback<Error | undefined>
  /** The write callback of every frame (Node passes `null` on success, an error otherwise). */
  readonly #flushed: (e?: Error | null) => void

  constructor(
    shape: FlowShape<Message, Message>,
    readonly ctx: WebSocketStageContext,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.#ws = ctx.ws
    this.#s = ctx.settings
    this.#onFlushed = this.getAsyncCallback((e: Error | undefined) => this.#afterFlush(e))
    this.#flushed = (e?: Error | null): void => {
      this.#unflushed--
      const error = e instanceof Error ? e : undefined
      if (this.#waitingFlush || error !== undefined) this.#onFlushed.invoke(error)
    }
    this.setHandler(this.out, {
      onPull: () => this.#deliver(),
      onDownstreamFinish: (cause) => this.#onIncomingCancelled(cause),
    })
    this.setHandler(this.in, {
      onPush: () => this.#send(this.grab(this.in)),
      onUpstreamFinish: () => {
        this.#outgoingDone = true
        if (this.#sending === undefined) this.#close(1000, '', undefined)
      },
      onUpstreamFailure: (e) => {
        this.log.error(`websocket ${this.ctx.connection.id}: the handler flow failed`, e)
        this.#sending?.cancel(e)
        this.#sending = undefined
        this.#close(1011, 'internal error', e)
      },
    })
    this.#listen()
  }

  /**
   * Listen to the socket at once, when the stage is created (synchronously after the handshake):
   * a close or error before the stage starts is queued for it, never missed.
   */
  #listen(): void {
    const ws = this.#ws
    const onMessage = this.getAsyncCallback(([data, isBinary]: readonly [Buffer, boolean]) => this.#onMessage(data, isBinary))
    const onClose = this.getAsyncCallback(([code, reason]: readonly [number, Buffer]) => this.#onClose(code, reason.toString('utf8')))
    const onError = this.getAsyncCallback((e: Error) => this.#onError(e))
    const onPong = this.getAsyncCallback(() => {
      this.#awaitingPong = false
      this.cancelTimer(PONG)
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => void onMessage.invoke([data, isBinary]))
    ws.on('close', (code: number, reason: Buffer) => void onClose.invoke([code, reason]))
    ws.on('error', (e: Error) => void onError.invoke(e))
    ws.on('pong', () => void onPong.invoke())
    ws.pause() // the socket came paused; ws must agree, or its parser's drain would resume it
    const control = this.getAsyncCallback((mode: 'graceful' | 'abort') => {
      if (mode === 'graceful') this.#close(1001, 'server shutting down', undefined)
      else this.#terminate()
    })
    this.ctx.connection.registerControl((mode) => void control.invoke(mode))
  }

  override preStart(): void {
    this.setKeepGoing(true) // the stage lives until the socket closed, whatever the ports do
    const every = this.#s.keepAliveInterval
    if (Number.isFinite(every)) this.scheduleAtFixedRate(KEEPALIVE, every, every)
    if (channels.opened.hasSubscribers) channels.opened.publish({ id: this.ctx.connection.id, target: this.ctx.connection.request.target })
    this.pull(this.in)
  }

  // ---- received messages ----

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#dropIncoming) return
    const msg = isBinary ? Message.binary(data) : Message.text(data.toString('utf8'))
    if (this.#received.length === 0 && this.isAvailable(this.out)) return this.push(this.out, msg)
    this.#received.push(msg)
    this.#pauseReading()
  }

  #deliver(): void {
    const next = this.#received.shift()
    if (next !== undefined) this.push(this.out, next)
    if (this.#received.length > 0) return
    if (this.#incomingEnd !== undefined) return this.#endIncoming()
    this.#resumeReading()
  }

  #pauseReading(): void {
    if (this.#readingPaused) return
    this.#readingPaused = true
    this.#ws.pause()
  }

  #resumeReading(): void {
    if (!this.#readingPaused || this.#state.kind === 'closed') return
    this.#readingPaused = false
    this.#ws.resume()
  }

  #onIncomingCancelled(cause: unknown): void {
    this.#received.length = 0
    if (!isNonFailureCancellation(cause)) return this.#close(1011, 'internal error', cause)
    this.#dropIncoming = true
    this.#resumeReading() // keep reading: the close frame and pongs must still arrive
    if (this.#incomingEnd !== undefined) this.#stopIfDone()
  }

  // ---- outgoing messages ----

  #send(msg: Message): void {
    if (this.#state.kind !== 'open') return // closing: nothing more can be sent
    if (msg.kind === 'strict') {
      if (msg.type === 'text') this.#write(msg.text, false, true)
      else this.#write(msg.data, true, true)
      return this.#next()
    }
    this.#stream(msg)
  }

  /** Write one frame; while the socket holds more than the limit, wait for writes to flush. */
  #write(data: string | Uint8Array, binary: boolean, fin: boolean): void {
    const ws = this.#ws
    this.#unflushed++
    ws.send(data, { binary, fin }, this.#flushed)
    if (ws.bufferedAmount > this.#s.sendBufferLimit) this.#waitingFlush = true
  }

  #stream(msg: StreamedTextMessage | StreamedBinaryMessage): void {
    const binary = msg.type === 'binary'
    const inlet = new SubSinkInlet<string | Uint8Array>(this, 'WebSocket.fragments')
    this.#sending = inlet
    inlet.setHandler({
      onPush: () => {
        const part = inlet.grab()
        if (this.#state.kind === 'open') this.#write(part, binary, false)
        this.#next()
      },
      onUpstreamFinish: () => {
        this.#sending = undefined
        if (this.#state.kind === 'open') this.#write(binary ? EMPTY : '', binary, true)
        this.#next()
      },
      onUpstreamFailure: (e) => {
        // half a message was sent: the connection cannot carry on
        this.#sending = undefined
        this.log.error(`websocket ${this.ctx.connection.id}: a streamed message failed`, e)
        if (!this.isClosed(this.in)) this.cancel(this.in, e)
        this.#close(1011, 'internal error', e)
      },
    })
    if (msg.type === 'binary') msg.dataStream.runWith(inlet.sink, this.materializer)
    else msg.textStream.runWith(inlet.sink, this.materializer)
    inlet.pull()
  }

  /** Take the next fragment or message, unless a write must flush first. */
  #next(): void {
    if (this.#waitingFlush || this.#state.kind !== 'open') return
    const inlet = this.#sending
    if (inlet !== undefined) {
      if (!inlet.isClosed && !inlet.hasBeenPulled) inlet.pull()
      return
    }
    if (this.#outgoingDone) return this.#close(1000, '', undefined)
    if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
  }

  #afterFlush(e: Error | undefined): void {
    if (e !== undefined || !this.#waitingFlush) return // a failed write: the socket closes and says so
    // below the limit, or all our frames flushed (what remains is a control frame)
    if (this.#ws.bufferedAmount > this.#s.sendBufferLimit && this.#unflushed > 0) return
    this.#waitingFlush = false
    this.#next()
  }

  // ---- closing ----

  /** Send the close frame (once); the socket closes when the peer answers, or at the close timeout. */
  #close(code: number, reason: string, error: unknown): void {
    if (this.#state.kind !== 'open') return
    this.#state = { kind: 'closing', code, reason, error }
    this.#sending?.cancel(new WebSocketClosed(code, reason, 'server'))
    this.#sending = undefined
    if (!this.isClosed(this.in)) this.cancel(this.in, new WebSocketClosed(code, reason, 'server'))
    this.cancelTimer(KEEPALIVE)
    this.cancelTimer(PONG)
    this.#ws.close(code, reason)
    this.#resumeReading() // the peer's close frame must be read
    if (Number.isFinite(this.#s.closeTimeout)) this.scheduleOnce(CLOSE, this.#s.closeTimeout)
  }

  #terminate(): void {
    this.#ws.terminate() // the 'close' event follows
  }

  #onError(e: Error): void {
    const wsCode = (e as { code?: string }).code ?? 'WS_ERR'
    this.#protocolError ??= new WebSocketProtocolError(PROTOCOL_CLOSE_CODES[wsCode] ?? 1002, wsCode, { cause: e })
  }

  #onClose(code: number, reason: string): void {
    const prior = this.#state
    if (prior.kind === 'closed') return
    const by: ClosedBy = prior.kind === 'closing' || this.#vanished || this.#protocolError !== undefined ? 'server' : 'client'
    let error: unknown = prior.kind === 'closing' ? prior.error : undefined
    let incomingError: unknown
    if (this.#vanished) incomingError = error = new PongTimeoutError(this.#s.pongTimeout)
    else if (this.#protocolError !== undefined) incomingError = error = this.#protocolError
    else if (by === 'client' && !NORMAL_CLOSE.has(code)) incomingError = new WebSocketClosedError(code, reason)
    const info: WebSocketCloseInfo = error === undefined ? { code, reason, by } : { code, reason, by, error }
    this.#state = { kind: 'closed', info }
    this.cancelTimer(KEEPALIVE)
    this.cancelTimer(PONG)
    this.cancelTimer(CLOSE)
    this.#sending?.cancel(new WebSocketClosed(code, reason, by))
    this.#sending = undefined
    if (!this.isClosed(this.in)) this.cancel(this.in, new WebSocketClosed(code, reason, by))
    this.#incomingEnd = { error: incomingError }
    if (this.#received.length === 0 || this.isClosed(this.out)) this.#endIncoming()
  }

  #endIncoming(): void {
    const end = this.#incomingEnd!
    if (!this.isClosed(this.out)) {
      if (end.error === undefined) this.complete(this.out)
      else this.fail(this.out, end.error)
    }
    this.#stopIfDone()
  }

  #stopIfDone(): void {
    if (this.#state.kind === 'closed') this.completeStage()
  }

  // ---- time ----

  protected override onTimer(key: unknown): void {
    if (key === KEEPALIVE) {
      if (this.#awaitingPong || this.#state.kind !== 'open') return
      this.#awaitingPong = true
      this.#ws.ping()
      this.scheduleOnce(PONG, this.#s.pongTimeout)
    } else if (key === PONG) {
      if (!this.#awaitingPong) return
      if (channels.pongTimeout.hasSubscribers) channels.pongTimeout.publish({ id: this.ctx.connection.id, ms: this.#s.pongTimeout })
      this.#vanished = true
      this.#terminate()
    } else if (key === CLOSE) {
      this.#terminate()
    }
  }

  override postStop(): void {
    const ws = this.#ws
    if (ws.readyState !== ws.CLOSED) ws.terminate()
    const info: WebSocketCloseInfo = this.#state.kind === 'closed' ? this.#state.info : { code: 1006, reason: '', by: 'server' }
    if (channels.closed.hasSubscribers) channels.closed.publish({ id: this.ctx.connection.id, code: info.code, reason: info.reason, by: info.by, error: info.error })
    try {
      this.ctx.onClosed?.(info)
    } finally {
      this.ctx.connection.closed()
    }
  }
}

const EMPTY = new Uint8Array(0)

/** The blueprint of one WebSocket's stage; materialized once per upgraded connection. */
export class WebSocketStage extends GraphStage<FlowShape<Message, Message>> {
  readonly shape = new FlowShape(new Inlet<Message>('WebSocket.in'), new Outlet<Message>('WebSocket.out'))
  constructor(readonly ctx: WebSocketStageContext) {
    super()
  }
  createLogic(): GraphStageLogic {
    return new WebSocketLogic(this.shape, this.ctx)
  }
}

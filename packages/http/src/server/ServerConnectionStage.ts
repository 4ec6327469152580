/**
 * The server side of one HTTP/1.1 connection, between the TCP stage and the handler:
 *
 * ```
 *            +--------------------- ServerConnectionStage ---------------------+
 *  bytes  ~> | bytesIn  → parser → exchanges (pipelined, in order) → requestsOut | ~> HttpRequest
 *  (TCP)     |                                                                 |      (handler)
 *  bytes  <~ | bytesOut ← renderer ← responses matched to exchanges ← responsesIn| <~ HttpResponse
 *            +-----------------------------------------------------------------+
 * ```
 *
 * It owns everything about the connection: keep-alive (the `Connection` decision, always written
 * on the wire), pipelining (at most `pipeliningLimit` exchanges, responses in request order),
 * request bodies as sub-streams backpressured to the socket (read only as fast as the handler
 * consumes them), early responses (drain a small known remainder, or announce close and linger),
 * the idle, request, header-read and linger timeouts, and what a client FIN or RST means for a
 * response in flight (DESIGN §1 C): a FIN cancels a streamed response (policy `halfClosePolicy`),
 * an RST cancels it — both with a {@link ClientGone} cause, so its cleanup runs at once.
 *
 * A handler may answer an upgrade request with an {@link UpgradeResponse}: when its turn to be
 * written comes, the connection stops speaking HTTP, and once the earlier responses' bytes went
 * to the TCP stage the socket is handed over (with the bytes received past the request) through
 * `ctx.handOver`; the connection closes with the reason `'upgraded'` (see upgrade.ts).
 *
 * Closing is always graceful unless the peer reset: the last response says `Connection: close`,
 * the outbound side completes (FIN), and the connection keeps reading and discarding until the
 * client's FIN or the linger timeout — never an abortive close that turns unread bytes into an RST.
 */
import {
  BidiShape,
  GraphStage,
  GraphStageLogic,
  GraphStageWithMaterializedValue,
  Inlet,
  type InHandler,
  type OutHandler,
  IdleTimeoutError,
  Outlet,
  SubSinkInlet,
  type SubSinkInletHandler,
  SubSourceOutlet,
  NoMoreElementsNeeded,
  StreamDetachedError,
  WeirError,
  type AsyncCallback,
} from '@weir/core'
import { channels, type ServerCloseReason, type ServerCounters, type WireTrace } from '../diagnostics.js'
import { Headers } from '../model/Headers.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpRequest, type HttpResponse } from '../model/HttpMessage.js'
import type { RequestEvent, RequestStart } from '../parsing/events.js'
import { framingOf, renderChunk, renderHead, renderStrict, LAST_CHUNK, type ResponseContext } from '../rendering/renderResponse.js'
import { ClientGone, type ClientGoneReason } from './ClientGone.js'
import { strictBodyOf } from '../connection/strictBody.js'
import { ServedRequest } from './servedRequest.js'
import { ConnectionResetError } from '../tcp/errors.js'
import { clockDate } from './clock.js'
import { errorResponse, handlerFailureResponse, headerReadTimeoutResponse, requestTimeoutResponse } from './errorResponses.js'
import { BODY_DISCARD, BODY_DONE, BODY_STRICT, type Exchange } from './exchange.js'
import type { ServerSettings } from './ServerSettings.js'
import { UpgradeResponse } from './upgrade.js'
import { firstTimeout, type ConnectionTimers, type TimerEntry } from './connectionTimers.js'

/** What the connection needs from a request parser. */
export interface RequestParserLike {
  /** Parse `chunk`; the events it completed. */
  feed(chunk: Uint8Array): readonly RequestEvent[]
  /** The peer closed its side: the events for what is left (an error when a message was cut short). */
  end(): readonly RequestEvent[]
  /** After a request that may switch protocols, parsing pauses; the server declined the switch: go on. */
  resume(): readonly RequestEvent[]
  /** After a request that may switch protocols, the switch was accepted: the bytes received past it. */
  detach(): readonly Uint8Array[]
}

/** The linger timeout expired: the connection is destroyed (abortively) after a graceful attempt. */
export class LingerTimeoutError extends WeirError {
  constructor(readonly timeoutMs: number) {
    super('WEIR_HTTP_LINGER_TIMEOUT', `The client did not close within the linger timeout of ${timeoutMs} ms`)
  }
}

/** An early response keeps the connection if at most this much of the request body is left to drain. */
const EARLY_RESPONSE_DRAIN_LIMIT = 64 * 1024

// the connection's timeouts: deadlines sharing one scheduler timer (see `#armTimeout`)
const IDLE = 0
const HEADER_READ = 1
const LINGER = 2
const REQUEST = 3
const TIMEOUTS = 'timeouts'
const CONTINUE_100 = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1')
/** Every request's `setRequestTimeout` hook: one function, reaching the connection through the request (no closure per connection). */
const SET_REQUEST_TIMEOUT = (req: HttpRequest, ms: number): void => (req.connection as ServedRequest | undefined)?.timeouts?._overrideTimeout(req, ms)

/** What a connection holds once every parsed event was delivered. */
const NO_EVENTS: readonly RequestEvent[] = []

export interface ConnectionContext {
  readonly id: number
  readonly remote: string
  /** The client's IP address (without the port), for `HttpRequest.remoteAddress`. */
  readonly remoteAddress?: string
  /** The connection is TLS (`HttpRequest.secure`). */
  readonly secure?: boolean
  readonly settings: ServerSettings
  readonly counters: ServerCounters
  readonly parser: () => RequestParserLike
  readonly trace?: WireTrace | undefined
  /** Told once, with the reason, when the connection stage stops. */
  readonly onClosed: (reason: ServerCloseReason) => void
  /** Termination: the server asks the connection to close after its in-flight work ('graceful'), or now ('abort'). */
  readonly registerControl: (control: (mode: 'graceful' | 'abort') => void) => void
  /**
   * Hand the connection over to another protocol: called once the HTTP side is done with it, just
   * before the stage stops (the socket follows when the TCP stage sees the outbound side complete).
   * Without it, upgrade responses are refused with a 500.
   */
  readonly handOver?: ((upgrade: UpgradeResponse, request: HttpRequest, head: readonly Uint8Array[]) => void) | undefined
  /**
   * The server's queue for the first timer of its connections (see connectionTimers.ts); without
   * it, or with another delay than this connection's first, the connection arms its own timer.
   */
  readonly timers?: ConnectionTimers | undefined
}

export type ServerShape = BidiShape<Uint8Array, HttpRequest, HttpResponse, Uint8Array>

/**
 * Gives a connection materialized from a shared blueprint (see {@link SharedServerConnectionStage})
 * its context, right after `run()` and before the stream starts.
 */
export interface ConnectionContextSlot {
  provide(ctx: ConnectionContext): void
}

class ServerConnectionLogic extends GraphStageLogic implements ConnectionContextSlot, TimerEntry {
  readonly bytesIn: Inlet<Uint8Array>
  readonly requestsOut: Outlet<HttpRequest>
  readonly responsesIn: Inlet<HttpResponse>
  readonly bytesOut: Outlet<Uint8Array>
  ctx!: ConnectionContext
  #s!: ServerSettings
  /** The connection's wire trace, if any (a field: read for every chunk written). */
  #trace: WireTrace | undefined = undefined
  #parser!: RequestParserLike
  #events: readonly RequestEvent[] = []
  #ei = 0
  #seq = 0
  /** The exchange whose body the parser is delivering. */
  #reading: Exchange | undefined
  /** Exchanges whose response was not written yet, in request order. */
  readonly #inflight: Exchange[] = []
  /** The exchange whose streamed response is being written. */
  #writing: { readonly inlet: SubSinkInlet<Uint8Array> } | undefined
  readonly #out: Uint8Array[] = []
  /** No new request is accepted; the connection closes after the responses in flight. */
  #closing = false
  /** The last response was written and the outbound side completed (FIN sent). */
  #outputDone = false
  #reason: ServerCloseReason | undefined
  #peer: 'fin' | 'rst' | undefined
  #lastActivity = 0
  /** When the head of the request being received started (scheduler ms), while it is incomplete. */
  #headerStartedAt: number | undefined = undefined
  #requestsSeen = 0
  /** An upgrade response was accepted: HTTP is over, the socket goes to its new owner once written out. */
  #upgrading: { readonly res: UpgradeResponse; readonly request: HttpRequest; readonly head: Uint8Array[]; handed: boolean } | undefined = undefined
  #secure = false

  /** Without a context, it must be provided before the stream starts. */
  constructor(shape: ServerShape, ctx: ConnectionContext | undefined) {
    super(shape)
    this.bytesIn = shape.in1
    this.requestsOut = shape.out1
    this.responsesIn = shape.in2
    this.bytesOut = shape.out2
    if (ctx !== undefined) this.provide(ctx)
    this.setHandler(this.bytesIn, new ServerConnectionLogic.#BytesIn(this))
    this.setHandler(this.requestsOut, new ServerConnectionLogic.#RequestsOut(this))
    this.setHandler(this.responsesIn, new ServerConnectionLogic.#ResponsesIn(this))
    this.setHandler(this.bytesOut, new ServerConnectionLogic.#BytesOut(this))
  }

  // the port handlers: one small object each, no closures (a connection creates four)
  static readonly #BytesIn = class implements InHandler {
    constructor(readonly l: ServerConnectionLogic) {}
    onPush(): void {
      this.l.#onBytes()
    }
    onUpstreamFinish(): void {
      this.l.#onPeerFin()
    }
    onUpstreamFailure(e: unknown): void {
      this.l.#onPeerFailure(e)
    }
  }
  static readonly #RequestsOut = class implements OutHandler {
    constructor(readonly l: ServerConnectionLogic) {}
    onPull(): void {
      this.l.#process()
    }
    onDownstreamFinish(): void {
      this.l.#closeAfterInflight('connection-close')
    }
  }
  static readonly #ResponsesIn = class implements InHandler {
    constructor(readonly l: ServerConnectionLogic) {}
    onPush(): void {
      this.l.#onResponse(this.l.grab(this.l.responsesIn))
    }
    onUpstreamFinish(): void {
      this.l.#onHandlerDone(undefined)
    }
    onUpstreamFailure(e: unknown): void {
      this.l.#onHandlerDone(e)
    }
  }
  /** Writes a streamed response's entity as it arrives (one object: the handler of its sub-sink and the connection's record of it). */
  static readonly #EntityWriter = class implements SubSinkInletHandler {
    constructor(
      readonly l: ServerConnectionLogic,
      // the exchange's number only: a long stream (SSE) does not keep its request and response alive
      readonly seq: number,
      readonly inlet: SubSinkInlet<Uint8Array>,
      readonly chunked: boolean,
      readonly status: number,
    ) {}
    onPush(): void {
      const data = this.inlet.grab()
      const l = this.l
      l.#emit(this.chunked ? renderChunk(data) : data)
      if (l.#out.length === 0 && !this.inlet.isClosed) this.inlet.pull()
    }
    onUpstreamFinish(): void {
      const l = this.l
      if (this.chunked) l.#emit(LAST_CHUNK)
      l.#writing = undefined
      if (channels.responseEnd.hasSubscribers) channels.responseEnd.publish({ id: l.ctx.id, seq: this.seq, status: this.status })
      l.#write()
    }
    onUpstreamFailure(e: unknown): void {
      // a response that fails mid-stream cannot be repaired: the client must see a broken message
      const l = this.l
      l.log.error(`connection ${l.ctx.id}: response entity failed`, e)
      l.#writing = undefined
      l.#abort('handler-failure', e)
    }
  }
  static readonly #BytesOut = class implements OutHandler {
    constructor(readonly l: ServerConnectionLogic) {}
    onPull(): void {
      this.l.#flush()
    }
    onDownstreamFinish(cause: unknown): void {
      this.l.#onWriteSideGone(cause)
    }
  }

  provide(ctx: ConnectionContext): void {
    if (this.ctx !== undefined) throw new Error(`${this.toString()} already has its connection context`)
    this.ctx = ctx
    this.#s = ctx.settings
    this.#parser = ctx.parser()
    this.#secure = ctx.secure ?? false
    this.#trace = ctx.trace
  }

  override preStart(): void {
    if (this.ctx === undefined) throw new Error(`${this.toString()} was started without a connection context`)
    this.ctx.counters.connectionsOpen++
    this.ctx.counters.connectionsAccepted++
    // from outside: termination, and the server's timer queue (a deadline)
    const control = this.getAsyncCallback(this.#onControl)
    this.#control = control
    this.ctx.registerControl((mode) => control.invoke(mode))
    if (channels.connectionAccepted.hasSubscribers) channels.connectionAccepted.publish({ id: this.ctx.id, remote: this.ctx.remote })
    this.#touch()
    this.#startTimeouts()
    this.#armIdle(this.#s.idleTimeout)
    this.pull(this.bytesIn)
    // responses are always welcome: a handler flow may wait for demand before it takes a request
    this.pull(this.responsesIn)
  }

  // ---- inbound bytes ----

  #onBytes(): void {
    const chunk = this.grab(this.bytesIn)
    this.#touch()
    this.#trace?.record(this.now(), 'in', chunk)
    if (this.#upgrading !== undefined) return void this.#upgrading.head.push(chunk) // the new protocol's first bytes
    if (this.#outputDone || (this.#closing && this.#reading === undefined)) return this.pull(this.bytesIn) // lingering: read and discard
    if (this.#headerStartedAt === undefined && this.#reading === undefined && this.#events.length === this.#ei) {
      // the first bytes of a new request head: its header-read deadline starts now (no timer per request)
      this.#headerStartedAt = this.#lastActivity
      if (!this.#timeoutArmed(HEADER_READ) && Number.isFinite(this.#s.headerReadTimeout)) this.#armTimeout(HEADER_READ, this.#s.headerReadTimeout)
    }
    this.#events = this.#parser.feed(chunk)
    this.#ei = 0
    this.#process()
  }

  /** Deliver parsed events as far as demand allows; pull more bytes when all are delivered. */
  #process(): void {
    const events = this.#events
    while (this.#ei < events.length) {
      const ev = events[this.#ei]!
      switch (ev.type) {
        case 'start': {
          this.#headerStartedAt = undefined
          if (this.#closing) {
            this.#ei = events.length // a request after we decided to close is never answered (the client retries)
            break
          }
          if (this.#inflight.length >= this.#s.pipeliningLimit || !this.isAvailable(this.requestsOut)) return
          this.#ei++
          this.#startExchange(ev)
          break
        }
        case 'body': {
          const ex = this.#reading!
          if (ex.remaining !== undefined) ex.remaining -= ev.data.length
          if (ex.body.kind === 'stream') {
            if (!ex.body.outlet.isAvailable) return // backpressure: the handler has not asked for more
            ex.body.outlet.push(ev.data)
          }
          this.#ei++
          break
        }
        case 'trailers': {
          const ex = this.#reading!
          if (ex.body.kind === 'stream') ex.body.trailers(Headers.from(ev.headers.entries()))
          this.#ei++
          break
        }
        case 'end': {
          const ex = this.#reading
          this.#ei++
          if (ex !== undefined) {
            if (ex.body.kind === 'stream') {
              ex.body.trailers(Headers.empty)
              ex.body.outlet.complete()
            }
            ex.body = BODY_DONE
            this.#reading = undefined
            if (channels.requestEnd.hasSubscribers) channels.requestEnd.publish({ id: this.ctx.id, seq: ex.seq })
          }
          break
        }
        case 'error': {
          this.#ei = events.length
          this.#headerStartedAt = undefined
          const err = ev.error
          if (channels.badRequest.hasSubscribers) channels.badRequest.publish({ id: this.ctx.id, status: err.status, reason: err.reason })
          const ex = this.#reading
          if (ex !== undefined && ex.body.kind === 'stream') ex.body.outlet.fail(err)
          this.#reading = undefined
          this.#enqueueServerResponse(errorResponse(err.status, err.message), 'bad-request')
          break
        }
      }
    }
    if (this.#ei === events.length && events.length > 0) {
      // every event delivered: keep none of them (a long response would keep its request's head)
      this.#events = NO_EVENTS
      this.#ei = 0
    }
    if (this.#peer === 'fin') return this.#closeAfterInflight('client-fin') // nothing more can come
    if (!this.#closing && !this.hasBeenPulled(this.bytesIn) && !this.isClosed(this.bytesIn)) this.pull(this.bytesIn)
  }

  /** Parsing paused after a request that asked to switch protocols; the switch was declined. */
  #resumeParsing(): void {
    const more = this.#parser.resume()
    if (more.length === 0) return
    this.#events = this.#ei < this.#events.length ? [...this.#events.slice(this.#ei), ...more] : more
    this.#ei = 0
    this.#process()
  }

  #startExchange(start: RequestStart): void {
    const seq = ++this.#seq
    this.#requestsSeen++
    this.ctx.counters.requests++
    const headers = Headers.adopt(start.headers.entries())
    let ex: Exchange
    const served = new ServedRequest(this.ctx, this.#secure, this)
    if (start.framing === 'none') ex = this.#exchange(seq, start, headers, served, HttpEntity.empty)
    else {
      const strict = this.#strictBody()
      if (strict !== undefined) {
        ex = this.#exchange(seq, start, headers, served, HttpEntity.strict(strict, headers.get('content-type')))
        ex.body = BODY_STRICT
      } else {
        const outlet = new SubSourceOutlet<Uint8Array>(this, `request-${seq}-entity`)
        let resolveTrailers!: (h: Headers) => void
        const trailers = new Promise<Headers>((r) => (resolveTrailers = r))
        const entity = HttpEntity.streamed(outlet.source, { contentType: headers.get('content-type'), contentLength: start.contentLength, trailers })
        ex = this.#exchange(seq, start, headers, served, entity)
        ex.body = { kind: 'stream', outlet, trailers: resolveTrailers }
        this.#reading = ex
        outlet.setHandler({
          onPull: () => {
            if (ex.expectContinue && ex.response === undefined) this.#writeInterim(ex)
            this.#process()
          },
          onDownstreamFinish: () => {
            // the handler does not want the rest of the body: read and drop it
            if (ex.body.kind === 'stream') ex.body = BODY_DISCARD
            this.#process()
          },
        })
      }
    }
    this.#inflight.push(ex)
    this.#armRequestTimer()
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ id: this.ctx.id, method: ex.method, target: ex.target, seq })
    this.push(this.requestsOut, ex.request)
  }

  #exchange(seq: number, start: RequestStart, headers: Headers, served: ServedRequest, entity: HttpEntity): Exchange {
    return {
      seq,
      method: start.method,
      target: start.target,
      version: start.version,
      keepAlive: start.keepAlive,
      request: new HttpRequest(start.method, start.target, headers, entity, start.version, SET_REQUEST_TIMEOUT, served),
      served,
      expectContinue: start.expectContinue,
      upgrade: start.upgrade !== undefined || start.method === 'CONNECT',
      body: BODY_DONE,
      remaining: start.contentLength,
      response: undefined,
      timedOut: false,
      awaitingDiscard: false,
      timeoutMs: this.#s.requestTimeout,
      startedAt: this.#lastActivity,
    }
  }

  /** When the whole (small) body is already parsed, take it from the events: a strict entity. */
  #strictBody(): Uint8Array | undefined {
    const body = strictBodyOf(this.#events, this.#ei)
    if (body === undefined) return undefined
    this.#ei = body.endIndex + 1
    return body.data
  }

  /** Per-request timeout overrides arrive here (from the handler, outside the stage); one per connection. */
  /** @internal `setRequestTimeout` for a request of this connection: it arrives as an outside event (from the handler). */
  _overrideTimeout(req: HttpRequest, ms: number): void {
    this._invokeExternal(this.#onTimeoutOverride, [req, ms])
  }

  // the two below run as outside events of this stage, with it as `this` (methods, not a closure per connection)
  #onControl(mode: 'graceful' | 'abort' | number): void {
    if (typeof mode === 'number') this.#onTimeouts(mode)
    else if (mode === 'graceful') this.#closeAfterInflight('shutdown')
    else this.#abort('shutdown', new StreamDetachedError('The server was terminated'))
  }
  #onTimeoutOverride([req, ms]: readonly [HttpRequest, number]): void {
    const ex = this.#inflight.find((e) => e.request === req)
    if (ex !== undefined) this.#setRequestTimeout(ex, ms)
  }

  #setRequestTimeout(ex: Exchange, ms: number): void {
    if (ex.response !== undefined || ex.timedOut) return
    ex.timeoutMs = ms
    this.#cancelTimeout(REQUEST)
    this.#armRequestTimer()
  }

  // ---- responses ----

  #onResponse(res: HttpResponse): void {
    // responses arrive in request order; one whose exchange timed out is dropped
    const ex = this.#inflight.find((e) => e.response === undefined && !e.timedOut) ?? this.#inflight.find((e) => e.awaitingDiscard)
    if (ex === undefined || ex.awaitingDiscard) {
      if (ex !== undefined) ex.awaitingDiscard = false
      HttpEntity.cancel(res.entity, this.materializer) // nobody will see it: stop its source
    } else {
      ex.response = res
    }
    if (!this.isClosed(this.responsesIn)) this.pull(this.responsesIn)
    this.#write()
  }

  #onHandlerDone(error: unknown): void {
    if (error !== undefined) this.log.error(`connection ${this.ctx.id}: handler flow failed`, error)
    // exchanges left without a response get a 500 (failure) or nothing more (completion): close after them
    for (const ex of this.#inflight) {
      if (ex.response === undefined && !ex.timedOut) ex.response = error !== undefined ? handlerFailureResponse() : errorResponse(503, 'The server is shutting down.')
    }
    this.#markClosing(error !== undefined ? 'handler-failure' : 'connection-close')
    this.#write()
  }

  #enqueueServerResponse(res: HttpResponse, reason: ServerCloseReason): void {
    const ex: Exchange = {
      seq: ++this.#seq,
      method: 'GET',
      target: '',
      version: '1.1',
      keepAlive: false,
      request: new HttpRequest('GET', ''),
      served: undefined,
      expectContinue: false,
      upgrade: false,
      body: BODY_DONE,
      remaining: 0,
      response: res,
      timedOut: false,
      awaitingDiscard: false,
      timeoutMs: Infinity,
      startedAt: this.#lastActivity,
    }
    this.#inflight.push(ex)
    this.#markClosing(reason)
    this.#write()
  }

  #writeInterim(ex: Exchange): void {
    ex.expectContinue = false
    this.#emit(CONTINUE_100)
  }

  /** Write the responses that are ready, in order; one streamed response at a time. */
  #write(): void {
    while (this.#writing === undefined && this.#inflight.length > 0) {
      const ex = this.#inflight[0]!
      let res = ex.timedOut ? requestTimeoutResponse(ex.timeoutMs) : ex.response
      if (res === undefined) return
      this.#inflight.shift()
      if (res instanceof UpgradeResponse) {
        if (ex.upgrade && this.ctx.handOver !== undefined && this.#reading === undefined && this.#inflight.length === 0) return this.#handOver(ex, res)
        this.log.error(`connection ${this.ctx.id}: an upgrade response answers ${ex.method} ${ex.target}, which cannot switch protocols`)
        res = handlerFailureResponse()
        this.#markClosing('handler-failure')
      }
      if (ex.upgrade) this.#resumeParsing()
      let close = this.#closing && this.#inflight.length === 0 ? true : !ex.keepAlive || ex.timedOut
      if (ex.body.kind === 'stream' || (ex.body.kind === 'discard' && this.#reading === ex)) {
        // an early response: the request body is still arriving
        const remaining = ex.remaining
        const drain = (remaining !== undefined && remaining <= EARLY_RESPONSE_DRAIN_LIMIT) || this.#bodyEndParsed()
        if (channels.earlyResponse.hasSubscribers) channels.earlyResponse.publish({ id: this.ctx.id, seq: ex.seq, remainingBytes: remaining, decision: drain ? 'drain' : 'close' })
        if (!drain) {
          close = true
          this.#reason ??= 'early-response'
        }
      }
      if (close) this.#markClosing(this.#reason ?? 'connection-close')
      const ctx: ResponseContext = {
        requestMethod: ex.method,
        requestVersion: ex.version,
        close: close || this.#closing,
        keepAliveTimeoutSec: Number.isFinite(this.#s.idleTimeout) ? Math.floor(this.#s.idleTimeout / 1000) : undefined,
        date: clockDate(),
        server: this.#s.serverHeader,
      }
      if (channels.responseStart.hasSubscribers) channels.responseStart.publish({ id: this.ctx.id, seq: ex.seq, status: res.status, close: ctx.close })
      if (res.entity.kind === 'strict' || ex.method === 'HEAD' || framingOf(res, ctx) === 'none') {
        let bytes: Uint8Array
        try {
          bytes = renderStrict(res, ctx)
        } catch (e) {
          this.log.error(`connection ${this.ctx.id}: cannot render response`, e)
          bytes = renderStrict(handlerFailureResponse(), { ...ctx, close: true })
          this.#markClosing('handler-failure')
        }
        HttpEntity.cancel(res.entity, this.materializer) // a HEAD response or a 204/304: the body is never sent
        this.#emit(bytes)
        if (channels.responseEnd.hasSubscribers) channels.responseEnd.publish({ id: this.ctx.id, seq: ex.seq, status: res.status })
      } else this.#startStreaming(ex, res, ctx)
      if (ex.body.kind === 'stream') this.#abandonBody(ex)
    }
    if (this.#writing === undefined && this.#inflight.length === 0 && this.#closing) this.#finishOutput()
  }

  /** Stop HTTP and hand the connection over once everything written before is out (module comment). */
  #handOver(ex: Exchange, res: UpgradeResponse): void {
    this.#upgrading = { res, request: ex.request, head: [...this.#parser.detach()], handed: false }
    this.#closing = true
    this.#events = []
    this.#ei = 0
    this.#cancelTimeout(IDLE)
    this.#cancelTimeout(HEADER_READ)
    this.#cancelTimeout(REQUEST)
    if (!this.isClosed(this.requestsOut)) this.complete(this.requestsOut)
    if (!this.isClosed(this.responsesIn)) this.cancel(this.responsesIn, NoMoreElementsNeeded)
    if (channels.responseStart.hasSubscribers) channels.responseStart.publish({ id: this.ctx.id, seq: ex.seq, status: 101, close: false })
    if (this.#out.length === 0) this.#completeHandOver()
  }

  #completeHandOver(): void {
    const u = this.#upgrading!
    if (u.handed) return
    u.handed = true
    this.#reason = 'upgraded'
    if (channels.responseEnd.hasSubscribers) channels.responseEnd.publish({ id: this.ctx.id, seq: this.#seq, status: 101 })
    this.ctx.handOver!(u.res, u.request, u.head)
    this.completeStage() // the TCP stage sees its outbound side complete after every byte written: it detaches the socket
  }

  /** The end of the body being read is already parsed (nothing of it is left on the wire). */
  #bodyEndParsed(): boolean {
    for (let i = this.#ei; i < this.#events.length; i++) {
      const t = this.#events[i]!.type
      if (t === 'end') return true
      if (t === 'start' || t === 'error') return false
    }
    return false
  }

  /** The response went out before the request body was read: the rest of the body is read and dropped. */
  #abandonBody(ex: Exchange): void {
    if (ex.body.kind !== 'stream') return
    const outlet = ex.body.outlet
    ex.body.trailers(Headers.empty)
    ex.body = BODY_DISCARD
    if (!outlet.isClosed) outlet.fail(new StreamDetachedError('The request entity was discarded: the response was sent before it was read'))
    this.#process()
  }

  #startStreaming(ex: Exchange, res: HttpResponse, ctx: ResponseContext): void {
    const framing = framingOf(res, ctx)
    if (framing === 'close-delimited') this.#markClosing('connection-close')
    let head: string
    try {
      head = renderHead(res, ctx, framing)
    } catch (e) {
      this.log.error(`connection ${this.ctx.id}: cannot render response`, e)
      HttpEntity.cancel(res.entity, this.materializer)
      this.#markClosing('handler-failure')
      this.#emit(renderStrict(handlerFailureResponse(), { ...ctx, close: true }))
      return
    }
    this.#emit(Buffer.from(head, 'latin1'))
    this.#releaseIdleTimers()
    const inlet = new SubSinkInlet<Uint8Array>(this, `response-${ex.seq}-entity`)
    const w = new ServerConnectionLogic.#EntityWriter(this, ex.seq, inlet, framing === 'chunked', res.status)
    this.#writing = w
    inlet.setHandler(w)
    // the entity runs in this connection's island: its elements cross no async boundary on the way out
    HttpEntity.dataBytes(res.entity).runWith(inlet.sink, this.subFusingMaterializer)
    inlet.pull()
  }

  /**
   * A streamed response may last long (an SSE stream): the lazily kept header-read and request
   * deadlines are dropped when nothing needs them, so the connection's timer does not wake for nothing.
   */
  #releaseIdleTimers(): void {
    if (this.#headerStartedAt === undefined) this.#cancelTimeout(HEADER_READ)
    if (!this.#inflight.some((e) => e.response === undefined && !e.timedOut)) this.#cancelTimeout(REQUEST)
  }

  // ---- outbound bytes ----

  #emit(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.isClosed(this.bytesOut)) return
    this.#trace?.record(this.now(), 'out', bytes)
    this.#touch()
    if (this.isAvailable(this.bytesOut) && this.#out.length === 0) this.push(this.bytesOut, bytes)
    else this.#out.push(bytes)
  }

  #flush(): void {
    const next = this.#out.shift()
    if (next !== undefined) this.push(this.bytesOut, next)
    else if (this.#writing !== undefined && !this.#writing.inlet.hasBeenPulled && !this.#writing.inlet.isClosed) this.#writing.inlet.pull()
    if (this.#out.length === 0 && this.#pendingFinish) this.#finishOutput()
    if (this.#out.length === 0 && this.#upgrading !== undefined) this.#completeHandOver()
  }

  #pendingFinish = false

  /** Everything is written: FIN, then linger (read and discard until the client closes or the linger timeout). */
  #finishOutput(): void {
    if (this.#outputDone) return
    if (this.#out.length > 0) {
      this.#pendingFinish = true
      return
    }
    this.#outputDone = true
    this.#reason ??= 'connection-close'
    this.complete(this.bytesOut)
    if (!this.isClosed(this.requestsOut)) this.complete(this.requestsOut)
    if (!this.isClosed(this.responsesIn)) this.cancel(this.responsesIn, NoMoreElementsNeeded)
    this.#cancelTimeout(IDLE)
    if (this.isClosed(this.bytesIn)) return this.completeStage()
    if (Number.isFinite(this.#s.lingerTimeout)) this.#armTimeout(LINGER, this.#s.lingerTimeout)
    if (!this.hasBeenPulled(this.bytesIn)) this.pull(this.bytesIn)
  }

  /** No new request will be taken; the connection closes once what is in flight was written. */
  #markClosing(reason: ServerCloseReason): void {
    if (this.#closing) return
    this.#closing = true
    this.#reason ??= reason
    if (!this.isClosed(this.requestsOut)) this.complete(this.requestsOut)
  }

  #closeAfterInflight(reason: ServerCloseReason): void {
    if (this.#upgrading !== undefined) return // the connection is being handed over: its new owner closes it
    this.#markClosing(reason)
    if (this.#writing === undefined && this.#inflight.length === 0) this.#finishOutput()
  }

  // ---- the peer ----

  #onPeerFin(): void {
    this.#peer = 'fin'
    if (channels.peerClosed.hasSubscribers) channels.peerClosed.publish({ id: this.ctx.id, kind: 'fin' })
    if (this.#upgrading !== undefined) return // the new owner finds the socket ended
    if (this.#outputDone) {
      this.#reason ??= 'client-fin'
      return this.completeStage()
    }
    if (this.#writing !== undefined && this.#s.halfClosePolicy === 'cancel-response') {
      // the client left (a proxy forwarded only its FIN): stop the response now, its cleanup runs
      this.#reason ??= 'client-fin'
      this.#writing.inlet.cancel(new ClientGone('client-fin'))
      this.#writing = undefined
      this.#clientGone('client-fin')
      this.#events = []
      this.#ei = 0
      return this.#closeAfterInflight('client-fin')
    }
    // requests received before the FIN are still answered (a client may half-close after sending)
    const rest = this.#parser.end()
    this.#events = this.#ei < this.#events.length ? [...this.#events.slice(this.#ei), ...rest] : rest
    this.#ei = 0
    if (this.#inflight.length === 0 && this.#reading === undefined && this.#events.length === 0) this.#reason ??= 'client-fin'
    this.#process()
  }

  #onPeerFailure(e: unknown): void {
    this.#peer = 'rst'
    if (channels.peerClosed.hasSubscribers) channels.peerClosed.publish({ id: this.ctx.id, kind: 'rst' })
    this.#abort('client-rst', e)
  }

  #onWriteSideGone(cause: unknown): void {
    // the socket cannot take more bytes: the client reset it, or a write failed
    if (cause instanceof ConnectionResetError) {
      this.#peer = 'rst'
      if (channels.peerClosed.hasSubscribers) channels.peerClosed.publish({ id: this.ctx.id, kind: 'rst' })
      return this.#abort('client-rst', cause)
    }
    this.#abort('write-error', cause)
  }

  /** Stop everything now: in-flight request bodies fail, the response stream is cancelled. */
  #abort(reason: ServerCloseReason, error: unknown): void {
    this.#reason ??= reason
    const how: ClientGoneReason = reason === 'client-rst' ? 'client-rst' : reason === 'idle-timeout' ? 'idle-timeout' : reason === 'shutdown' ? 'shutdown' : 'write-error'
    if (this.#writing !== undefined) {
      this.#writing.inlet.cancel(new ClientGone(how))
      this.#writing = undefined
    }
    const ex = this.#reading
    if (ex !== undefined && ex.body.kind === 'stream') ex.body.outlet.fail(error instanceof Error ? error : new Error(String(error)))
    this.#reading = undefined
    this.#clientGone(how)
    this.failStage(error instanceof Error ? error : new Error(String(error)))
  }

  /** The exchanges still waiting to be written will never be: tell their handlers (request signals), drop them. */
  #clientGone(how: ClientGoneReason): void {
    const inflight = this.#inflight
    if (inflight.length === 0) return
    let gone: ClientGone | undefined
    for (const ex of inflight) if (ex.served !== undefined) ex.served.abort((gone ??= new ClientGone(how)))
    inflight.length = 0
  }

  // ---- time ----

  #touch(): void {
    this.#lastActivity = this.now()
  }

  #armIdle(delay: number): void {
    if (Number.isFinite(delay)) this.#armTimeout(IDLE, Math.max(0, delay))
  }

  /** Deadlines (scheduler ms) of the idle, header-read, linger and request timeouts; Infinity: not armed. */
  readonly #deadlines = [Infinity, Infinity, Infinity, Infinity]
  /** The deadline this stage's own scheduler timer is armed for (Infinity: not armed). */
  #ownAt = Infinity
  // this connection's place in the server's timer queue (TimerEntry; `_at` is Infinity when not queued)
  _prev: TimerEntry | undefined = undefined
  _next: TimerEntry | undefined = undefined
  _at = Infinity
  #control: AsyncCallback<'graceful' | 'abort' | number> | undefined = undefined

  /** The earliest time a timer (own or queued) wakes this connection up. */
  get #timerAt(): number {
    return Math.min(this.#ownAt, this._at)
  }

  /**
   * Arm the timer that fires no later than any deadline: at the start, for the shortest of the
   * timeouts (a deadline set later with its full timeout never comes before it), in the server's
   * timer queue when there is one, so that a short connection arms no scheduler timer of its own;
   * a wake-up with nothing due re-arms for the earliest deadline.
   */
  #startTimeouts(): void {
    const first = firstTimeout(this.#s)
    if (!Number.isFinite(first)) return
    const timers = this.ctx.timers
    if (timers !== undefined && timers.delay === first) timers.add(this)
    else {
      this.#ownAt = this.now() + first
      this.scheduleOnce(TIMEOUTS, first)
    }
  }

  /** The server's timer queue says `at` came (outside the stage). */
  timerDue(at: number): void {
    this.#control?.invoke(at)
  }

  /** Set a timeout's deadline `delay` from now (replacing its previous one), as its own timer would. */
  #armTimeout(which: number, delay: number): void {
    const at = this.now() + delay
    this.#deadlines[which] = at
    if (at < this.#timerAt) {
      this.#ownAt = at
      this.scheduleOnce(TIMEOUTS, delay)
    }
  }

  #cancelTimeout(which: number): void {
    this.#deadlines[which] = Infinity
  }

  #timeoutArmed(which: number): boolean {
    return this.#deadlines[which] !== Infinity
  }

  protected override onTimer(): void {
    const firedFor = this.#ownAt
    this.#ownAt = Infinity
    this.#onTimeouts(firedFor)
  }

  /** A timer armed for `firedFor` fired: handle the timeouts due by then, re-arm for the next. */
  #onTimeouts(firedFor: number): void {
    const d = this.#deadlines
    // the timeouts due, earliest first, each handled as if it had fired on its own timer: one that
    // an earlier one re-armed or cancelled is not due any more, and none runs once the stage stops
    const due: number[] = []
    for (let k = 0; k < d.length; k++) if (d[k]! <= firedFor) due.push(k)
    due.sort((a, b) => d[a]! - d[b]! || a - b)
    const dueAt = due.map((k) => d[k]!)
    for (let i = 0; i < due.length; i++) {
      const k = due[i]!
      if (d[k] !== dueAt[i] || this.#stopping()) continue
      d[k] = Infinity
      this.#timeout(k)
    }
    const next = Math.min(d[0]!, d[1]!, d[2]!, d[3]!)
    if (next < this.#timerAt && !this.#stopping()) {
      this.#ownAt = next
      this.scheduleOnce(TIMEOUTS, Math.max(0, next - this.now()))
    }
  }

  /** Every port is closed: the stage stops after this handler. */
  #stopping(): boolean {
    return this.isClosed(this.bytesIn) && this.isClosed(this.bytesOut) && this.isClosed(this.requestsOut) && this.isClosed(this.responsesIn)
  }

  #timeout(key: number): void {
    if (key === IDLE) {
      const idleFor = this.now() - this.#lastActivity
      if (idleFor < this.#s.idleTimeout) return this.#armIdle(this.#s.idleTimeout - idleFor)
      if (channels.timeout.hasSubscribers) channels.timeout.publish({ id: this.ctx.id, timeout: 'idle', ms: this.#s.idleTimeout })
      // between exchanges: close gracefully. A response still streaming (an SSE stream, a download
      // whose reader stopped reading) is not between exchanges: it was silent for the whole timeout.
      if (this.#inflight.length === 0 && this.#reading === undefined && this.#writing === undefined && this.#events.length === this.#ei) {
        this.#reason ??= 'idle-timeout'
        return this.#closeAfterInflight('idle-timeout') // graceful: FIN, then linger
      }
      // a handler still computing is the request timeout's business; a stalled transfer is not
      if (this.#writing === undefined && this.#reading === undefined) return this.#armIdle(this.#s.idleTimeout)
      return this.#abort('idle-timeout', new IdleTimeoutError(this.#s.idleTimeout))
    }
    if (key === HEADER_READ) {
      const started = this.#headerStartedAt
      if (started === undefined) return // no head in progress: re-armed when the next one starts
      const left = started + this.#s.headerReadTimeout - this.now()
      if (left > 0) return this.#armTimeout(HEADER_READ, left)
      this.#headerStartedAt = undefined
      if (channels.timeout.hasSubscribers) channels.timeout.publish({ id: this.ctx.id, timeout: 'header-read', ms: this.#s.headerReadTimeout })
      this.#events = []
      this.#ei = 0
      return this.#enqueueServerResponse(headerReadTimeoutResponse(this.#s.headerReadTimeout), 'header-read-timeout')
    }
    if (key === LINGER) {
      if (channels.timeout.hasSubscribers) channels.timeout.publish({ id: this.ctx.id, timeout: 'linger', ms: this.#s.lingerTimeout })
      this.#reason = this.#reason === 'connection-close' || this.#reason === undefined ? 'linger-timeout' : this.#reason
      return this.cancel(this.bytesIn, new LingerTimeoutError(this.#s.lingerTimeout)) // a failure cause: the TCP stage destroys the socket
    }
    if (key === REQUEST) {
      const now = this.now()
      let timedOut = false
      for (const ex of this.#inflight) {
        if (ex.response !== undefined || ex.timedOut || ex.startedAt + ex.timeoutMs > now) continue
        if (channels.timeout.hasSubscribers) channels.timeout.publish({ id: this.ctx.id, timeout: 'request', ms: ex.timeoutMs })
        ex.timedOut = true
        ex.awaitingDiscard = true
        timedOut = true
      }
      this.#armRequestTimer()
      if (!timedOut) return
      this.#reason ??= 'request-timeout'
      this.#markClosing('request-timeout')
      this.#write()
    }
  }

  /**
   * One timer for all request timeouts of the connection, armed for the earliest deadline of the
   * requests still waiting for their response (not one timer per request: on a busy keep-alive
   * connection this timer rarely fires, and then only re-arms).
   */
  #armRequestTimer(): void {
    if (this.#timeoutArmed(REQUEST)) return
    let earliest = Infinity
    for (const ex of this.#inflight) {
      if (ex.response === undefined && !ex.timedOut) earliest = Math.min(earliest, ex.startedAt + ex.timeoutMs)
    }
    if (Number.isFinite(earliest)) this.#armTimeout(REQUEST, Math.max(0, earliest - this.now()))
  }

  override postStop(): void {
    const reason: ServerCloseReason = this.#reason ?? (this.#peer === 'rst' ? 'client-rst' : this.#peer === 'fin' ? 'client-fin' : 'shutdown')
    this.#clientGone(this.#peer === 'rst' ? 'client-rst' : this.#peer === 'fin' ? 'client-fin' : 'shutdown')
    this.ctx.counters.closed(reason)
    if (channels.connectionClosed.hasSubscribers) channels.connectionClosed.publish({ id: this.ctx.id, remote: this.ctx.remote, reason, requests: this.#requestsSeen })
    this.ctx.onClosed(reason)
    this.ctx.timers?.remove(this)
    // let go of what the connection read and wrote: a connection object that outlived a young
    // garbage collection would otherwise keep all of it alive until a full one
    this.#events = []
    this.#ei = 0
    this.#out.length = 0
    this.#reading = undefined
    this.#writing = undefined
  }
}

/** The blueprint of one server connection; materialized once per accepted connection. */
export class ServerConnectionStage extends GraphStage<ServerShape> {
  readonly shape: ServerShape = new BidiShape(
    new Inlet<Uint8Array>('HttpServer.bytesIn'),
    new Outlet<HttpRequest>('HttpServer.requestsOut'),
    new Inlet<HttpResponse>('HttpServer.responsesIn'),
    new Outlet<Uint8Array>('HttpServer.bytesOut'),
  )
  constructor(readonly ctx: ConnectionContext) {
    super()
  }
  createLogic(): GraphStageLogic {
    return new ServerConnectionLogic(this.shape, this.ctx)
  }
}

/**
 * One blueprint for every connection of a server: each materialization is given its connection's
 * context through the materialized {@link ConnectionContextSlot}, right after `run()` (before the
 * stream starts). Otherwise the same as {@link ServerConnectionStage}.
 */
export class SharedServerConnectionStage extends GraphStageWithMaterializedValue<ServerShape, ConnectionContextSlot> {
  readonly shape: ServerShape = new BidiShape(
    new Inlet<Uint8Array>('HttpServer.bytesIn'),
    new Outlet<HttpRequest>('HttpServer.requestsOut'),
    new Inlet<HttpResponse>('HttpServer.responsesIn'),
    new Outlet<Uint8Array>('HttpServer.bytesOut'),
  )
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, ConnectionContextSlot] {
    const logic = new ServerConnectionLogic(this.shape, undefined)
    return [logic, logic]
  }
}

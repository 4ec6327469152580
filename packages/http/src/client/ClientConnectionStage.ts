/**
 * The client side of one HTTP/1.1 connection, between the caller and the TCP stage — the server's stage mirrored:
 *
 * ```
 *                 +------------------ ClientConnectionStage ------------------+
 *  HttpRequest ~> | requestsIn  → renderer (head, entity as a sub-stream) → bytesOut | ~> bytes
 *                 |                                                            |      (TCP)
 *  HttpResponse <~| responsesOut ← exchanges in order ← parser ← bytesIn       | <~ bytes
 *                 +-----------------------------------------------------------+
 * ```
 *
 * - Requests are written one at a time (a streamed request entity is a sub-stream pulled as fast as the socket
 *   takes it); at most `pipeliningLimit` wait for their responses.
 * - Responses come out in order. A body that arrived whole with its head (up to 64 KiB) is a strict entity;
 *   otherwise the entity is a sub-stream backpressured to the socket: the connection reads the body only as fast
 *   as the caller consumes it. An entity nobody subscribes to within `responseEntitySubscriptionTimeout` is read
 *   and dropped, so the connection is not held hostage by a forgotten response.
 * - The connection reads even when no request is outstanding, so a server's FIN or RST on an idle connection is
 *   seen at once: the responses stream completes (FIN) or fails (RST) and whoever pools the connection drops it.
 * - It ends when the caller completes its requests (after the last response: FIN), when a response says the
 *   connection closes, or when the server closes. A request the server did not answer fails the responses stream
 *   with an error saying exactly what happened (see errors.ts); so does a response or idle timeout.
 */
import {
  BidiShape,
  GraphStage,
  GraphStageLogic,
  Inlet,
  Outlet,
  SubSinkInlet,
  SubSourceOutlet,
  NoMoreElementsNeeded,
} from '@weir/core'
import { Headers } from '../model/Headers.js'
import { HttpEntity, concatBytes } from '../model/HttpEntity.js'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'
import type { ResponseEvent, ResponseStart } from '../parsing/events.js'
import { ResponseParser } from '../parsing/ResponseParser.js'
import { connectionOptions } from '../rendering/hopByHop.js'
import { renderRequestHead, requestFramingOf } from '../rendering/renderRequest.js'
import { LAST_CHUNK, renderChunk } from '../rendering/renderResponse.js'
import { ConnectError, ConnectionResetError, ConnectTimeoutError, TcpError } from '../tcp/errors.js'
import { clientChannels } from './diagnostics.js'
import { strictBodyOf } from '../connection/strictBody.js'
import {
  ClientIdleTimeoutError,
  ClosedBeforeResponseError,
  ConnectionAbortedError,
  InvalidRequestError,
  ResetBeforeResponseError,
  ResponseTimeoutError,
  ResponseTruncatedError,
} from './errors.js'
import type { ClientSettings } from './ClientSettings.js'

/** A response entity the caller cancelled is read and dropped (keeping the connection) if at most this much is left. */
const CANCELLED_BODY_DRAIN_LIMIT = 64 * 1024

const RESPONSE = 'response'
const IDLE = 'idle'
const SUBSCRIPTION = 'subscription'

/** What a connection tells its owner (the pool) beyond the responses themselves. */
export interface ClientConnectionHooks {
  /** A response head arrived: whether the connection stays open after it, and the server's `Keep-Alive: timeout` in ms. */
  onResponseHead?(info: { readonly keepAlive: boolean; readonly keepAliveTimeoutMs: number | undefined }): void
  /** An exchange finished: the response body was read (or dropped) to its end; the connection is free. */
  onExchangeDone?(): void
  /** The caller cancelled a response entity with much left to read: the connection closes after it. */
  onEntityCancelled?(): void
}

export interface ClientConnectionContext {
  readonly id: number
  /** `host:port`, for errors. */
  readonly remote: string
  /** `Host` header value. */
  readonly authority: string
  readonly settings: ClientSettings
  readonly hooks?: ClientConnectionHooks | undefined
}

interface Exchange {
  readonly seq: number
  readonly request: HttpRequest
  /** Bytes of the request were handed to the socket. */
  started: boolean
  /** The whole request was handed to the socket. */
  written: boolean
  writtenAt: number
  responseStarted: boolean
}

interface Receiving {
  readonly ex: Exchange
  readonly keepAlive: boolean
  /** The entity sub-stream; undefined for strict and empty entities. */
  outlet: SubSourceOutlet<Uint8Array> | undefined
  trailers: ((h: Headers) => void) | undefined
  /** Read and drop the rest of the body. */
  discard: boolean
  remaining: number | undefined
}

export type ClientShape = BidiShape<HttpRequest, Uint8Array, Uint8Array, HttpResponse>

class ClientConnectionLogic extends GraphStageLogic {
  readonly requestsIn: Inlet<HttpRequest>
  readonly bytesOut: Outlet<Uint8Array>
  readonly bytesIn: Inlet<Uint8Array>
  readonly responsesOut: Outlet<HttpResponse>
  readonly #s: ClientSettings
  readonly #parser: ResponseParser
  #events: readonly ResponseEvent[] = []
  #ei = 0
  #seq = 0
  /** Requests sent (or being sent) whose response has not ended, in order. */
  readonly #pending: Exchange[] = []
  #sending: { ex: Exchange; inlet: SubSinkInlet<Uint8Array>; chunked: boolean } | undefined
  #receiving: Receiving | undefined
  readonly #out: Uint8Array[] = []
  /** No further request is sent: the connection closes once the pending exchanges are done. */
  #closing = false
  #outputDone = false
  #peer: 'fin' | 'rst' | undefined
  #lastActivity = 0

  constructor(
    shape: ClientShape,
    readonly ctx: ClientConnectionContext,
  ) {
    super(shape)
    this.requestsIn = shape.in1
    this.bytesOut = shape.out1
    this.bytesIn = shape.in2
    this.responsesOut = shape.out2
    this.#s = ctx.settings
    this.#parser = new ResponseParser({ maxHeaderSectionSize: ctx.settings.maxResponseHeaderSize })
    this.setHandler(this.requestsIn, {
      onPush: () => this.#send(this.grab(this.requestsIn)),
      onUpstreamFinish: () => this.#closeAfterPending(),
      onUpstreamFailure: (e) => this.#abort(e),
    })
    this.setHandler(this.bytesOut, {
      onPull: () => this.#flush(),
      onDownstreamFinish: (cause) => this.#onPeerFailure(cause), // the socket cannot take more bytes
    })
    this.setHandler(this.bytesIn, {
      onPush: () => this.#onBytes(),
      onUpstreamFinish: () => this.#onPeerFin(),
      onUpstreamFailure: (e) => this.#onPeerFailure(e),
    })
    this.setHandler(this.responsesOut, {
      onPull: () => this.#process(),
      onDownstreamFinish: (cause) => this.#abort(cause === NoMoreElementsNeeded ? new ConnectionAbortedError(this.ctx.remote, this.#pending.length > 0, 'the responses were cancelled') : cause),
    })
  }

  override preStart(): void {
    this.#touch()
    this.pull(this.bytesIn)
    this.pull(this.requestsIn)
  }

  // ---- requests ----

  #mayTakeRequest(): boolean {
    return !this.#closing && this.#sending === undefined && this.#pending.length < this.#s.pipeliningLimit
  }

  #pullRequest(): void {
    if (this.#mayTakeRequest() && !this.isClosed(this.requestsIn) && !this.hasBeenPulled(this.requestsIn)) this.pull(this.requestsIn)
  }

  #send(req: HttpRequest): void {
    const ex: Exchange = { seq: ++this.#seq, request: req, started: false, written: false, writtenAt: 0, responseStarted: false }
    if (connectionOptions(req.headers).has('close')) this.#markClosing()
    const framing = requestFramingOf(req)
    let head: string
    try {
      head = renderRequestHead(req, { authority: this.ctx.authority, close: this.#closing, userAgent: this.#s.userAgent }, framing)
    } catch (e) {
      HttpEntity.cancel(req.entity, this.materializer)
      return this.#abort(new InvalidRequestError(`Cannot send request: ${(e as Error).message}`))
    }
    this.#pending.push(ex)
    this.#parser.expectResponseTo(req.method)
    if (clientChannels.requestStart.hasSubscribers) clientChannels.requestStart.publish({ id: this.ctx.id, seq: ex.seq, method: req.method, target: req.target })
    const e = req.entity
    if (e.kind === 'strict') {
      const headBytes = Buffer.from(head, 'latin1')
      this.#emit(e.data.length === 0 ? headBytes : concatBytes([headBytes, e.data]), ex)
      this.#written(ex)
    } else {
      this.#emit(Buffer.from(head, 'latin1'), ex)
      const inlet = new SubSinkInlet<Uint8Array>(this, `request-${ex.seq}-entity`)
      const s = { ex, inlet, chunked: framing === 'chunked' }
      this.#sending = s
      inlet.setHandler({
        onPush: () => {
          const data = inlet.grab()
          this.#emit(s.chunked ? renderChunk(data) : data, ex)
          if (this.#out.length === 0 && !inlet.isClosed) inlet.pull()
        },
        onUpstreamFinish: () => {
          if (s.chunked) this.#emit(LAST_CHUNK, ex)
          this.#sending = undefined
          this.#written(ex)
        },
        onUpstreamFailure: (err) => {
          // half a request on the wire cannot be repaired: the connection goes
          this.#sending = undefined
          this.#abort(err)
        },
      })
      e.data.runWith(inlet.sink, this.materializer)
      inlet.pull()
    }
    this.#pullRequest()
  }

  #written(ex: Exchange): void {
    ex.written = true
    ex.writtenAt = this.now()
    // a response that said close may have ended while this request body was still going out
    if (this.#closing && this.#pending.length === 0 && this.#sending === undefined) return this.#finishOutput()
    this.#armResponseTimer()
    this.#armIdle()
    this.#pullRequest()
  }

  // ---- inbound bytes ----

  #onBytes(): void {
    const chunk = this.grab(this.bytesIn)
    this.#touch()
    this.#events = this.#ei < this.#events.length ? [...this.#events.slice(this.#ei), ...this.#parser.feed(chunk)] : this.#parser.feed(chunk)
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
          if (ev.status < 200) {
            if (ev.status === 101) return this.#abort(new ConnectionAbortedError(this.ctx.remote, true, 'the server switched protocols (101), which was not asked for'))
            this.#ei++ // an interim response (100 Continue, 103 Early Hints): the final one follows
            break
          }
          if (!this.isAvailable(this.responsesOut)) return
          this.#ei++
          this.#startResponse(ev)
          break
        }
        case 'body': {
          const r = this.#receiving!
          if (r.remaining !== undefined) r.remaining -= ev.data.length
          if (!r.discard && r.outlet !== undefined) {
            if (!r.outlet.isAvailable) return // backpressure: the caller has not asked for more
            r.outlet.push(ev.data)
          }
          this.#ei++
          break
        }
        case 'trailers': {
          this.#receiving?.trailers?.(Headers.from(ev.headers.entries()))
          this.#ei++
          break
        }
        case 'end': {
          this.#ei++
          this.#endResponse()
          break
        }
        case 'error': {
          this.#ei = events.length
          const r = this.#receiving
          if (r?.outlet !== undefined) r.outlet.fail(ev.error)
          this.#receiving = undefined
          return this.#fail(ev.error)
        }
      }
    }
    if (this.#peer === 'fin') return this.#afterPeerFin()
    if (!this.hasBeenPulled(this.bytesIn) && !this.isClosed(this.bytesIn)) this.pull(this.bytesIn)
  }

  #startResponse(start: ResponseStart): void {
    const ex = this.#pending[0]!
    ex.responseStarted = true
    this.cancelTimer(RESPONSE)
    const headers = Headers.adopt(start.headers.entries())
    const keepAlive = start.keepAlive && !this.#closing
    if (!keepAlive) this.#markClosing()
    this.ctx.hooks?.onResponseHead?.({ keepAlive, keepAliveTimeoutMs: keepAliveHintMs(headers) })
    const r: Receiving = { ex, keepAlive, outlet: undefined, trailers: undefined, discard: false, remaining: start.contentLength }
    this.#receiving = r
    let entity: HttpEntity
    const contentType = headers.get('content-type')
    if (start.framing === 'none') entity = contentType === undefined ? HttpEntity.empty : HttpEntity.strict(new Uint8Array(0), contentType)
    else {
      const strict = this.#strictBody()
      if (strict !== undefined) entity = HttpEntity.strict(strict, contentType)
      else {
        const outlet = new SubSourceOutlet<Uint8Array>(this, `response-${ex.seq}-entity`)
        let resolveTrailers!: (h: Headers) => void
        const trailers = new Promise<Headers>((res) => (resolveTrailers = res))
        r.outlet = outlet
        r.trailers = resolveTrailers
        outlet.setHandler({
          onPull: () => {
            this.cancelTimer(SUBSCRIPTION)
            this.#process()
          },
          onDownstreamFinish: () => this.#entityCancelled(r),
        })
        entity = HttpEntity.streamed(outlet.source, { contentType, contentLength: start.contentLength, trailers })
        if (Number.isFinite(this.#s.responseEntitySubscriptionTimeout)) this.scheduleOnce(SUBSCRIPTION, this.#s.responseEntitySubscriptionTimeout)
      }
    }
    if (clientChannels.responseStart.hasSubscribers) clientChannels.responseStart.publish({ id: this.ctx.id, seq: ex.seq, status: start.status, keepAlive })
    this.push(this.responsesOut, new HttpResponse(start.status, headers, entity))
  }

  /** When the whole (small) body is already parsed, take it from the events: a strict entity. */
  #strictBody(): Uint8Array | undefined {
    const body = strictBodyOf(this.#events, this.#ei)
    if (body === undefined) return undefined
    this.#ei = body.endIndex // the 'end' event still runs, and ends the exchange
    return body.data
  }

  #endResponse(): void {
    const r = this.#receiving
    if (r === undefined) return
    this.#receiving = undefined
    this.cancelTimer(SUBSCRIPTION)
    r.trailers?.(Headers.empty)
    r.outlet?.complete()
    this.#pending.shift()
    if (clientChannels.responseEnd.hasSubscribers) clientChannels.responseEnd.publish({ id: this.ctx.id, seq: r.ex.seq })
    this.ctx.hooks?.onExchangeDone?.()
    if (this.#closing && this.#pending.length === 0 && this.#sending === undefined) return this.#finishOutput()
    this.#armResponseTimer()
    this.#pullRequest()
  }

  /** The caller cancelled a response entity: drop a small rest and keep the connection, or close it. */
  #entityCancelled(r: Receiving): void {
    if (this.#receiving !== r) return
    this.cancelTimer(SUBSCRIPTION)
    r.discard = true
    if (r.remaining === undefined || r.remaining > CANCELLED_BODY_DRAIN_LIMIT) {
      // reading megabytes nobody wants is worse than a new connection
      this.#receiving = undefined
      this.#pending.shift()
      this.#markClosing()
      this.ctx.hooks?.onEntityCancelled?.()
      this.ctx.hooks?.onExchangeDone?.()
      return this.#finishOutput()
    }
    this.#process()
  }

  // ---- outbound bytes ----

  #emit(bytes: Uint8Array, ex: Exchange): void {
    if (bytes.length === 0 || this.isClosed(this.bytesOut)) return
    ex.started = true
    this.#touch()
    if (this.isAvailable(this.bytesOut) && this.#out.length === 0) this.push(this.bytesOut, bytes)
    else this.#out.push(bytes)
  }

  #flush(): void {
    const next = this.#out.shift()
    if (next !== undefined) this.push(this.bytesOut, next)
    else if (this.#sending !== undefined && !this.#sending.inlet.hasBeenPulled && !this.#sending.inlet.isClosed) this.#sending.inlet.pull()
    if (this.#out.length === 0 && this.#pendingFinish) this.#finishOutput()
  }

  #pendingFinish = false

  #markClosing(): void {
    if (this.#closing) return
    this.#closing = true
    if (!this.isClosed(this.requestsIn)) this.cancel(this.requestsIn, NoMoreElementsNeeded)
  }

  #closeAfterPending(): void {
    this.#markClosing()
    if (this.#pending.length === 0 && this.#sending === undefined) this.#finishOutput()
  }

  /** Every exchange is done and the connection closes: FIN, then stop once the server closed too. */
  #finishOutput(): void {
    if (this.#outputDone) return
    if (this.#out.length > 0) {
      this.#pendingFinish = true
      return
    }
    this.#outputDone = true
    this.cancelTimer(IDLE)
    this.cancelTimer(RESPONSE)
    this.completeStage() // completes bytesOut (FIN) and the responses, cancels bytesIn (the TCP stage drains and closes)
  }

  // ---- the peer ----

  #onPeerFin(): void {
    this.#peer = 'fin'
    if (clientChannels.peerClosed.hasSubscribers) clientChannels.peerClosed.publish({ id: this.ctx.id, kind: 'fin', pending: this.#pending.length })
    const rest = this.#parser.feedEnd()
    this.#events = this.#ei < this.#events.length ? [...this.#events.slice(this.#ei), ...rest] : rest
    this.#ei = 0
    this.#process()
  }

  /** Everything the server sent before its FIN was delivered: what is still pending was not answered. */
  #afterPeerFin(): void {
    const ex = this.#pending[0]
    if (ex === undefined) return this.completeStage() // an idle connection closed by the server: the pool drops it
    const r = this.#receiving
    if (r !== undefined) {
      const err = new ResponseTruncatedError(this.ctx.remote, 'fin')
      r.outlet?.fail(err)
      this.#receiving = undefined
      return this.#fail(err)
    }
    this.#fail(new ClosedBeforeResponseError(this.ctx.remote, ex.started))
  }

  /** The socket failed (reset, write error, or it never connected): say what that means for the pending request. */
  #onPeerFailure(e: unknown): void {
    const reset = e instanceof ConnectionResetError
    if (reset) this.#peer = 'rst'
    if (clientChannels.peerClosed.hasSubscribers) clientChannels.peerClosed.publish({ id: this.ctx.id, kind: reset ? 'rst' : 'error', pending: this.#pending.length })
    const ex = this.#pending[0]
    if (!(e instanceof TcpError) || e instanceof ConnectError || e instanceof ConnectTimeoutError || ex === undefined) return this.#abort(e)
    if (this.#receiving !== undefined) return this.#abort(new ResponseTruncatedError(this.ctx.remote, reset ? 'reset' : 'connection-aborted', e))
    if (ex.responseStarted) return this.#abort(e)
    this.#abort(reset ? new ResetBeforeResponseError(this.ctx.remote, ex.started, e) : new ClosedBeforeResponseError(this.ctx.remote, ex.started, e))
  }

  /** Fail the connection: the response being received and the responses stream fail with `error`. */
  #abort(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error))
    const r = this.#receiving
    if (r?.outlet !== undefined) r.outlet.fail(err instanceof TcpError || err instanceof ResponseTruncatedError ? err : new ResponseTruncatedError(this.ctx.remote, 'connection-aborted', err))
    this.#receiving = undefined
    if (this.#sending !== undefined) {
      this.#sending.inlet.cancel(err)
      this.#sending = undefined
    }
    this.#fail(err)
  }

  #fail(err: Error): void {
    this.#pending.length = 0
    this.failStage(err)
  }

  // ---- time ----

  #touch(): void {
    this.#lastActivity = this.now()
  }

  #armIdle(): void {
    if (!this.isTimerActive(IDLE) && Number.isFinite(this.#s.idleTimeout)) this.scheduleOnce(IDLE, this.#s.idleTimeout)
  }

  /** One response timer: for the oldest written request whose response has not started. */
  #armResponseTimer(): void {
    this.cancelTimer(RESPONSE)
    const ex = this.#pending[0]
    if (ex === undefined || !ex.written || ex.responseStarted || !Number.isFinite(this.#s.responseTimeout)) return
    this.scheduleOnce(RESPONSE, Math.max(0, ex.writtenAt + this.#s.responseTimeout - this.now()))
  }

  protected override onTimer(key: unknown): void {
    if (key === RESPONSE) {
      const ex = this.#pending[0]
      if (ex === undefined || ex.responseStarted) return
      if (clientChannels.timeout.hasSubscribers) clientChannels.timeout.publish({ id: this.ctx.id, timeout: 'response', ms: this.#s.responseTimeout })
      return this.#abort(new ResponseTimeoutError(this.ctx.remote, this.#s.responseTimeout))
    }
    if (key === IDLE) {
      if (this.#pending.length === 0 && this.#sending === undefined) return // between exchanges: the pool's keep-alive timeout decides
      const idleFor = this.now() - this.#lastActivity
      if (idleFor < this.#s.idleTimeout) return this.scheduleOnce(IDLE, this.#s.idleTimeout - idleFor)
      if (clientChannels.timeout.hasSubscribers) clientChannels.timeout.publish({ id: this.ctx.id, timeout: 'idle', ms: this.#s.idleTimeout })
      const r = this.#receiving
      if (r !== undefined) return this.#abort(new ResponseTruncatedError(this.ctx.remote, 'idle-timeout'))
      return this.#abort(new ClientIdleTimeoutError(this.ctx.remote, this.#s.idleTimeout, this.#pending[0]?.started ?? false))
    }
    if (key === SUBSCRIPTION) {
      const r = this.#receiving
      if (r?.outlet === undefined || !r.outlet.timeout(this.#s.responseEntitySubscriptionTimeout)) return
      // nobody reads this entity: drop its bytes so the connection can serve the next request
      if (clientChannels.entityDiscarded.hasSubscribers) clientChannels.entityDiscarded.publish({ id: this.ctx.id, seq: r.ex.seq, timeoutMs: this.#s.responseEntitySubscriptionTimeout })
      r.discard = true
      this.#process()
    }
  }

  override postStop(): void {
    if (clientChannels.connectionClosed.hasSubscribers) clientChannels.connectionClosed.publish({ id: this.ctx.id, remote: this.ctx.remote, peer: this.#peer ?? 'none' })
  }
}

/** The server's `Keep-Alive: timeout=N` in ms, if it sent one. */
export function keepAliveHintMs(headers: Headers): number | undefined {
  const v = headers.get('keep-alive')
  if (v === undefined) return undefined
  const m = /(?:^|[,;\s])timeout\s*=\s*"?(\d+)"?/i.exec(v)
  return m === null ? undefined : Number(m[1]) * 1000
}

/** The blueprint of one client connection (see the module comment); join it with a TCP flow. */
export class ClientConnectionStage extends GraphStage<ClientShape> {
  readonly shape: ClientShape = new BidiShape(
    new Inlet<HttpRequest>('HttpClient.requestsIn'),
    new Outlet<Uint8Array>('HttpClient.bytesOut'),
    new Inlet<Uint8Array>('HttpClient.bytesIn'),
    new Outlet<HttpResponse>('HttpClient.responsesOut'),
  )
  constructor(readonly ctx: ClientConnectionContext) {
    super()
  }
  createLogic(): GraphStageLogic {
    return new ClientConnectionLogic(this.shape, this.ctx)
  }
}

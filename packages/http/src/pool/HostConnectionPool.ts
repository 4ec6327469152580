/**
 * A pool of HTTP/1.1 connections to one host, built against the keep-alive race (DESIGN §1 A):
 *
 * - An idle connection is reused only while it is certainly alive: not after the pool's `keepAliveTimeout`, not
 *   within `keepAliveSafetyMargin` of the `Keep-Alive: timeout=N` the server advertised, not past
 *   `maxConnectionLifetime`, and never after the server's FIN was seen (each connection keeps reading while idle,
 *   so a FIN or RST removes it from the pool at once). Idle connections are closed by the pool when they expire,
 *   rather than left for the server to close.
 * - A request that fails on a *reused* connection before any byte of its response arrived (the server closed or
 *   reset it as the request crossed) is sent again on a fresh connection when that is safe: the request was never
 *   written, or its method is idempotent and its entity can be sent again. At most `maxRetries` times; every other
 *   failure is reported with its typed error (errors.ts).
 * - At most `maxConnections` connections; at most `maxOpenRequests` requests held (running and queued): one more
 *   fails at once with {@link PoolOverflowError}.
 * - After `poolIdleTimeout` without requests every connection is closed; the next request opens new ones.
 *
 * Each connection is a materialized stream graph (`Source.queue → ClientConnectionStage ⇄ TCP → Sink`); the pool
 * is the state machine around them. All time comes from the materializer's scheduler.
 */
import { Flow, Keep, Sink, SlotSet, Source, defaultMaterializer, toMillis, type Cancellable, type Duration, type Materializer, type NotUsed, type Slotted, type SourceQueue } from '@weir/core'
import * as E from 'fp-ts/lib/Either.js'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { HttpEntity } from '../model/HttpEntity.js'
import type { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { renderRequestHead, requestFramingOf } from '../rendering/renderRequest.js'
import { TcpError, ConnectError, ConnectTimeoutError } from '../tcp/errors.js'
import { newConnectionId } from '../tcp/TcpConnectionStage.js'
import { poolSettings, type PoolSettings, type PoolSettingsInput } from '../client/ClientSettings.js'
import { clientChannels, type PoolCloseReason } from '../client/diagnostics.js'
import { ClosedBeforeResponseError, ConnectionAbortedError, HttpClientError, InvalidRequestError, PoolOverflowError, PoolShutDownError, ResetBeforeResponseError } from '../client/errors.js'
import { clientConnectionFlow, defaultTransport, originOf, type ClientTransport, type Origin } from '../client/outgoing.js'

/** How early an expiry timer may fire and still count (see `#expire`). */
const TIMER_TOLERANCE_MS = 5

/** Methods whose requests may be sent twice (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

export interface PoolOptions {
  readonly materializer?: Materializer
  /** TLS options for https origins (`ca`, `rejectUnauthorized`, …). */
  readonly tls?: TlsConnectionOptions
  /** Replace the TCP transport (Unix sockets, tests). */
  readonly transport?: ClientTransport
  /** Told when the pool's idle timeout closed it (a shared pool is then forgotten). */
  readonly onIdle?: () => void
}

/** What the pool did so far. */
export interface PoolStats {
  readonly connections: number
  readonly idle: number
  readonly queued: number
  readonly running: number
  readonly opened: number
  /** Exchanges sent on a connection that had served one before. */
  readonly reusedExchanges: number
  readonly retries: number
  readonly closed: Readonly<Record<string, number>>
}

/** Options of one {@link HostConnectionPool.request}. */
export interface PoolRequestOptions {
  /**
   * Abandon the request when this signal aborts before its response head arrived: a queued request leaves the
   * queue, one on a connection closes that connection; the promise rejects with {@link ConnectionAbortedError}
   * (reason `aborted`). After the response arrived, cancel its entity instead.
   */
  readonly signal?: AbortSignal | undefined
}

interface PendingRequest {
  readonly request: HttpRequest
  readonly resolve: (res: HttpResponse) => void
  readonly reject: (e: unknown) => void
  retries: number
  /** A retry goes to a fresh connection. */
  fresh: boolean
}

type SlotState = 'connecting' | 'busy' | 'idle' | 'closing' | 'closed'

class Slot implements Slotted {
  /** @internal its index among the pool's connections */
  _slot = -1
  state: SlotState = 'connecting'
  readonly id = newConnectionId()
  queue!: SourceQueue<HttpRequest>
  current: PendingRequest | undefined = undefined
  /** The response of `current` was delivered (from then on a failure is the response entity's business). */
  responded = false
  exchanges = 0
  keepAlive = true
  hintMs: number | undefined = undefined
  idleSince = 0
  expiry: Cancellable | undefined = undefined
  constructor(readonly createdAt: number) {}
}

export class HostConnectionPool {
  readonly origin: Origin
  readonly settings: PoolSettings
  readonly #mat: Materializer
  readonly #transport: ClientTransport
  readonly #onIdle: (() => void) | undefined
  /**
   * A pool lives long while its connections come and go (each closed by a `Connection: close`,
   * an expiry or a lifetime): in a `Set` each connection, with its stream graph, was promoted to
   * the old generation (see SlotSet).
   */
  readonly #slots = new SlotSet<Slot>()
  readonly #waiting: PendingRequest[] = []
  /** Requests taken and not settled yet (queued or on a connection). */
  #running = 0
  #idleTimer: Cancellable | undefined
  #shutDown = false
  #opened = 0
  #reused = 0
  #retries = 0
  readonly #closed: Record<string, number> = {}

  constructor(origin: string | Origin, settings: PoolSettingsInput = {}, options: PoolOptions = {}) {
    this.origin = typeof origin === 'string' ? originOf(origin) : origin
    this.settings = poolSettings(settings)
    this.#mat = options.materializer ?? defaultMaterializer()
    this.#transport = options.transport ?? defaultTransport(options.tls)
    this.#onIdle = options.onIdle
  }

  /** `host:port`, for errors. */
  get remote(): string {
    return `${this.origin.host}:${this.origin.port}`
  }

  /**
   * Send `req` (its target may be origin-form `/path` or absolute) and resolve with the response once its head
   * arrived. The response entity must be consumed (or cancelled); one left alone is dropped after
   * `responseEntitySubscriptionTimeout`.
   */
  request(req: HttpRequest, options: PoolRequestOptions = {}): Promise<HttpResponse> {
    if (this.#shutDown) return Promise.reject(new PoolShutDownError(this.remote))
    const signal = options.signal
    if (signal?.aborted === true) {
      HttpEntity.cancel(req.entity, this.#mat)
      return Promise.reject(new ConnectionAbortedError(this.remote, false, 'aborted'))
    }
    try {
      renderRequestHead(req, { authority: this.origin.authority, close: false, userAgent: this.settings.userAgent }, requestFramingOf(req)) // (the connection reuses it)
    } catch (e) {
      return Promise.reject(e instanceof HttpClientError ? e : new InvalidRequestError(`Cannot send request: ${(e as Error).message}`))
    }
    if (this.#running >= this.settings.maxOpenRequests) {
      HttpEntity.cancel(req.entity, this.#mat)
      return Promise.reject(new PoolOverflowError(this.remote, this.settings.maxOpenRequests))
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      this.#idleTimer?.cancel()
      this.#idleTimer = undefined
      this.#running++
      let p: PendingRequest
      if (signal === undefined) p = { request: req, resolve, reject, retries: 0, fresh: false }
      else {
        const onAbort = (): void => this.#abandon(p)
        signal.addEventListener('abort', onAbort, { once: true })
        const settled = (): void => signal.removeEventListener('abort', onAbort)
        p = {
          request: req,
          resolve: (res) => (settled(), resolve(res)),
          reject: (e) => (settled(), reject(e)),
          retries: 0,
          fresh: false,
        }
      }
      this.#waiting.push(p)
      this.#dispatch()
    })
  }

  /** The caller gave up on `p` before its response: take it out of the queue, or close its connection. */
  #abandon(p: PendingRequest): void {
    const error = new ConnectionAbortedError(this.remote, true, 'aborted')
    const i = this.#waiting.indexOf(p)
    if (i >= 0) {
      this.#waiting.splice(i, 1)
      this.#running--
      HttpEntity.cancel(p.request.entity, this.#mat)
      p.reject(new ConnectionAbortedError(this.remote, false, 'aborted'))
      return this.#armPoolIdle()
    }
    for (const s of this.#slots) {
      if (s.current !== p || s.responded || s.state === 'closing' || s.state === 'closed') continue
      s.state = 'closing'
      s.expiry?.cancel()
      this.#count('aborted')
      if (clientChannels.poolConnectionClosed.hasSubscribers) clientChannels.poolConnectionClosed.publish({ remote: this.remote, id: s.id, reason: 'aborted' })
      s.queue.fail(error) // the connection fails with `error`: #lost rejects p with it (never retried)
      return
    }
  }

  /**
   * The pool as a flow: each request with a context value of the caller's, answered by the response or the
   * failure with the same context, in completion order. Backpressures when `maxConnections × pipeliningLimit`
   * requests are running.
   */
  flow<T>(): Flow<readonly [HttpRequest, T], readonly [E.Either<unknown, HttpResponse>, T], NotUsed> {
    const parallelism = this.settings.maxConnections * this.settings.pipeliningLimit
    return Flow.create<readonly [HttpRequest, T]>().mapAsyncUnordered(parallelism, ([req, ctx]) =>
      this.request(req).then(
        (res) => [E.right(res), ctx] as const,
        (e: unknown) => [E.left(e), ctx] as const,
      ),
    )
  }

  stats(): PoolStats {
    let idle = 0
    for (const s of this.#slots) if (s.state === 'idle') idle++
    return {
      connections: this.#slots.size,
      idle,
      queued: this.#waiting.length,
      running: this.#running - this.#waiting.length,
      opened: this.#opened,
      reusedExchanges: this.#reused,
      retries: this.#retries,
      closed: { ...this.#closed },
    }
  }

  /**
   * Fail queued requests, let running exchanges finish, close every connection; at `hardDeadline` abort the
   * connections still busy (their requests fail with ConnectionAbortedError). Resolves when all are closed.
   */
  async shutdown(hardDeadline: Duration = '10s'): Promise<void> {
    this.#shutDown = true
    this.#idleTimer?.cancel()
    for (const w of this.#waiting.splice(0)) {
      this.#running--
      HttpEntity.cancel(w.request.entity, this.#mat)
      w.reject(new PoolShutDownError(this.remote))
    }
    const done: Promise<void>[] = []
    for (const s of this.#slots) {
      done.push(this.#whenClosed(s))
      if (s.state !== 'busy' && s.state !== 'connecting') this.#close(s, 'shutdown')
    }
    if (done.length === 0) return
    const hard = this.#mat.scheduler.scheduleOnce(toMillis(hardDeadline, 'hardDeadline'), () => {
      for (const s of this.#slots) s.queue.fail(new ConnectionAbortedError(this.remote, s.current !== undefined, 'the pool was shut down'))
    })
    await Promise.all(done)
    hard.cancel()
  }

  readonly #closedWaiters = new Map<Slot, (() => void)[]>()
  #whenClosed(s: Slot): Promise<void> {
    if (s.state === 'closed') return Promise.resolve()
    return new Promise((resolve) => {
      const list = this.#closedWaiters.get(s) ?? []
      list.push(resolve)
      this.#closedWaiters.set(s, list)
    })
  }

  // ---- dispatching ----

  #dispatch(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0]!
      let slot = next.fresh ? undefined : this.#idleSlot()
      if (slot === undefined) {
        if (this.#slots.size >= this.settings.maxConnections) {
          // full: a retry may take the place of an idle connection (it must not reuse one)
          const idle = next.fresh ? this.#anyIdle() : undefined
          if (idle === undefined) return
          this.#close(idle, 'make-room')
        }
        const opened = this.#open()
        if (!(opened instanceof Slot)) {
          this.#waiting.shift()
          this.#running--
          next.reject(opened)
          continue
        }
        slot = opened
      }
      this.#waiting.shift()
      this.#assign(slot, next)
    }
  }

  /** The most recently used idle connection that is still certainly alive; expired ones are closed on the way. */
  #idleSlot(): Slot | undefined {
    let best: Slot | undefined
    for (const s of this.#slots) {
      if (s.state !== 'idle') continue
      const reason = this.#expired(s)
      if (reason !== undefined) {
        this.#close(s, reason)
        continue
      }
      if (best === undefined || s.idleSince > best.idleSince) best = s
    }
    return best
  }

  #anyIdle(): Slot | undefined {
    for (const s of this.#slots) if (s.state === 'idle') return s
    return undefined
  }

  /** How long an idle connection may wait for its next request, by the pool's and the server's timeouts. */
  #reuseWindow(s: Slot): number {
    const hint = s.hintMs === undefined ? Infinity : s.hintMs - this.settings.keepAliveSafetyMargin
    return Math.min(this.settings.keepAliveTimeout, hint)
  }

  #expired(s: Slot, toleranceMs = 0): PoolCloseReason | undefined {
    const now = this.#mat.scheduler.now() + toleranceMs
    if (now - s.createdAt >= this.settings.maxConnectionLifetime) return 'lifetime'
    if (now - s.idleSince >= this.#reuseWindow(s)) return s.hintMs !== undefined && s.hintMs - this.settings.keepAliveSafetyMargin < this.settings.keepAliveTimeout ? 'keep-alive-hint' : 'keep-alive-timeout'
    return undefined
  }

  /** A new connection, or what prevented building one. */
  #open(): Slot | unknown {
    const s = new Slot(this.#mat.scheduler.now())
    const hooks = {
      onResponseHead: (info: { keepAlive: boolean; keepAliveTimeoutMs: number | undefined }) => {
        s.keepAlive = info.keepAlive
        s.hintMs = this.settings.useKeepAliveHint ? info.keepAliveTimeoutMs : undefined
      },
      onExchangeDone: () => this.#exchangeDone(s),
      onEntityCancelled: () => this.#close(s, 'entity-cancelled'),
    }
    let queue: SourceQueue<HttpRequest>
    let done: Promise<void>
    try {
      ;[queue, done] = Source.queue<HttpRequest>(this.settings.pipeliningLimit, 'fail')
        .viaMat(clientConnectionFlow(this.origin, this.settings, this.#transport, hooks, s.id), Keep.left)
        .toMat(
          Sink.foreach<HttpResponse>((res) => this.#responded(s, res)),
          Keep.both,
        )
        .run(this.#mat)
    } catch (e) {
      // the transport could not even be built (e.g. bad TLS options): no connection, the request fails
      return e
    }
    this.#slots.add(s)
    this.#opened++
    if (clientChannels.poolConnectionOpened.hasSubscribers) clientChannels.poolConnectionOpened.publish({ remote: this.remote, id: s.id })
    s.queue = queue
    done.then(
      () => this.#lost(s, undefined),
      (e: unknown) => this.#lost(s, e),
    )
    return s
  }

  #assign(s: Slot, p: PendingRequest): void {
    s.expiry?.cancel()
    s.expiry = undefined
    if (s.exchanges > 0) this.#reused++
    s.state = s.state === 'connecting' ? 'connecting' : 'busy'
    s.current = p
    s.responded = false
    const result = s.queue.offer(p.request)
    if (result !== 'enqueued') this.#failed(s, p, new ConnectionAbortedError(this.remote, false, 'the connection stopped taking requests'))
  }

  #responded(s: Slot, res: HttpResponse): void {
    const p = s.current
    if (p === undefined || s.responded) return
    s.responded = true
    s.state = 'busy'
    this.#running--
    p.resolve(res)
  }

  #exchangeDone(s: Slot): void {
    s.current = undefined
    s.exchanges++
    if (s.state === 'closing' || s.state === 'closed') return
    if (!s.keepAlive) {
      this.#close(s, 'server-close')
      return this.#dispatch()
    }
    s.state = 'idle'
    s.idleSince = this.#mat.scheduler.now()
    const reason = this.#shutDown ? 'shutdown' : this.#expired(s)
    if (reason !== undefined) this.#close(s, reason)
    else {
      const window = Math.min(this.#reuseWindow(s), s.createdAt + this.settings.maxConnectionLifetime - s.idleSince)
      if (Number.isFinite(window)) s.expiry = this.#mat.scheduler.scheduleOnce(window, () => this.#expire(s))
    }
    this.#dispatch()
    this.#armPoolIdle()
  }

  #expire(s: Slot): void {
    if (s.state !== 'idle') return
    // timers may fire a little before their deadline by the clock (node's by up to ~1 ms): closing that much
    // early is harmless, keeping the connection until the next dispatch is not
    const reason = this.#expired(s, TIMER_TOLERANCE_MS)
    if (reason !== undefined) this.#close(s, reason)
  }

  /** Close a connection gracefully: it finishes what it has (nothing, when idle) and sends its FIN. */
  #close(s: Slot, reason: PoolCloseReason): void {
    if (s.state === 'closing' || s.state === 'closed') return
    s.state = 'closing'
    s.expiry?.cancel()
    this.#count(reason)
    if (clientChannels.poolConnectionClosed.hasSubscribers) clientChannels.poolConnectionClosed.publish({ remote: this.remote, id: s.id, reason })
    if (reason !== 'entity-cancelled') s.queue.complete() // (that one is closing on its own)
  }

  #count(reason: string): void {
    this.#closed[reason] = (this.#closed[reason] ?? 0) + 1
  }

  /** The connection's stream ended: cleanly (`error` undefined) or with a failure. */
  #lost(s: Slot, error: unknown): void {
    const wasClosing = s.state === 'closing'
    s.state = 'closed'
    s.expiry?.cancel()
    this.#slots.delete(s)
    if (!wasClosing) {
      const reason: PoolCloseReason = error === undefined ? 'server-fin' : 'failure'
      this.#count(reason)
      if (clientChannels.poolConnectionClosed.hasSubscribers) clientChannels.poolConnectionClosed.publish({ remote: this.remote, id: s.id, reason, error })
    }
    const p = s.current
    s.current = undefined
    if (p !== undefined && !s.responded) this.#failed(s, p, error ?? new ClosedBeforeResponseError(this.remote, true))
    for (const w of this.#closedWaiters.get(s) ?? []) w()
    this.#closedWaiters.delete(s)
    this.#dispatch()
    this.#armPoolIdle()
  }

  /** A request failed before its response: retry it on a fresh connection when that is safe, else report. */
  #failed(s: Slot, p: PendingRequest, error: unknown): void {
    if (this.#retryable(s, p, error)) {
      p.retries++
      p.fresh = true
      this.#retries++
      if (clientChannels.poolRetry.hasSubscribers) clientChannels.poolRetry.publish({ remote: this.remote, method: p.request.method, target: p.request.target, attempt: p.retries, error })
      this.#waiting.unshift(p)
      return
    }
    this.#running--
    p.reject(error)
  }

  #retryable(s: Slot, p: PendingRequest, error: unknown): boolean {
    if (this.#shutDown || p.retries >= this.settings.maxRetries || s.exchanges === 0) return false
    if (error instanceof ConnectError || error instanceof ConnectTimeoutError) return false
    const beforeResponse = error instanceof ClosedBeforeResponseError || error instanceof ResetBeforeResponseError || (error instanceof TcpError && !s.responded)
    if (!beforeResponse) return false
    const written = error instanceof HttpClientError ? error.requestWritten : true
    if (!written) return true
    return IDEMPOTENT.has(p.request.method) && p.request.entity.kind === 'strict'
  }

  #armPoolIdle(): void {
    if (this.#running > 0 || this.#waiting.length > 0 || this.#idleTimer !== undefined || this.#shutDown) return
    if (!Number.isFinite(this.settings.poolIdleTimeout)) return
    this.#idleTimer = this.#mat.scheduler.scheduleOnce(this.settings.poolIdleTimeout, () => {
      this.#idleTimer = undefined
      if (this.#running > 0 || this.#waiting.length > 0) return
      for (const s of this.#slots) this.#close(s, 'pool-idle')
      this.#onIdle?.()
    })
  }
}

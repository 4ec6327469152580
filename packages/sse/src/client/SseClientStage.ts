/**
 * The SSE client as one source stage: the EventSource processing model (WHATWG HTML §9.2.3) as a state machine.
 *
 * ```
 *            ┌──────── 3xx: follow (≤ maxRedirects) ───────┐
 *            ▼                                              │
 *   ──▶ connecting ── 200 text/event-stream ──▶ open ── body ends or breaks ──▶ waiting ──(reconnection time)──▶ connecting
 *            │  └──── network error / reconnectOnStatus ─────────────────────▶ waiting (with backoff; maxAttempts)
 *            ├── 204 ──▶ completes (after the events already parsed)
 *            └── other status, wrong content type, bad redirect ──▶ fails (typed, see errors.ts); so does an event past maxEventSize
 * ```
 *
 * Contract: one request at a time (GET, `Accept: text/event-stream`, `Cache-Control: no-cache`, `Last-Event-ID`
 * once an ID is known). The response body is read through a sub-sink port one chunk at a time, and only while
 * downstream wants an event and none is waiting: a slow consumer slows the socket. Each connection gets a fresh
 * {@link SseParser} that starts from the last event ID, so an event without `id` keeps it across reconnections; a
 * `retry:` field sets the reconnection time for this and later connections. Reconnection waits on a stage timer
 * (the materializer's scheduler). Redirects are followed per connection; a reconnection starts again at the
 * original URL (as the browser's EventSource does). Cancellation and `close()` stop everything at once: the body is
 * cancelled (its connection closed), the timer dropped, a response still on its way cancelled when it arrives.
 */
import { GraphStageLogic, StreamDetachedError, GraphStageWithMaterializedValue, Outlet, SourceShape, SubSinkInlet, type OutHandler, type SubSinkInletHandler } from '@weir/core'
import { HttpClientError, HttpEntity, HttpParseError, HttpRequest, InvalidRequestError, PoolShutDownError, TcpError, type HttpResponse } from '@weir/http'
import { SseParser, type ParsedEvent } from '../parser.js'
import type { ServerSentEvent } from '../ServerSentEvent.js'
import { SseClientControl, type SseControlUpdate } from './control.js'
import { sseClientChannels, type SseClientCloseReason } from './diagnostics.js'
import { SseAttemptsExhaustedError, SseContentTypeError, SseEventTooLargeError, SseRedirectError, SseStatusError } from './errors.js'
import { httpUrl, type SseClientSettings } from './options.js'

/** Statuses fetch follows as redirects (WHATWG Fetch "redirect status"). */
const REDIRECT = new Set([301, 302, 303, 307, 308])
/** Request fields not carried to another origin by a redirect (as fetch drops `Authorization`). */
const CREDENTIALS = ['authorization', 'proxy-authorization', 'cookie']
const RECONNECT = 'SseClient.reconnect'

type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting'; readonly url: URL; readonly redirects: number; readonly generation: number }
  | { readonly kind: 'open'; readonly url: URL; readonly body: SubSinkInlet<Uint8Array>; readonly parser: SseParser }
  | { readonly kind: 'waiting' }
  | { readonly kind: 'draining' }
  | { readonly kind: 'stopped' }

/** What the request of one generation came back with. */
type Answer = { readonly generation: number; readonly response: HttpResponse } | { readonly generation: number; readonly error: unknown }

/** Whether a failure to get a response is one a browser reconnects after (a "network error"). */
function isNetworkError(e: unknown): boolean {
  if (e instanceof InvalidRequestError || e instanceof PoolShutDownError) return false
  return e instanceof HttpClientError || e instanceof TcpError || e instanceof HttpParseError || e instanceof SseStatusError
}

/** The media type essence (`text/event-stream; charset=utf-8` → `text/event-stream`). */
function essence(contentType: string): string {
  const semi = contentType.indexOf(';')
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

/** A header value carrying `text` as UTF-8 (the request head is written byte per char). */
function utf8Field(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1')
}

function toEvent(e: ParsedEvent): ServerSentEvent {
  return e.lastEventId.length === 0 ? { data: e.data, event: e.type } : { data: e.data, event: e.type, id: e.lastEventId }
}

class SseClientLogic extends GraphStageLogic implements OutHandler, SubSinkInletHandler {
  readonly #out: Outlet<ServerSentEvent>
  readonly #settings: SseClientSettings
  readonly #control: SseControlUpdate
  readonly #answered = this.getAsyncCallback<Answer>((a) => this.#onAnswer(a))
  readonly #closeCallback = this.getAsyncCallback<void>(() => this.#close())
  #state: State = { kind: 'idle' }
  /** Parsed events not pushed yet (a chunk may complete several). */
  #queue: ServerSentEvent[] = []
  #queueHead = 0
  #lastEventId: string
  #reconnectionTime: number
  /** Connection attempts in a row that did not open a stream. */
  #failures = 0
  #generation = 0
  #closeReason: SseClientCloseReason = 'cancelled'
  #error: unknown = undefined

  constructor(shape: SourceShape<ServerSentEvent>, settings: SseClientSettings, control: SseControlUpdate) {
    super(shape)
    this.#out = shape.out
    this.#settings = settings
    this.#control = control
    this.#lastEventId = settings.lastEventId
    this.#reconnectionTime = settings.reconnectionTimeMs
    this.setHandler(shape.out, this)
    control.attach(() => this.#closeCallback.invoke())
  }

  override preStart(): void {
    this.#connect(this.#settings.url, 0)
  }

  /** Aborts the request in flight (the stream stopped before its response came). */
  #abortConnect: AbortController | undefined = undefined

  override postStop(): void {
    if (this.#state.kind === 'connecting') this.#abortConnect?.abort(new StreamDetachedError('The SSE client stream stopped'))
    if (this.#state.kind === 'open') this.#state.body.cancel()
    this.#state = { kind: 'stopped' }
    this.#control.stopped(this.#closeReason === 'failed' ? this.#error : undefined, this.#closeReason === 'failed')
    if (sseClientChannels.close.hasSubscribers) sseClientChannels.close.publish({ url: this.#settings.url.href, reason: this.#closeReason, error: this.#error })
  }

  // ---- downstream ----

  onPull(): void {
    if (this.#queueHead < this.#queue.length) this.#pushOne()
    else this.#readMore()
  }

  onDownstreamFinish(cause: unknown): void {
    this.#closeReason = 'cancelled'
    if (this.#state.kind === 'open') this.#state.body.cancel(cause)
    this.cancelStage(cause)
  }

  #pushOne(): void {
    const e = this.#queue[this.#queueHead]!
    this.#queue[this.#queueHead++] = undefined as never
    if (this.#queueHead === this.#queue.length) {
      this.#queue = []
      this.#queueHead = 0
    }
    this.push(this.#out, e)
    if (this.#state.kind === 'draining' && this.#queueHead === this.#queue.length) this.completeStage()
  }

  /** Pull the next chunk of the body when downstream waits and no parsed event is left. */
  #readMore(): void {
    const s = this.#state
    if (s.kind !== 'open' || this.#queueHead < this.#queue.length || !this.isAvailable(this.#out)) return
    if (!s.body.hasBeenPulled && !s.body.isClosed) s.body.pull()
  }

  // ---- connecting ----

  #connect(url: URL, redirects: number): void {
    const generation = ++this.#generation
    this.#state = { kind: 'connecting', url, redirects, generation }
    this.#control.update('connecting', this.#lastEventId, this.#reconnectionTime)
    if (sseClientChannels.connect.hasSubscribers) sseClientChannels.connect.publish({ url: url.href, attempt: this.#failures + 1, lastEventId: this.#lastEventId })
    let headers = this.#settings.headers.delete('last-event-id')
    if (url.origin !== this.#settings.url.origin) for (const name of CREDENTIALS) headers = headers.delete(name)
    if (!headers.has('accept')) headers = headers.add('Accept', 'text/event-stream')
    if (!headers.has('cache-control')) headers = headers.add('Cache-Control', 'no-cache')
    if (this.#lastEventId.length > 0) headers = headers.add('Last-Event-ID', utf8Field(this.#lastEventId))
    const request = HttpRequest.get(url.href, headers)
    const abort = new AbortController()
    this.#abortConnect = abort
    let pending: Promise<HttpResponse>
    try {
      pending = this.#settings.connect(request, { materializer: this.materializer, signal: abort.signal })
    } catch (e) {
      pending = Promise.reject(e)
    }
    const mat = this.materializer
    pending.then(
      (response) => {
        // the stage stopped meanwhile: nobody will read this body, let its connection go
        if (!this.#answered.invoke({ generation, response })) HttpEntity.cancel(response.entity, mat)
      },
      (error: unknown) => this.#answered.invoke({ generation, error }),
    )
  }

  #onAnswer(a: Answer): void {
    const s = this.#state
    if (s.kind !== 'connecting' || s.generation !== a.generation) {
      if ('response' in a) HttpEntity.cancel(a.response.entity, this.materializer)
      return
    }
    if ('error' in a) return this.#attemptFailed(a.error)
    const res = a.response
    const status = res.status
    if (status === 200) {
      const contentType = res.headers.get('content-type') ?? res.entity.contentType
      if (contentType !== undefined && essence(contentType) === 'text/event-stream') return this.#open(s.url, res)
      HttpEntity.cancel(res.entity, this.materializer)
      return this.#fail(new SseContentTypeError(s.url.href, contentType))
    }
    HttpEntity.cancel(res.entity, this.materializer)
    if (status === 204) return this.#finish()
    if (REDIRECT.has(status)) {
      const location = res.headers.get('location')
      if (location !== undefined) return this.#redirect(s.url, s.redirects, location)
    }
    const error = new SseStatusError(s.url.href, status)
    if (this.#settings.reconnectOnStatus.has(status)) this.#attemptFailed(error)
    else this.#fail(error)
  }

  #redirect(from: URL, redirects: number, location: string): void {
    if (redirects >= this.#settings.maxRedirects) return this.#fail(new SseRedirectError(from.href, 'too-many', location, redirects))
    const to = httpUrl(location, from)
    if (to === undefined) return this.#fail(new SseRedirectError(from.href, 'bad-location', location, redirects))
    this.#connect(to, redirects + 1)
  }

  /** A connection attempt got no usable response: reconnect with backoff, or give up. */
  #attemptFailed(error: unknown): void {
    if (!isNetworkError(error)) return this.#fail(error)
    this.#failures++
    if (this.#failures >= this.#settings.maxAttempts) return this.#fail(new SseAttemptsExhaustedError(this.#settings.url.href, this.#failures, error))
    const base = this.#reconnectionTime
    const grown = base * this.#settings.backoffFactor ** (this.#failures - 1)
    this.#waitAndReconnect(Math.max(base, Math.min(grown, this.#settings.maxBackoffMs)), 'error', error)
  }

  #waitAndReconnect(delayMs: number, reason: 'end' | 'error', error: unknown): void {
    this.#state = { kind: 'waiting' }
    this.#control.update('connecting', this.#lastEventId, this.#reconnectionTime)
    if (sseClientChannels.reconnect.hasSubscribers) sseClientChannels.reconnect.publish({ url: this.#settings.url.href, delayMs, reason, error })
    this.scheduleOnce(RECONNECT, delayMs)
  }

  protected override onTimer(_key: unknown): void {
    if (this.#state.kind === 'waiting') this.#connect(this.#settings.url, 0)
  }

  // ---- open: reading the body ----

  #open(url: URL, res: HttpResponse): void {
    this.#failures = 0
    const body = new SubSinkInlet<Uint8Array>(this, 'SseClient.body')
    body.setHandler(this)
    this.#state = { kind: 'open', url, body, parser: new SseParser({ lastEventId: this.#lastEventId }) }
    this.#control.update('open', this.#lastEventId, this.#reconnectionTime)
    if (sseClientChannels.open.hasSubscribers) sseClientChannels.open.publish({ url: url.href, status: res.status })
    HttpEntity.dataBytes(res.entity).runWith(body.sink, this.materializer)
    this.#readMore()
  }

  onPush(): void {
    const s = this.#state
    if (s.kind !== 'open') return
    const events = s.parser.feed(s.body.grab())
    const pending = s.parser.pendingLength
    if (pending > this.#settings.maxEventSize) return this.#fail(new SseEventTooLargeError(s.url.href, this.#settings.maxEventSize, pending))
    this.#lastEventId = s.parser.lastEventId
    this.#reconnectionTime = s.parser.reconnectionTime ?? this.#reconnectionTime
    this.#control.update('open', this.#lastEventId, this.#reconnectionTime)
    for (let i = 0; i < events.length; i++) this.#queue.push(toEvent(events[i]!))
    if (this.#queueHead < this.#queue.length && this.isAvailable(this.#out)) this.#pushOne()
    else this.#readMore()
  }

  /** The server ended the body (FIN, or the end of a chunked body): reconnect after the reconnection time. */
  onUpstreamFinish(): void {
    if (this.#state.kind === 'open') this.#waitAndReconnect(this.#reconnectionTime, 'end', undefined)
  }

  /** The body broke (reset, truncated, idle timeout): a network error after the stream was open. */
  onUpstreamFailure(error: unknown): void {
    if (this.#state.kind === 'open') this.#waitAndReconnect(this.#reconnectionTime, 'error', error)
  }

  // ---- ending ----

  /** 204: no reconnection; the events already parsed are still delivered. */
  #finish(): void {
    this.#closeReason = 'no-content'
    if (this.#queueHead < this.#queue.length) this.#state = { kind: 'draining' }
    else this.completeStage()
  }

  #close(): void {
    this.#closeReason = 'closed'
    if (this.#state.kind === 'open') this.#state.body.cancel()
    this.completeStage()
  }

  #fail(error: unknown): void {
    this.#closeReason = 'failed'
    this.#error = error
    this.failStage(error)
  }
}

/** The blueprint: one {@link SseClientLogic} and its {@link SseClientControl} per materialization. */
export class SseClientStage extends GraphStageWithMaterializedValue<SourceShape<ServerSentEvent>, SseClientControl> {
  readonly shape = new SourceShape(new Outlet<ServerSentEvent>('SseClient.out'))
  constructor(readonly settings: SseClientSettings) {
    super()
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, SseClientControl] {
    const [control, update] = SseClientControl.create(this.settings)
    return [new SseClientLogic(this.shape, this.settings, update), control]
  }
}

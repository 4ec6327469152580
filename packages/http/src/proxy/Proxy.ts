/**
 * Reverse-proxy building blocks: a request goes to an upstream server, its response comes back.
 *
 * ```ts
 * const proxy = Proxy.to('http://127.0.0.1:9000')            // a Handler: bind it, or call it from a route
 * await Http.newServerAt('127.0.0.1', 8080).bind(proxy)
 * await Http.newServerAt('127.0.0.1', 8081).bind((req) => (req.path.startsWith('/api/') ? proxy(req) : HttpResponse.text('home')))
 * ```
 *
 * What a proxied exchange does (DESIGN §1 B):
 * - the request goes through the proxy's {@link HostConnectionPool} with its headers rewritten by
 *   {@link forwardRequestHeaders} (hop-by-hop fields stripped, `Via` and `X-Forwarded-*` appended), its target
 *   rewritten by `rewritePath` under the upstream URL's path; its entity is streamed, read from the client only as
 *   fast as the upstream takes it;
 * - the response is not handed to the server before the request entity has been forwarded to its end (or stopped
 *   being forwarded), for at most `holdResponse`: an upstream that answers early does not make the proxy answer
 *   early, which would force it to close its client's connection;
 * - the response's headers are rewritten by {@link forwardResponseHeaders}; its entity is streamed, read from the
 *   upstream only as fast as the client takes it;
 * - when the client goes away before the response head arrived, the request's signal aborts and the upstream
 *   request is abandoned (its connection closed); after that, the server cancels the response entity, which
 *   cancels the upstream response (a small rest is drained, otherwise the upstream connection is closed);
 * - an upstream failure becomes a 502 or 504 whose body says which ({@link failureResponse}).
 *
 * Keep the pool's `responseTimeout` below the server's `requestTimeout`, or a slow upstream gets the server's 503
 * instead of the proxy's 504.
 */
import { InvalidArgumentError, Source, defaultMaterializer, toMillis, type Duration, type Materializer, type Scheduler } from '@weir/core'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { HostConnectionPool } from '../pool/HostConnectionPool.js'
import type { PoolSettingsInput } from '../client/ClientSettings.js'
import { originOf } from '../client/outgoing.js'
import { originForm } from '../rendering/renderRequest.js'
import { proxyChannels } from './diagnostics.js'
import { classifyUpstreamFailure, failureResponse } from './failures.js'
import { forwardRequestHeaders, forwardResponseHeaders, type ForwardedFields } from './headers.js'

/** How a request is rewritten for its upstream. */
export interface ForwardOptions {
  /** Pseudonym of this proxy in `Via` (default `'weir'`); false adds no `Via`. */
  readonly via?: string | false
  /** Which `X-Forwarded-*` fields to add (default: `for`, `proto` and `host`). */
  readonly forwarded?: ForwardedFields
  /** Keep an earlier proxy's `X-Forwarded-Proto`/`-Host` instead of replacing them (default false: a client could forge them). */
  readonly trustForwarded?: boolean
  /** Keep the client's `Host` (default false: the upstream's authority). */
  readonly preserveHost?: boolean
  /** Path prefix of the upstream (`/v2` for `http://host/v2`), put before the (rewritten) path. */
  readonly basePath?: string
  /** Rewrite the path (without the query, which is kept): `(path) => path.replace(/^\/api/, '')`. */
  readonly rewritePath?: (path: string, req: HttpRequest) => string
}

/** Options of {@link Proxy.to}. */
export interface ProxyOptions extends ForwardOptions {
  /**
   * Settings of the pool the proxy creates, or an existing pool for the upstream's origin. The created pool's
   * `responseEntitySubscriptionTimeout` defaults to `holdResponse` + 1 s, so a held response keeps its body; give
   * an existing pool at least as much.
   */
  readonly pool?: HostConnectionPool | PoolSettingsInput
  /** Materializer of the created pool, and the scheduler of the response hold. */
  readonly materializer?: Materializer
  /**
   * How long an upstream response waits for the request entity to be forwarded to its end (default `'5s'`);
   * then it is sent anyway and the server closes the client connection after it (an early response).
   */
  readonly holdResponse?: Duration
}

/** A request rewritten for its upstream. */
export interface ForwardedRequest {
  readonly request: HttpRequest
  /** True when the entity is a stream whose forwarding is watched by `entityDone`. */
  readonly streamed: boolean
  /**
   * Settles (never rejects) when the request entity's stream has terminated — forwarded to its end, failed, or
   * cancelled by the upstream connection; at once for a strict entity. Never settles if the entity is never sent.
   */
  readonly entityDone: Promise<void>
}

/** A proxy handler, with the pool it sends requests through. */
export interface ProxyHandler {
  (req: HttpRequest): Promise<HttpResponse>
  readonly pool: HostConnectionPool
}

const DONE = Promise.resolve()
const DEFAULT_HOLD = '5s'

/** `req` as it goes to the upstream: headers and target rewritten, entity watched. */
function forwardRequest(req: HttpRequest, options: ForwardOptions = {}): ForwardedRequest {
  const headers = forwardRequestHeaders(req.headers, {
    via: options.via ?? 'weir',
    version: req.version,
    remoteAddress: req.remoteAddress,
    secure: req.secure,
    forwarded: options.forwarded ?? {},
    trustForwarded: options.trustForwarded ?? false,
    preserveHost: options.preserveHost ?? false,
  })
  const target = upstreamTarget(req, options)
  const e = req.entity
  if (e.kind === 'strict') return { request: new HttpRequest(req.method, target, headers, e, req.version), streamed: false, entityDone: DONE }
  let done!: () => void
  const entityDone = new Promise<void>((resolve) => (done = resolve))
  const data = e.data.watchTermination((mat, terminated) => {
    terminated.then(done, done)
    return mat
  })
  const entity = HttpEntity.streamed(data, { contentType: e.contentType, contentLength: e.contentLength })
  return { request: new HttpRequest(req.method, target, headers, entity, req.version), streamed: true, entityDone }
}

function upstreamTarget(req: HttpRequest, options: ForwardOptions): string {
  const target = originForm(req.target)
  if (options.rewritePath === undefined && (options.basePath === undefined || options.basePath === '')) return target
  const q = target.indexOf('?')
  const query = q < 0 ? '' : target.slice(q)
  let path = options.rewritePath === undefined ? req.path : options.rewritePath(req.path, req)
  if (!path.startsWith('/')) path = `/${path}`
  const base = options.basePath ?? ''
  return base !== '' && path === '/' ? `${base}${query}` : `${base}${path}${query}`
}

/**
 * An upstream response as it goes back to the client: hop-by-hop fields stripped, `Via` appended. A response to
 * HEAD keeps the length its upstream announced (the connection writes `Content-Length` from the entity, which is
 * empty here), so give `requestMethod`.
 */
function forwardResponse(res: HttpResponse, options: { readonly via?: string | false; readonly requestMethod?: string } = {}): HttpResponse {
  const headers = forwardResponseHeaders(res.headers, options.via ?? 'weir')
  let entity = res.entity
  if (options.requestMethod === 'HEAD' && entity.kind === 'strict' && entity.data.length === 0) {
    const announced = res.headers.get('content-length')
    if (announced !== undefined && /^\d{1,15}$/.test(announced.trim())) {
      entity = HttpEntity.streamed(Source.empty(), { contentType: entity.contentType, contentLength: Number(announced.trim()) })
    }
  }
  return new HttpResponse(res.status, headers, entity)
}

/** Resolves true when `done` settles, false when `ms` pass first (on `scheduler`'s clock). */
function within(done: Promise<void>, ms: number, scheduler: Scheduler): Promise<boolean> {
  if (!Number.isFinite(ms)) return done.then(() => true)
  return new Promise<boolean>((resolve) => {
    const timer = scheduler.scheduleOnce(ms, () => resolve(false))
    void done.then(() => {
      timer.cancel()
      resolve(true)
    })
  })
}

function to(upstream: string, options: ProxyOptions = {}): ProxyHandler {
  const origin = originOf(upstream) // an absolute http(s) URL, or InvalidRequestError
  const url = new URL(upstream)
  const mat = options.materializer ?? defaultMaterializer()
  const holdMs = toMillis(options.holdResponse ?? DEFAULT_HOLD, 'holdResponse')
  const given = options.pool instanceof HostConnectionPool ? options.pool : undefined
  if (given !== undefined && given.origin.key !== origin.key) throw new InvalidArgumentError('pool', given.origin.key, `a pool for ${origin.key}`)
  const pool = given ?? new HostConnectionPool(origin, withEntitySubscription((options.pool as PoolSettingsInput | undefined) ?? {}, holdMs), { materializer: mat })
  const forward: ForwardOptions = { ...options, basePath: options.basePath ?? url.pathname.replace(/\/+$/, '') }
  const via = options.via ?? 'weir'
  const name = pool.remote

  const handler = async (req: HttpRequest): Promise<HttpResponse> => {
    const signal = req.signal
    const fwd = forwardRequest(req, forward)
    let res: HttpResponse
    try {
      res = await pool.request(fwd.request, { signal })
    } catch (e) {
      if (proxyChannels.upstreamFailure.hasSubscribers) {
        const f = classifyUpstreamFailure(e)
        proxyChannels.upstreamFailure.publish({ upstream: name, method: req.method, target: req.target, kind: f.kind, status: f.status, code: f.code, error: e })
      }
      return failureResponse(e)
    }
    if (fwd.streamed && !(await within(fwd.entityDone, holdMs, mat.scheduler)) && proxyChannels.holdExpired.hasSubscribers) {
      proxyChannels.holdExpired.publish({ upstream: name, method: req.method, target: req.target, holdMs })
    }
    if (signal?.aborted === true) {
      HttpEntity.cancel(res.entity, mat) // nobody will read it: release the upstream connection now
      return failureResponse(signal.reason)
    }
    return forwardResponse(res, { via, requestMethod: req.method })
  }
  return Object.assign(handler, { pool })
}

/**
 * The created pool keeps an unread response entity at least as long as the proxy may hold the response (the
 * client connection drops an entity nobody subscribed to after `responseEntitySubscriptionTimeout`).
 */
function withEntitySubscription(settings: PoolSettingsInput, holdMs: number): PoolSettingsInput {
  if (settings.responseEntitySubscriptionTimeout !== undefined) return settings
  return { ...settings, responseEntitySubscriptionTimeout: Number.isFinite(holdMs) ? Math.max(1000, holdMs + 1000) : 'infinite' }
}

export const Proxy = {
  /** A handler that forwards every request to `upstream` (`http(s)://host:port[/base-path]`); see the module comment. */
  to,
  /** `req` rewritten for an upstream, with a promise of its entity having been forwarded (compose your own proxy). */
  forwardRequest,
  /** An upstream response rewritten for the client. */
  forwardResponse,
  /** The 502/503/504 for a failed upstream request, its body saying which failure. */
  failureResponse,
}

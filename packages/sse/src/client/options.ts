/**
 * Options of the SSE client, checked when the source is created: a bad value throws `InvalidArgumentError` naming
 * the option, the value and what was expected, before any connection is made. Durations take milliseconds or
 * strings such as `'3s'`.
 */
import { InvalidArgumentError, toMillis, type Duration, type Materializer } from '@weir/core'
import { Headers, Http, type HttpRequest, type HttpResponse, type PoolSettingsInput } from '@weir/http'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'

/**
 * Sends one request of the client and resolves with the response once its head arrived (the entity streamed).
 * The default sends it through `Http.singleRequest` on the stream's materializer.
 */
export type SseConnect = (request: HttpRequest, context: { readonly materializer: Materializer; readonly signal: AbortSignal }) => Promise<HttpResponse>

/** How the delay grows while connection attempts keep failing. */
export interface SseBackoff {
  /** Each failed attempt in a row multiplies the delay by this (default 2; 1: a constant delay). */
  readonly factor?: number
  /** The delay never grows past this (default `'30s'`; never below the reconnection time itself). */
  readonly max?: Duration
}

export interface SseClientOptions {
  /** Extra request headers (`Accept` and `Cache-Control` are added unless given; `Last-Event-ID` is the client's). */
  readonly headers?: Headers
  /** The last event ID to start from: sent as `Last-Event-ID` on the first request already. */
  readonly lastEventId?: string
  /** The reconnection time until the server sets one with `retry:` (default `'3s'`). */
  readonly reconnectionTime?: Duration
  /** Backoff for attempts that fail (network errors, `reconnectOnStatus`); a stream that ended waits exactly the reconnection time. */
  readonly backoff?: SseBackoff
  /** Connection attempts in a row that may fail before the stream fails with `SseAttemptsExhaustedError` (default: unlimited). */
  readonly maxAttempts?: number
  /** Redirects (301, 302, 303, 307, 308) followed in a row before failing with `SseRedirectError` (default 20, as fetch). */
  readonly maxRedirects?: number
  /** Statuses treated like a network error — reconnect with backoff — instead of failing the stream (default none; e.g. `[502, 503, 504]`). */
  readonly reconnectOnStatus?: readonly number[]
  /** Characters an event may hold before it ends (its data and an unfinished line); past it the stream fails with `SseEventTooLargeError` (default 4 Mi). */
  readonly maxEventSize?: number
  /** Settings of the shared pool `Http.singleRequest` creates for the origin (ignored with `connect`). */
  readonly pool?: PoolSettingsInput
  /** TLS options for https URLs (ignored with `connect`). */
  readonly tls?: TlsConnectionOptions
  /** Replace how requests are sent (a dedicated pool, a proxy, tests). */
  readonly connect?: SseConnect
}

/** The options, checked and resolved. */
export interface SseClientSettings {
  readonly url: URL
  readonly headers: Headers
  readonly lastEventId: string
  readonly reconnectionTimeMs: number
  readonly backoffFactor: number
  readonly maxBackoffMs: number
  readonly maxAttempts: number
  readonly maxRedirects: number
  readonly reconnectOnStatus: ReadonlySet<number>
  readonly maxEventSize: number
  readonly connect: SseConnect
}

const DEFAULT_RECONNECTION_TIME = 3000
const DEFAULT_BACKOFF_FACTOR = 2
const DEFAULT_MAX_BACKOFF = 30_000
/** The redirect limit of fetch (WHATWG Fetch §4.4 "HTTP-redirect fetch", step 5). */
const DEFAULT_MAX_REDIRECTS = 20
/** Bounds the memory a stream that never ends an event can take (the format itself has no limit). */
const DEFAULT_MAX_EVENT_SIZE = 4 * 1024 * 1024

/** Whether `url` is an absolute http(s) URL; the parsed URL or undefined. */
export function httpUrl(url: string | URL, base?: URL): URL | undefined {
  let u: URL
  try {
    u = new URL(url, base)
  } catch {
    return undefined
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined
}

function positiveInt(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (value === Infinity && fallback === Infinity) return value
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError(name, value, `an integer >= ${min}${fallback === Infinity ? ' or Infinity' : ''}`)
  return value
}

/** Check `options` for a client of `url`; throws InvalidArgumentError on the first bad one. */
export function resolveOptions(url: string | URL, options: SseClientOptions): SseClientSettings {
  const u = httpUrl(url)
  if (u === undefined) throw new InvalidArgumentError('url', String(url), 'an absolute http or https URL')
  const lastEventId = options.lastEventId ?? ''
  if (/[\0\r\n]/.test(lastEventId)) throw new InvalidArgumentError('lastEventId', lastEventId, 'a string without NUL, CR or LF')
  const reconnectionTimeMs = toMillis(options.reconnectionTime ?? DEFAULT_RECONNECTION_TIME, 'reconnectionTime')
  if (!Number.isFinite(reconnectionTimeMs)) throw new InvalidArgumentError('reconnectionTime', options.reconnectionTime, 'a finite duration')
  const backoffFactor = options.backoff?.factor ?? DEFAULT_BACKOFF_FACTOR
  if (!(Number.isFinite(backoffFactor) && backoffFactor >= 1)) throw new InvalidArgumentError('backoff.factor', backoffFactor, 'a finite number >= 1')
  const maxBackoffMs = toMillis(options.backoff?.max ?? DEFAULT_MAX_BACKOFF, 'backoff.max')
  const reconnectOnStatus = new Set(options.reconnectOnStatus ?? [])
  for (const s of reconnectOnStatus) {
    if (!Number.isInteger(s) || s < 100 || s > 599 || s === 200 || s === 204) throw new InvalidArgumentError('reconnectOnStatus', s, 'statuses 100–599 other than 200 and 204')
  }
  const pool = options.pool
  const tls = options.tls
  return {
    url: u,
    headers: options.headers ?? Headers.empty,
    lastEventId,
    reconnectionTimeMs,
    backoffFactor,
    maxBackoffMs,
    maxAttempts: positiveInt('maxAttempts', options.maxAttempts, Infinity, 1),
    maxRedirects: positiveInt('maxRedirects', options.maxRedirects, DEFAULT_MAX_REDIRECTS, 0),
    reconnectOnStatus,
    maxEventSize: positiveInt('maxEventSize', options.maxEventSize, DEFAULT_MAX_EVENT_SIZE, 1),
    connect: options.connect ?? ((req, { materializer, signal }) => Http.singleRequest(req, { materializer, settings: pool, tls, signal })),
  }
}

/**
 * The client entry points, attached to `Http`:
 *
 * ```ts
 * const res = await Http.singleRequest(HttpRequest.get('http://127.0.0.1:9000/items'))
 * const pool = Http.hostPool('http://127.0.0.1:9000', { maxConnections: 32, keepAliveTimeout: '4s' })
 * const flow = pool.flow<number>()          // Flow<[HttpRequest, T], [Either<error, HttpResponse>, T]>
 * const conn = Http.outgoingConnection('127.0.0.1', 9000)   // Flow<HttpRequest, HttpResponse> over one connection
 * ```
 *
 * `singleRequest` and `superPool` share one pool per origin (scheme, host, port) and materializer, created with
 * the default pool settings (or those given to the first request for that origin) and dropped after its
 * `poolIdleTimeout`.
 */
import { Flow, defaultMaterializer, type Materializer, type NotUsed } from '@weir/core'
import * as E from 'fp-ts/lib/Either.js'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import type { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { HostConnectionPool, type PoolOptions } from '../pool/HostConnectionPool.js'
import { clientSettings, type ClientSettingsInput, type PoolSettingsInput } from './ClientSettings.js'
import { clientConnectionFlow, defaultTransport, originOf } from './outgoing.js'

const shared = new WeakMap<Materializer, Map<string, HostConnectionPool>>()

/** The shared pool of `url`'s origin for `materializer`. */
function sharedPool(url: string, settings: PoolSettingsInput | undefined, options: PoolOptions): HostConnectionPool {
  const mat = options.materializer ?? defaultMaterializer()
  const origin = originOf(url)
  let pools = shared.get(mat)
  if (pools === undefined) shared.set(mat, (pools = new Map()))
  let pool = pools.get(origin.key)
  if (pool === undefined) {
    const map = pools
    const created: HostConnectionPool = new HostConnectionPool(origin, settings, {
      ...options,
      materializer: mat,
      onIdle: () => {
        if (map.get(origin.key) === created) map.delete(origin.key)
      },
    })
    pool = created
    pools.set(origin.key, pool)
  }
  return pool
}

export interface ClientOptions {
  readonly materializer?: Materializer
  readonly tls?: TlsConnectionOptions
  /** Settings of the shared pool, used when this request creates it. */
  readonly settings?: PoolSettingsInput
  /** Abandon the request when this signal aborts (see `HostConnectionPool.request`). */
  readonly signal?: AbortSignal
}

export const HttpClient = {
  /** Send one request to the absolute URL in its target, over the shared pool of that origin. */
  singleRequest(req: HttpRequest, options: ClientOptions = {}): Promise<HttpResponse> {
    let pool: HostConnectionPool
    try {
      pool = sharedPool(req.target, options.settings, options)
    } catch (e) {
      return Promise.reject(e)
    }
    return pool.request(req, options.signal === undefined ? {} : { signal: options.signal })
  },

  /** A pool of connections to one origin (`http://host:port`). */
  hostPool(origin: string, settings: PoolSettingsInput = {}, options: PoolOptions = {}): HostConnectionPool {
    return new HostConnectionPool(origin, settings, options)
  },

  /**
   * Requests to any origins (absolute targets), each through the shared pool of its origin; answered in
   * completion order with the caller's context value. Backpressures when `parallelism` requests are running.
   */
  superPool<T>(options: ClientOptions & { readonly parallelism?: number } = {}): Flow<readonly [HttpRequest, T], readonly [E.Either<unknown, HttpResponse>, T], NotUsed> {
    return Flow.create<readonly [HttpRequest, T]>().mapAsyncUnordered(options.parallelism ?? 64, ([req, ctx]) =>
      HttpClient.singleRequest(req, options).then(
        (res) => [E.right(res), ctx] as const,
        (e: unknown) => [E.left(e), ctx] as const,
      ),
    )
  },

  /** One connection to `host:port` as a flow of requests to responses (in order); it opens when materialized. */
  outgoingConnection(host: string, port: number, settings: ClientSettingsInput = {}, options: { readonly https?: boolean; readonly tls?: TlsConnectionOptions } = {}): Flow<HttpRequest, HttpResponse, unknown> {
    const scheme = options.https === true ? 'https' : 'http'
    const origin = originOf(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`)
    return clientConnectionFlow(origin, clientSettings(settings), defaultTransport(options.tls))
  },
}

/**
 * The demo's reverse-proxy route: `/proxy/<rest>` is forwarded to the upstream as `/<rest>` by the library's
 * `Proxy.to` handler — hop-by-hop fields stripped both ways, `Via` and `X-Forwarded-*` added, the response held
 * until the request body was forwarded, the upstream exchange abandoned when the client leaves, and an upstream
 * that cannot be reached or does not answer in time answered with 502 or 504 and a line saying which.
 */
import type { Materializer } from '@weir/core'
import { Proxy, type HostConnectionPool, type HttpRequest, type HttpResponse } from '@weir/http'

/** A proxy to one upstream origin. */
export interface Forwarder {
  /** Sends `req` (its target under the `/proxy` prefix) upstream and answers with the upstream's response. */
  forward(req: HttpRequest): Promise<HttpResponse>
  /** The pool's figures: connections opened, reused, closed by reason. */
  readonly pool: HostConnectionPool
  /** Closes the pool's connections (in-flight exchanges get until `hardDeadline`). */
  shutdown(hardDeadline: string): Promise<void>
}

export const PROXY_PREFIX = '/proxy'

/** The upstream path of a request path under {@link PROXY_PREFIX}: `/proxy/a` → `/a`, `/proxy` → `/`. */
export function upstreamPath(path: string): string {
  const rest = path.startsWith(PROXY_PREFIX) ? path.slice(PROXY_PREFIX.length) : path
  return rest === '' ? '/' : rest
}

export function forwarder(upstream: string, materializer: Materializer): Forwarder {
  const proxy = Proxy.to(upstream, { materializer, via: 'weir-demo', pool: { keepAliveTimeout: '4s' }, rewritePath: upstreamPath })
  return {
    pool: proxy.pool,
    forward: (req) => proxy(req),
    shutdown: (hardDeadline) => proxy.pool.shutdown(hardDeadline),
  }
}

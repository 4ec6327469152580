/**
 * The demo's reverse-proxy route, in one place: `/proxy/<rest>` is sent to the upstream as
 * `/<rest>` through a host connection pool, and its response comes back. Hop-by-hop fields are
 * stripped both ways (the server owns its connection's; the pool owns the upstream's), a `Via`
 * field is added, and an upstream that cannot be reached or does not answer in time becomes a
 * 502 or 504 problem response instead of an exception.
 *
 * This is the seam for a library proxy handler: `forwarder(...).forward` has the shape of a
 * `(req) => Promise<HttpResponse>` handler.
 */
import type { Materializer } from '@weir/core'
import { ConnectError, ConnectTimeoutError, Headers, Http, HttpEntity, HttpResponse, HttpRequest, ResponseTimeoutError, stripHopByHop, type HostConnectionPool } from '@weir/http'

/** A proxy to one upstream origin. */
export interface Forwarder {
  /** Sends `req` (its target without the `/proxy` prefix) upstream and answers with the upstream's response. */
  forward(req: HttpRequest): Promise<HttpResponse>
  /** The pool's figures: connections opened, reused, closed by reason. */
  readonly pool: HostConnectionPool
  /** Closes the pool's connections (in-flight exchanges get until `hardDeadline`). */
  shutdown(hardDeadline: string): Promise<void>
}

export const PROXY_PREFIX = '/proxy'
const VIA = '1.1 weir-demo'

/** The upstream target of a request under {@link PROXY_PREFIX}: `/proxy/a?b` → `/a?b`, `/proxy` → `/`. */
export function upstreamTarget(target: string): string {
  const rest = target.startsWith(PROXY_PREFIX) ? target.slice(PROXY_PREFIX.length) : target
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest
}

export function forwarder(upstream: string, materializer: Materializer): Forwarder {
  const pool = Http.hostPool(upstream, { keepAliveTimeout: '4s' }, { materializer })
  const problem = (status: number, title: string, detail: string): HttpResponse =>
    new HttpResponse(status, Headers.empty, HttpEntity.json({ type: 'about:blank', title, status, detail }, 'application/problem+json'))
  return {
    pool,
    async forward(req) {
      const headers = stripHopByHop(req.headers).delete('host').set('via', VIA)
      try {
        const res = await pool.request(new HttpRequest(req.method, upstreamTarget(req.target), headers, req.entity))
        return new HttpResponse(res.status, stripHopByHop(res.headers).set('via', VIA), res.entity)
      } catch (e) {
        if (e instanceof ResponseTimeoutError) return problem(504, 'Gateway Timeout', 'The upstream did not answer in time.')
        if (e instanceof ConnectError || e instanceof ConnectTimeoutError) return problem(502, 'Bad Gateway', 'The upstream could not be reached.')
        return problem(502, 'Bad Gateway', 'The upstream exchange failed.')
      }
    },
    shutdown: (hardDeadline) => pool.shutdown(hardDeadline),
  }
}

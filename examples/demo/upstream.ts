/**
 * The demo's upstream: a tiny JSON service on its own port, standing for the application a
 * reverse proxy sits in front of. Every answer says which request it saw (method, path, the
 * forwarding headers, the body size), so a proxied call shows what the proxy passed on.
 */
import type { Materializer } from '@weir/core'
import { Http, HttpEntity, HttpResponse, type HttpServerBinding } from '@weir/http'

/** What the upstream answers to every request. */
export interface UpstreamEcho {
  readonly service: 'upstream'
  readonly method: string
  readonly path: string
  readonly via: string | null
  readonly bodyBytes: number
  /** The names of the header fields it received, lower-cased. */
  readonly headerNames: readonly string[]
}

/** Starts the upstream on `host:port` (0: any free port). */
export async function startUpstream(host: string, port: number, materializer: Materializer): Promise<HttpServerBinding> {
  return Http.newServerAt(host, port)
    .withMaterializer(materializer)
    .bind(async (req) => {
      const body = await HttpEntity.toStrict(req.entity, 64 * 1024, materializer)
      const echo: UpstreamEcho = {
        service: 'upstream',
        method: req.method,
        path: req.target,
        via: req.headers.get('via') ?? null,
        bodyBytes: body.data.byteLength,
        headerNames: [...req.headers].map(([name]) => name.toLowerCase()),
      }
      return HttpResponse.json(echo)
    })
}

/**
 * A reverse proxy in front of an upstream server: headers rewritten (hop-by-hop fields stripped, Via and
 * X-Forwarded-* added), the path rewritten, and a 502 that says why when the upstream is gone.
 * Run it with `node --conditions=source --import tsx examples/proxy.ts`.
 */
import { Headers, Http, HttpEntity, HttpRequest, HttpResponse, Proxy } from '@weir/http'

// the upstream: it shows what it received
const upstream = await Http.newServerAt('127.0.0.1', 0).bind((req) =>
  HttpResponse.text(`${req.method} ${req.target} via=${req.headers.get('via')} xff=${req.headers.get('x-forwarded-for')}`, 200, Headers.from([['Connection', 'keep-alive']])),
)

// the proxy: /api/* goes upstream, under /v2
const api = Proxy.to(`http://127.0.0.1:${upstream.port}/v2`, { rewritePath: (path) => path.replace(/^\/api/, '') })
const front = await Http.newServerAt('127.0.0.1', 0).bind((req) => (req.path.startsWith('/api/') ? api(req) : HttpResponse.text('home')))

const client = Http.hostPool(`http://127.0.0.1:${front.port}`)
const text = async (res: HttpResponse): Promise<string> => Buffer.from((await HttpEntity.toStrict(res.entity, 1 << 20)).data).toString()
const res = await client.request(HttpRequest.get('/api/users?id=3'))
console.log(res.status, await text(res)) // 200 GET /v2/users?id=3 via=1.1 weir xff=127.0.0.1
console.log('connection header from upstream:', res.headers.get('connection') ?? 'none', '| via:', res.headers.get('via')) // none | 1.1 weir

await upstream.terminate('1s')
const gone = await client.request(HttpRequest.get('/api/users'))
console.log(gone.status, await text(gone)) // 502 Bad Gateway: the upstream server could not be reached … (WEIR_HTTP_TCP_CONNECT_FAILED).

await front.terminate('1s')
await api.pool.shutdown()
await client.shutdown()

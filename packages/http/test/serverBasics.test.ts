/**
 * The server over real sockets: keep-alive, pipelining, bodies, HTTP/1.0, HEAD, bad requests and
 * the Connection decision on the wire.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Materializer, Sink, Source } from '@weir/core'
import { RawClient, assertAllStagesStopped } from '@weir/testkit'
import { Headers, Http, HttpEntity, HttpResponse, type HttpServerBinding, type Handler, type ServerSettingsInput } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(handler: Handler, settings: ServerSettingsInput = {}): Promise<{ binding: HttpServerBinding; mat: Materializer }> {
  const mat = Materializer.create()
  const binding = await Http.newServerAt('127.0.0.1', 0).withSettings(settings).withMaterializer(mat).bind(handler)
  cleanups.push(async () => {
    await binding.terminate('1s')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return { binding, mat }
}

async function client(binding: HttpServerBinding): Promise<RawClient> {
  const c = await RawClient.connect(binding.port)
  cleanups.push(() => c.destroy())
  return c
}

const hello: Handler = () => HttpResponse.text('Hello, World!')

describe('HTTP server basics', () => {
  it('answers a GET and keeps the connection alive, advertising its idle timeout', async () => {
    const { binding } = await serve(hello, { idleTimeout: '75s' })
    const c = await client(binding)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    const r = await c.readResponse()
    expect(r.status).toBe(200)
    expect(r.body.toString()).toBe('Hello, World!')
    expect(r.headers['keep-alive']).toEqual(['timeout=75'])
    expect(r.headers['connection']).toBeUndefined()
    await c.write('GET /again HTTP/1.1\r\nHost: x\r\n\r\n')
    expect((await c.readResponse()).status).toBe(200)
  })

  it('answers pipelined requests in order', async () => {
    const { binding } = await serve(async (req) => {
      const delay = req.path === '/slow' ? 30 : 0
      await new Promise((r) => setTimeout(r, delay))
      return HttpResponse.text(req.path)
    })
    const c = await client(binding)
    await c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\n\r\n')
    const bodies = [await c.readResponse(), await c.readResponse(), await c.readResponse()].map((r) => r.body.toString())
    expect(bodies).toEqual(['/slow', '/fast', '/last'])
  })

  it('closes after a request with Connection: close, saying so, with a FIN', async () => {
    const { binding } = await serve(hello)
    const c = await client(binding)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    const r = await c.readResponse()
    expect(r.headers['connection']).toEqual(['close'])
    expect(await c.expectClosed()).toBe('fin')
  })

  it('serves HTTP/1.0: closes by default, keeps alive when asked', async () => {
    const { binding } = await serve(hello)
    const a = await client(binding)
    await a.write('GET / HTTP/1.0\r\n\r\n')
    expect((await a.readResponse()).headers['connection']).toEqual(['close'])
    expect(await a.expectClosed()).toBe('fin')
    const b = await client(binding)
    await b.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')
    expect((await b.readResponse()).headers['connection']).toEqual(['keep-alive'])
    await b.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')
    expect((await b.readResponse()).status).toBe(200)
  })

  it('answers HEAD without a body but with the length', async () => {
    const { binding } = await serve(hello)
    const c = await client(binding)
    await c.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n')
    const r = await c.readResponse({ requestMethod: 'HEAD' })
    expect(r.headers['content-length']).toEqual(['13'])
    expect(r.body.length).toBe(0)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    expect((await c.readResponse()).body.toString()).toBe('Hello, World!')
  })

  it('answers HEAD with the head of a streamed response and cancels its (endless) source', async () => {
    let ended!: Promise<void>
    const { binding } = await serve(() =>
      HttpResponse.stream(
        Source.repeat(Buffer.from('x')).watchTermination((_, done) => {
          ended = done
        }),
      ),
    )
    const c = await client(binding)
    await c.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n')
    const r = await c.readResponse({ requestMethod: 'HEAD' })
    expect(r.headers['transfer-encoding']).toEqual(['chunked'])
    expect(r.body.length).toBe(0)
    await expect(ended).resolves.toBeUndefined()
  })

  it('gives the handler small bodies as strict entities and large ones as streams', async () => {
    const seen: string[] = []
    const { binding, mat } = await serve(async (req) => {
      seen.push(req.entity.kind)
      const body = await HttpEntity.toStrict(req.entity, 1 << 20, mat)
      return HttpResponse.text(String(body.data.length))
    })
    const c = await client(binding)
    await c.write('POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello')
    expect((await c.readResponse()).body.toString()).toBe('5')
    const big = 'x'.repeat(200_000)
    await c.write(`POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n${big}`)
    expect((await c.readResponse()).body.toString()).toBe('200000')
    await c.write('POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n')
    expect((await c.readResponse()).body.toString()).toBe('5')
    expect(seen).toEqual(['strict', 'streamed', 'strict'])
  })

  it('streams a response without a length as chunked', async () => {
    const { binding } = await serve(() => HttpResponse.stream(Source.from(['a', 'bc', 'def']).map((s) => Buffer.from(s)), { contentType: 'text/plain' }))
    const c = await client(binding)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    const r = await c.readResponse()
    expect(r.framing).toBe('chunked')
    expect(r.body.toString()).toBe('abcdef')
  })

  it('rejects a smuggling attempt with 400 and closes the connection', async () => {
    const { binding } = await serve(hello)
    const c = await client(binding)
    await c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
    const r = await c.readResponse()
    expect(r.status).toBe(400)
    expect(r.headers['connection']).toEqual(['close'])
    expect(await c.expectClosed()).toBe('fin')
  })

  it('answers a handler failure with 500 and keeps serving', async () => {
    const { binding, mat } = await serve((req) => {
      if (req.path === '/boom') throw new Error('boom')
      return HttpResponse.text('ok')
    })
    mat.logger.error = () => {}
    const c = await client(binding)
    await c.write('GET /boom HTTP/1.1\r\nHost: x\r\n\r\n')
    expect((await c.readResponse()).status).toBe(500)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    expect((await c.readResponse()).status).toBe(200)
  })

  it('owns the hop-by-hop headers whatever the handler set', async () => {
    const { binding } = await serve(() => HttpResponse.text('x', 200, Headers.from([['Connection', 'keep-alive, X-Hop'], ['X-Hop', '1'], ['Transfer-Encoding', 'gzip']])))
    const c = await client(binding)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    const r = await c.readResponse()
    expect(r.headers['connection']).toEqual(['close'])
    expect(r.headers['x-hop']).toBeUndefined()
    expect(r.headers['transfer-encoding']).toBeUndefined()
    expect(await c.expectClosed()).toBe('fin')
  })

  it('rejects bad settings when binding, before anything listens', async () => {
    await expect(Http.newServerAt('127.0.0.1', 0).withSettings({ idleTimeout: 'forever' }).bind(hello)).rejects.toMatchObject({ code: 'WEIR_HTTP_INVALID_SETTING', setting: 'idleTimeout', value: 'forever' })
  })

  it('counts connections and closes by reason', async () => {
    const { binding } = await serve(hello)
    const c = await client(binding)
    await c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    await c.readResponse()
    await c.expectClosed()
    await c.destroy()
    await new Promise((r) => setTimeout(r, 50))
    const counters = binding.counters()
    expect(counters.requests).toBe(1)
    expect(counters.connectionsAccepted).toBe(1)
    expect(Object.values(counters.closesByReason).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(0)
    void Sink
  })
})

describe('HTTPS', () => {
  it('serves the same handler over TLS', async () => {
    const { readFileSync } = await import('node:fs')
    const { request } = await import('node:https')
    const fixtures = new URL('./fixtures/', import.meta.url)
    const key = readFileSync(new URL('localhost.key', fixtures))
    const cert = readFileSync(new URL('localhost.crt', fixtures))
    const mat = Materializer.create()
    const binding = await Http.newServerAt('127.0.0.1', 0).withMaterializer(mat).enableHttps({ key, cert }).bind(hello)
    cleanups.push(async () => {
      await binding.terminate('1s')
      mat.shutdown()
    })
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: binding.port, path: '/', ca: cert, servername: 'localhost', agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString()}`))
      })
      req.on('error', reject)
      req.end()
    })
    expect(body).toBe('200 Hello, World!')
  })
})

/**
 * Content coding over real sockets: responses compressed for real clients (fetch, node:http),
 * request bodies decoded, and the failures a server must answer — a zip bomb (413, decoding stops
 * at the limit), a corrupt body (400), an unknown coding (415), identity refused (406) — plus
 * Server-Sent Events left alone by default and flushed event by event when compression is asked.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { createBrotliDecompress, createGunzip, gunzipSync, gzipSync } from 'node:zlib'
import { Keep, Materializer, Source, type SourceQueue } from '@weir/core'
import { assertAllStagesStopped } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { Coding, Http, HttpEntity, HttpResponse, type CodingHandlerOptions, type Handler, type HttpServerBinding } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(handler: Handler, options: CodingHandlerOptions = {}): Promise<HttpServerBinding> {
  const mat = Materializer.create()
  const binding = await Http.newServerAt('127.0.0.1', 0).withMaterializer(mat).bind(Coding.handler(handler, options))
  cleanups.push(async () => {
    await binding.terminate('1s')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return binding
}

interface Reply {
  readonly status: number
  readonly headers: IncomingMessage['headers']
  /** The body as sent (still encoded). */
  readonly raw: Buffer
}

/** One request with node:http (which does not decode bodies); the body is read whole. */
function send(binding: HttpServerBinding, options: { method?: string; path?: string; headers?: Record<string, string>; body?: Uint8Array }): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: binding.port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, raw: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

const items = Array.from({ length: 500 }, (_, i) => ({ id: i, name: `user-${i}`, email: `user${i}@example.com` }))
const itemsJson = JSON.stringify(items)

describe('response compression over real sockets', () => {
  it('fetch (which decodes) gets a compressed JSON body with Vary and reads the original', async () => {
    const binding = await serve(() => HttpResponse.json(items))
    const res = await fetch(`http://127.0.0.1:${binding.port}/`, { headers: { 'accept-encoding': 'gzip, deflate, br' } })
    expect(res.headers.get('content-encoding')).toBe('br')
    expect(res.headers.get('vary')).toBe('Accept-Encoding')
    expect(await res.json()).toEqual(items)
  })

  it('a strict body is sent compressed with a Content-Length of the compressed size', async () => {
    const binding = await serve(() => HttpResponse.json(items))
    const r = await send(binding, { headers: { 'accept-encoding': 'gzip' } })
    expect(r.headers['content-encoding']).toBe('gzip')
    expect(Number(r.headers['content-length'])).toBe(r.raw.length)
    expect(r.raw.length).toBeLessThan(itemsJson.length / 4)
    expect(gunzipSync(r.raw).toString()).toBe(itemsJson)
  })

  it('a streamed body is sent chunked through the encoder and decodes to what the source emitted', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => Buffer.from(`line ${i}: ${'x'.repeat(i % 50)}\n`))
    const binding = await serve(() => HttpResponse.stream(Source.from(lines), { contentType: 'text/plain' }))
    const r = await send(binding, { headers: { 'accept-encoding': 'br;q=0.5, gzip' } })
    expect(r.headers['content-encoding']).toBe('gzip')
    expect(r.headers['transfer-encoding']).toBe('chunked')
    expect(r.headers['content-length']).toBeUndefined()
    expect(gunzipSync(r.raw).equals(Buffer.concat(lines))).toBe(true)
  })

  it('sends identity to a client without Accept-Encoding and to HEAD', async () => {
    const binding = await serve(() => HttpResponse.json(items))
    const plain = await send(binding, {})
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.raw.toString()).toBe(itemsJson)
    const head = await send(binding, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } })
    expect(head.headers['content-encoding']).toBeUndefined()
  })

  it('answers 406 when the client refuses identity and accepts nothing the server offers', async () => {
    const binding = await serve(() => HttpResponse.json(items))
    const r = await send(binding, { headers: { 'accept-encoding': 'identity;q=0, zstd' } })
    expect(r.status).toBe(406)
  })
})

describe('request decompression over real sockets', () => {
  /** Echoes the size and first bytes of the decoded request body. */
  const echo: Handler = async (req) => {
    const body = await HttpEntity.toStrict(req.entity, 100 << 20)
    return HttpResponse.json({ bytes: body.data.length, start: Buffer.from(body.data.subarray(0, 20)).toString(), encoding: req.headers.get('content-encoding') ?? null })
  }

  it('decodes a gzip request body for the handler', async () => {
    const binding = await serve(echo)
    const r = await send(binding, { method: 'POST', headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' }, body: gzipSync(itemsJson) })
    expect(r.status).toBe(200)
    expect(JSON.parse(r.raw.toString())).toEqual({ bytes: itemsJson.length, start: itemsJson.slice(0, 20), encoding: null })
  })

  it('answers 413 to a zip bomb (10 MB of zeros, gzipped) against a 1 MiB limit, having decoded no more than the limit', async () => {
    let decoded = 0
    const binding = await serve(
      async (req) => {
        const counted = HttpEntity.streamed(
          HttpEntity.dataBytes(req.entity).map((c) => {
            decoded += c.length
            return c
          }),
        )
        await HttpEntity.toStrict(counted, 100 << 20)
        return HttpResponse.text('unreachable')
      },
      { decode: { maxDecodedBytes: '1m' } },
    )
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024))
    const r = await send(binding, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: bomb })
    expect(r.status).toBe(413)
    expect(decoded).toBeLessThanOrEqual(1 << 20)
    expect(decoded).toBeGreaterThan(0)
  })

  it('answers 400 to a body that is not the gzip it claims to be', async () => {
    const binding = await serve(echo)
    const corrupt = gzipSync(itemsJson)
    for (let i = 20; i < 60; i++) corrupt[i] = corrupt[i]! ^ 0xff
    const r = await send(binding, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: corrupt })
    expect(r.status).toBe(400)
  })

  it('answers 415 with Accept-Encoding to an unknown coding, without running the handler', async () => {
    let ran = false
    const binding = await serve(() => {
      ran = true
      return HttpResponse.text('ran')
    })
    const r = await send(binding, { method: 'POST', headers: { 'content-encoding': 'compress' }, body: Buffer.from('abc') })
    expect(r.status).toBe(415)
    expect(r.headers['accept-encoding']).toBe('br, gzip, deflate')
    expect(ran).toBe(false)
  })
})

describe('Server-Sent Events and compression over real sockets', () => {
  /** An SSE endpoint whose events the test sends; `ended` settles when the stream stops. */
  function sseEndpoint(): { handler: Handler; queue: () => SourceQueue<Uint8Array>; ended: () => Promise<void> } {
    let queue: SourceQueue<Uint8Array> | undefined
    let ended: Promise<void> | undefined
    const handler: Handler = () => {
      const source = Source.queue<Uint8Array>(16, 'fail')
        .watchTermination(Keep.both)
        .mapMaterializedValue(([q, done]) => {
          queue = q
          ended = done
          return q
        })
      return HttpResponse.stream(source, { contentType: 'text/event-stream' })
    }
    return { handler, queue: () => queue!, ended: () => ended! }
  }

  /** Opens the stream; `until(text)` resolves once the decoded body so far ends with `text`. */
  function open(binding: HttpServerBinding, decode: 'gzip' | 'br' | undefined): Promise<{ res: IncomingMessage; until: (text: string) => Promise<void>; close: () => void }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: binding.port, path: '/events', headers: { 'accept-encoding': 'gzip, br' }, agent: false }, (res) => {
        const body = decode === undefined ? res : res.pipe(decode === 'gzip' ? createGunzip() : createBrotliDecompress())
        let text = ''
        const waiters: (() => void)[] = []
        body.on('data', (c: Buffer) => {
          text += c.toString()
          for (const w of waiters.splice(0)) w()
        })
        body.on('error', () => {})
        const until = async (expected: string): Promise<void> => {
          while (!text.endsWith(expected)) await new Promise<void>((r) => waiters.push(r))
        }
        resolve({ res, until, close: () => req.destroy() })
      })
      req.on('error', (e) => (req.destroyed ? undefined : reject(e)))
      req.end()
    })
  }

  it('an event stream is not compressed by default, even when the client accepts gzip', async () => {
    const sse = sseEndpoint()
    const binding = await serve(sse.handler)
    const client = await open(binding, undefined)
    expect(client.res.headers['content-encoding']).toBeUndefined()
    sse.queue().offer(Buffer.from('data: one\n\n'))
    await client.until('data: one\n\n')
    client.close()
    await sse.ended()
  })

  for (const coding of ['gzip', 'br'] as const) {
    it(`with eventStream: true it is compressed (${coding}) and every event reaches the client before the next is sent; a client leaving ends the stream`, async () => {
      const sse = sseEndpoint()
      const binding = await serve(sse.handler, { encode: { eventStream: true, codings: [coding] } })
      const client = await open(binding, coding)
      expect(client.res.headers['content-encoding']).toBe(coding)
      let expected = ''
      for (const event of ['data: one\n\n', 'data: two\n\n', 'data: three\n\n']) {
        sse.queue().offer(Buffer.from(event))
        expected += event
        await client.until(expected)
      }
      client.close()
      await sse.ended() // the source was cancelled: its cleanup ran, the encoder closed
    })
  }
})

import { brotliDecompressSync, constants, gunzipSync, gzipSync, inflateSync } from 'node:zlib'
import { Keep, Sink, Source, type SourceQueue } from '@weir/core'
import { assertAllStagesStopped, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { Headers } from '../model/Headers.js'
import { HttpEntity, type HttpEntity as Entity } from '../model/HttpEntity.js'
import { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { encodeResponse } from './encodeResponse.js'
import { isCompressible, type EncodeOptions } from './options.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const json = Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, name: `user-${i}` }))))
const get = (acceptEncoding?: string, method = 'GET'): HttpRequest => new HttpRequest(method, '/', acceptEncoding === undefined ? Headers.empty : Headers.from([['Accept-Encoding', acceptEncoding]]))
const jsonResponse = (headers: Headers = Headers.empty, status = 200): HttpResponse => new HttpResponse(status, headers, HttpEntity.strict(json, 'application/json'))

async function bytesOf(e: Entity): Promise<Buffer> {
  return Buffer.concat(await HttpEntity.dataBytes(e).runWith(Sink.seq(), time.materializer))
}

describe('encodeResponse: compressing', () => {
  it('compresses a strict JSON body with the preferred coding the client accepts, at once, keeping a known length', async () => {
    const r = encodeResponse(get('gzip, deflate, br'), jsonResponse())
    expect(r.headers.get('content-encoding')).toBe('br')
    expect(r.headers.get('vary')).toBe('Accept-Encoding')
    expect(r.entity.kind).toBe('strict')
    expect(r.entity.contentType).toBe('application/json')
    const body = await bytesOf(r.entity)
    expect(body.length).toBeLessThan(json.length / 3)
    expect(brotliDecompressSync(body).equals(json)).toBe(true)
  })

  it('uses gzip or deflate when that is what the client accepts', async () => {
    const g = encodeResponse(get('gzip'), jsonResponse())
    expect(g.headers.get('content-encoding')).toBe('gzip')
    expect(gunzipSync(await bytesOf(g.entity)).equals(json)).toBe(true)
    const d = encodeResponse(get('deflate'), jsonResponse())
    expect(d.headers.get('content-encoding')).toBe('deflate')
    expect(inflateSync(await bytesOf(d.entity)).equals(json)).toBe(true)
  })

  it('compresses a strict body above eagerMaxBytes as a stream of unknown length', async () => {
    const r = encodeResponse(get('gzip'), jsonResponse(), { eagerMaxBytes: 1024 })
    expect(r.entity.kind).toBe('streamed')
    expect(HttpEntity.length(r.entity)).toBeUndefined()
    expect(gunzipSync(await bytesOf(r.entity)).equals(json)).toBe(true)
  })

  it('compresses a streamed body through the encoder stage and drops a Content-Length header', async () => {
    const chunks = [json.subarray(0, 1000), json.subarray(1000)]
    const res = HttpResponse.stream(Source.from(chunks), { contentType: 'application/json', contentLength: json.length, headers: Headers.from([['Content-Length', String(json.length)]]) })
    const r = encodeResponse(get('gzip'), res)
    expect(r.headers.has('content-length')).toBe(false)
    expect(HttpEntity.length(r.entity)).toBeUndefined()
    expect(gunzipSync(await bytesOf(r.entity)).equals(json)).toBe(true)
  })

  it('uses the levels it is given', async () => {
    const fast = encodeResponse(get('gzip'), jsonResponse(), { levels: { gzip: 1 } })
    const none = encodeResponse(get('gzip'), jsonResponse(), { levels: { gzip: 0 } })
    const noneBytes = await bytesOf(none.entity)
    expect(noneBytes.length).toBeGreaterThan(json.length) // stored blocks only
    expect((await bytesOf(fast.entity)).length).toBeLessThan(noneBytes.length)
  })

  it('offers only the codings given, in their order', () => {
    expect(encodeResponse(get('br, gzip'), jsonResponse(), { codings: ['gzip', 'br'] }).headers.get('content-encoding')).toBe('gzip')
    expect(encodeResponse(get('br'), jsonResponse(), { codings: ['gzip'] }).headers.get('content-encoding')).toBeUndefined()
  })

  it('adds Accept-Encoding to an existing Vary, leaves Vary: * alone, and does not repeat it', () => {
    expect(encodeResponse(get('gzip'), jsonResponse(Headers.from([['Vary', 'Origin']]))).headers.getAll('vary')).toEqual(['Origin, Accept-Encoding'])
    expect(encodeResponse(get('gzip'), jsonResponse(Headers.from([['Vary', '*']]))).headers.getAll('vary')).toEqual(['*'])
    expect(encodeResponse(get('gzip'), jsonResponse(Headers.from([['Vary', 'accept-encoding']]))).headers.getAll('vary')).toEqual(['accept-encoding'])
  })

  it('weakens a strong ETag (the encoded bytes differ) and keeps a weak one', () => {
    expect(encodeResponse(get('gzip'), jsonResponse(Headers.from([['ETag', '"abc"']]))).headers.get('etag')).toBe('W/"abc"')
    expect(encodeResponse(get('gzip'), jsonResponse(Headers.from([['ETag', 'W/"abc"']]))).headers.get('etag')).toBe('W/"abc"')
  })
})

describe('encodeResponse: negotiation outcomes', () => {
  it('sends identity with Vary when the client accepts no offered coding', () => {
    const res = jsonResponse()
    const r = encodeResponse(get('zstd'), res)
    expect(r.entity).toBe(res.entity)
    expect(r.headers.has('content-encoding')).toBe(false)
    expect(r.headers.get('vary')).toBe('Accept-Encoding')
  })

  it('sends identity to a request without Accept-Encoding', () => {
    const r = encodeResponse(get(), jsonResponse())
    expect(r.headers.has('content-encoding')).toBe(false)
  })

  it('answers 406 when identity is refused and nothing is acceptable, cancelling the original body', async () => {
    let terminated: Promise<void> | undefined
    const source = Source.never<Uint8Array>()
      .watchTermination(Keep.right)
      .mapMaterializedValue((done) => (terminated = done))
    const res = HttpResponse.stream(source, { contentType: 'text/plain' })
    const r = encodeResponse(get('identity;q=0, zstd'), res, { materializer: time.materializer })
    expect(r.status).toBe(406)
    expect(r.headers.get('vary')).toBe('Accept-Encoding')
    expect(terminated).toBeDefined()
    await terminated
  })

  it('does not negotiate a small body, even when identity is refused (the server may disregard Accept-Encoding, RFC 9110 §12.1)', () => {
    const res = new HttpResponse(200, Headers.empty, HttpEntity.text('tiny'))
    expect(encodeResponse(get('identity;q=0, gzip'), res)).toBe(res)
  })
})

describe('encodeResponse: responses left as they are', () => {
  const big = (contentType: string | undefined): Entity => HttpEntity.strict(json, contentType)
  const cases: readonly (readonly [string, HttpRequest, HttpResponse])[] = [
    ['already encoded', get('gzip'), new HttpResponse(200, Headers.from([['Content-Encoding', 'gzip']]), HttpEntity.strict(gzipSync(json), 'application/json'))],
    ['204', get('gzip'), HttpResponse.empty(204)],
    ['304', get('gzip'), new HttpResponse(304, Headers.from([['ETag', '"x"']]))],
    ['206 partial content', get('gzip'), new HttpResponse(206, Headers.from([['Content-Range', 'bytes 0-99/5000']]), big('application/json'))],
    ['a HEAD request', get('gzip', 'HEAD'), jsonResponse()],
    ['an empty body', get('gzip'), new HttpResponse(200, Headers.empty, HttpEntity.strict(new Uint8Array(0), 'application/json'))],
    ['Cache-Control: no-transform', get('gzip'), jsonResponse(Headers.from([['Cache-Control', 'public, no-transform']]))],
    ['an image', get('gzip'), new HttpResponse(200, Headers.empty, big('image/png'))],
    ['a zip archive', get('gzip'), new HttpResponse(200, Headers.empty, big('application/zip'))],
    ['no Content-Type', get('gzip'), new HttpResponse(200, Headers.empty, big(undefined))],
    ['a strict body below the threshold', get('gzip'), HttpResponse.text('x'.repeat(1023))],
    ['a streamed body of known length below the threshold', get('gzip'), HttpResponse.stream(Source.single(new Uint8Array(10)), { contentType: 'text/plain', contentLength: 10 })],
    ['an event stream (by default)', get('gzip'), HttpResponse.stream(Source.single(Buffer.from('data: x\n\n')), { contentType: 'text/event-stream' })],
  ]
  for (const [what, req, res] of cases) {
    it(`${what}: the very same response, no Vary`, () => {
      expect(encodeResponse(req, res)).toBe(res)
    })
  }

  it('a body at the threshold is compressed', () => {
    expect(encodeResponse(get('gzip'), HttpResponse.text('x'.repeat(1024))).headers.get('content-encoding')).toBe('gzip')
  })

  it('a Content-Type header counts as much as the entity type', () => {
    const res = new HttpResponse(200, Headers.from([['Content-Type', 'image/jpeg']]), HttpEntity.strict(json, 'application/json'))
    expect(encodeResponse(get('gzip'), res)).toBe(res)
  })

  it('follows a custom compressible predicate', () => {
    const options: EncodeOptions = { compressible: (t) => t === 'application/octet-stream' }
    expect(encodeResponse(get('gzip'), new HttpResponse(200, Headers.empty, big('application/octet-stream')), options).headers.get('content-encoding')).toBe('gzip')
    expect(encodeResponse(get('gzip'), jsonResponse(), options).headers.get('content-encoding')).toBeUndefined()
  })
})

describe('encodeResponse: event streams', () => {
  it('compresses text/event-stream when asked, flushing after every event', async () => {
    let queue: SourceQueue<Uint8Array> | undefined
    const source = Source.queue<Uint8Array>(8, 'fail').mapMaterializedValue((q) => (queue = q))
    const res = HttpResponse.stream(source, { contentType: 'text/event-stream' })
    const r = encodeResponse(get('gzip'), res, { eventStream: true })
    expect(r.headers.get('content-encoding')).toBe('gzip')
    const received: Buffer[] = []
    let wake: (() => void) | undefined
    const done = HttpEntity.dataBytes(r.entity).runWith(
      Sink.foreach((c: Uint8Array) => {
        received.push(Buffer.from(c))
        wake?.()
      }),
      time.materializer,
    )
    const decoded = (): string => gunzipSync(Buffer.concat(received), { finishFlush: constants.Z_SYNC_FLUSH }).toString()
    let expected = ''
    for (const event of ['data: one\n\n', 'data: two\n\n']) {
      queue!.offer(Buffer.from(event))
      expected += event
      // the source stays open: only a flush can have produced these bytes
      while (decoded() !== expected) await new Promise<void>((resolve) => (wake = resolve))
    }
    queue!.complete()
    await done
    expect(gunzipSync(Buffer.concat(received)).toString()).toBe(expected)
  })
})

describe('options', () => {
  it('rejects a bad option with InvalidSettingError naming it', () => {
    expect(() => encodeResponse(get('gzip'), jsonResponse(), { threshold: 'big' })).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_INVALID_SETTING', setting: 'encode.threshold' }))
    expect(() => encodeResponse(get('gzip'), jsonResponse(), { levels: { br: 12 } })).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_INVALID_SETTING', setting: 'encode.levels' }))
    expect(() => encodeResponse(get('gzip'), jsonResponse(), { codings: ['zstd' as 'gzip'] })).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_INVALID_SETTING', setting: 'encode.codings' }))
  })

  it('isCompressible: text and structured types yes, images, archives and unknown bytes no', () => {
    const yes = ['text/html; charset=utf-8', 'application/json', 'application/ld+json', 'image/svg+xml', 'application/javascript', 'text/css', 'application/xml', 'font/ttf']
    const no = [undefined, '', 'image/png', 'image/webp', 'video/mp4', 'audio/ogg', 'application/zip', 'application/gzip', 'application/octet-stream', 'font/woff2', 'multipart/form-data; boundary=x']
    for (const t of yes) expect([t, isCompressible(t)]).toEqual([t, true])
    for (const t of no) expect([t, isCompressible(t)]).toEqual([t, false])
  })
})

import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { Source } from '@weir/core'
import { assertAllStagesStopped, VirtualTime } from '@weir/testkit'
import { isLeft, isRight, type Either } from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import { Headers } from '../model/Headers.js'
import { EntityTooLargeError, HttpEntity } from '../model/HttpEntity.js'
import { HttpRequest, type HttpResponse } from '../model/HttpMessage.js'
import { decodeRequest, parseContentEncoding, requestCodings } from './decodeRequest.js'
import { DecodingError } from './errors.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const body = Buffer.from('{"hello":"world"}'.repeat(500))

function post(contentEncoding: string | undefined, data: Uint8Array, streamed = true): HttpRequest {
  const headers = Headers.from([
    ['Content-Type', 'application/json'],
    ['Content-Length', String(data.length)],
    ...(contentEncoding === undefined ? [] : ([['Content-Encoding', contentEncoding]] as const)),
  ])
  const entity = streamed ? HttpEntity.streamed(Source.from([data.subarray(0, 7), data.subarray(7)]), { contentType: 'application/json', contentLength: data.length }) : HttpEntity.strict(data, 'application/json')
  return HttpRequest.post('/upload', entity, headers)
}

function decoded(r: Either<HttpResponse, HttpRequest>): HttpRequest {
  if (!isRight(r)) throw new Error(`expected a request, got a ${r.left.status} response`)
  return r.right
}

async function text(req: HttpRequest, max = 1 << 20): Promise<string> {
  return Buffer.from((await HttpEntity.toStrict(req.entity, max, time.materializer)).data).toString()
}

describe('decodeRequest', () => {
  it('passes a request without Content-Encoding through untouched', () => {
    const req = post(undefined, body)
    expect(decoded(decodeRequest(req))).toBe(req)
  })

  for (const [coding, encode] of [['gzip', gzipSync], ['x-gzip', gzipSync], ['deflate', deflateSync], ['br', brotliCompressSync]] as const) {
    it(`decodes a ${coding} body into a stream of unknown length, removing Content-Encoding and Content-Length`, async () => {
      const req = decoded(decodeRequest(post(coding, encode(body))))
      expect(req.headers.has('content-encoding')).toBe(false)
      expect(req.headers.has('content-length')).toBe(false)
      expect(req.headers.get('content-type')).toBe('application/json')
      expect(req.entity.kind).toBe('streamed')
      expect(HttpEntity.length(req.entity)).toBeUndefined()
      expect(req.entity.contentType).toBe('application/json')
      expect(await text(req)).toBe(body.toString())
    })
  }

  it('decodes a strict body too', async () => {
    expect(await text(decoded(decodeRequest(post('gzip', gzipSync(body), false))))).toBe(body.toString())
  })

  it('undoes stacked codings in reverse order of application', async () => {
    const twice = brotliCompressSync(gzipSync(body)) // gzip first, then br: "Content-Encoding: gzip, br"
    expect(await text(decoded(decodeRequest(post('gzip, br', twice))))).toBe(body.toString())
    const split = post(undefined, twice).withHeaders(Headers.from([['Content-Encoding', 'gzip'], ['Content-Encoding', 'br']]))
    expect(await text(decoded(decodeRequest(split)))).toBe(body.toString())
  })

  it('answers 415 with Accept-Encoding for an unknown coding', () => {
    const r = decodeRequest(post('compress', body))
    if (!isLeft(r)) throw new Error('expected a response')
    expect(r.left.status).toBe(415)
    expect(r.left.headers.get('accept-encoding')).toBe('br, gzip, deflate')
  })

  it('answers 415 for a coding the server does not accept, listing those it does', () => {
    const r = decodeRequest(post('br', brotliCompressSync(body)), { codings: ['gzip'] })
    if (!isLeft(r)) throw new Error('expected a response')
    expect(r.left.status).toBe(415)
    expect(r.left.headers.get('accept-encoding')).toBe('gzip')
  })

  it('answers 415 for more stacked codings than maxCodings', () => {
    const r = requestCodings(post('gzip, gzip, gzip', body))
    if (!isLeft(r)) throw new Error('expected an error')
    expect(r.left).toMatchObject({ code: 'WEIR_HTTP_UNSUPPORTED_ENCODING', status: 415, reason: 'too-many-codings', limit: 2, codings: ['gzip', 'gzip', 'gzip'] })
    expect(isLeft(decodeRequest(post('gzip, gzip, gzip', body)))).toBe(true)
    expect(isRight(decodeRequest(post('gzip, gzip, gzip', body), { maxCodings: 3 }))).toBe(true)
  })

  it('reports an unknown coding as a typed error', () => {
    const r = requestCodings(post('gzip, zstd', body))
    if (!isLeft(r)) throw new Error('expected an error')
    expect(r.left).toMatchObject({ code: 'WEIR_HTTP_UNSUPPORTED_ENCODING', reason: 'unknown-coding', codings: ['gzip', 'zstd'] })
  })

  it('ignores identity in Content-Encoding', async () => {
    const only = post('identity', body)
    expect(decoded(decodeRequest(only))).toBe(only)
    expect(await text(decoded(decodeRequest(post('identity, gzip', gzipSync(body)))))).toBe(body.toString())
    expect(parseContentEncoding(['Identity, GZIP', ' x-gzip ,'])).toEqual(['gzip', 'gzip'])
  })

  it('keeps an empty body empty', () => {
    const req = decoded(decodeRequest(post('gzip', new Uint8Array(0), false)))
    expect(HttpEntity.length(req.entity)).toBe(0)
    expect(req.headers.has('content-encoding')).toBe(false)
  })

  it('fails the decoded body with EntityTooLargeError past maxDecodedBytes', async () => {
    const bomb = gzipSync(Buffer.alloc(10 << 20))
    const req = decoded(decodeRequest(post('gzip', bomb), { maxDecodedBytes: '1m' }))
    const e = await text(req, 100 << 20).then(() => undefined, (x: unknown) => x)
    expect(e).toBeInstanceOf(EntityTooLargeError)
    expect(e).toMatchObject({ limit: 1 << 20 })
  })

  it('fails the decoded body with DecodingError when it is not what it claims', async () => {
    const req = decoded(decodeRequest(post('gzip', body)))
    await expect(text(req)).rejects.toBeInstanceOf(DecodingError)
  })

  it('rejects bad options with InvalidSettingError naming them', () => {
    expect(() => decodeRequest(post('gzip', body), { maxCodings: 0 })).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_INVALID_SETTING', setting: 'decode.maxCodings' }))
    expect(() => decodeRequest(post('gzip', body), { maxDecodedBytes: -1 })).toThrow(expect.objectContaining({ setting: 'decode.maxDecodedBytes' }))
  })
})

import { gunzipSync, gzipSync } from 'node:zlib'
import { Sink } from '@weir/core'
import { assertAllStagesStopped, VirtualTime } from '@weir/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { Headers } from '../model/Headers.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import type { Handler } from '../server/Http.js'
import { Coding } from './Coding.js'

let time = new VirtualTime()
afterEach(async () => {
  const finished = time
  time = new VirtualTime()
  await assertAllStagesStopped(finished.materializer)
})

const text = 'hello, compressed world. '.repeat(200)
const upload = (body: Uint8Array, encoding = 'gzip'): HttpRequest =>
  HttpRequest.post('/', HttpEntity.strict(body, 'text/plain'), Headers.from([['Content-Encoding', encoding], ['Accept-Encoding', 'gzip']]))

/** Reads the request body (with the materializer of the test) and answers it back as text. */
const echo: Handler = async (req) => {
  const body = await HttpEntity.toStrict(req.entity, 100 << 20, time.materializer)
  return HttpResponse.text(Buffer.from(body.data).toString())
}

async function bytes(res: HttpResponse): Promise<Buffer> {
  return Buffer.concat(await HttpEntity.dataBytes(res.entity).runWith(Sink.seq(), time.materializer))
}

describe('Coding.handler', () => {
  it('decodes the request and compresses the response', async () => {
    const res = await Coding.handler(echo)(upload(gzipSync(text)))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-encoding')).toBe('gzip')
    expect(gunzipSync(await bytes(res)).toString()).toBe(text)
  })

  it('turns a decoded body past its limit into 413 and a corrupt one into 400', async () => {
    const h = Coding.handler(echo, { decode: { maxDecodedBytes: 1000 } })
    expect((await h(upload(gzipSync(text)))).status).toBe(413)
    expect((await Coding.handler(echo)(upload(Buffer.from('not gzip at all')))).status).toBe(400)
  })

  it('answers 415 to an unknown coding without calling the handler', async () => {
    let called = false
    const res = await Coding.handler(() => {
      called = true
      return HttpResponse.text('x')
    })(upload(Buffer.from('x'), 'zstd'))
    expect(res.status).toBe(415)
    expect(called).toBe(false)
  })

  it('lets other handler errors through to the server (which answers 500)', async () => {
    const boom = new Error('boom')
    await expect(
      Coding.handler(() => {
        throw boom
      })(upload(gzipSync(text))),
    ).rejects.toBe(boom)
  })

  it('with decode: false, the handler gets the body as sent', async () => {
    const res = await Coding.handler(async (req) => HttpResponse.text(req.headers.get('content-encoding') ?? 'none'), { decode: false, encode: false })(upload(gzipSync(text)))
    expect(Buffer.from((res.entity as { data: Uint8Array }).data).toString()).toBe('gzip')
  })

  it('with encode: false, the response is sent as the handler made it', async () => {
    const res = await Coding.handler(echo, { encode: false })(upload(gzipSync(text)))
    expect(res.headers.has('content-encoding')).toBe(false)
    expect((await bytes(res)).toString()).toBe(text)
  })

  it('rejects bad options when the handler is built', () => {
    expect(() => Coding.handler(echo, { encode: { threshold: -1 } })).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_INVALID_SETTING', setting: 'encode.threshold' }))
    expect(() => Coding.handler(echo, { decode: { codings: [] as never[], maxCodings: 99 } })).toThrow(expect.objectContaining({ setting: 'decode.maxCodings' }))
  })
})

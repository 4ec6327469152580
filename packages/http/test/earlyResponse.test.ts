/**
 * DESIGN §1 B — the early response that forgets `Connection: close`. A handler (a proxy copying
 * its upstream's headers) answers a chunked POST before the body was read, with
 * `Connection: keep-alive`. The server will close after this response, so the wire must say
 * `Connection: close`, then FIN — and while the client is still sending its body within the
 * linger window, it must see no RST.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Materializer } from '@weir/core'
import { RawClient, assertAllStagesStopped } from '@weir/testkit'
import { Headers, Http, HttpEntity, HttpResponse, type Handler, type HttpServerBinding, type ServerSettingsInput } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(handler: Handler, settings: ServerSettingsInput = {}): Promise<{ binding: HttpServerBinding; mat: Materializer }> {
  const mat = Materializer.create()
  const binding = await Http.newServerAt('127.0.0.1', 0).withSettings(settings).withMaterializer(mat).bind(handler)
  cleanups.push(async () => {
    await binding.terminate('2s')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return { binding, mat }
}

const forwardedKeepAlive: Handler = () => HttpResponse.text('early', 200, Headers.from([['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=5']]))

describe('early response', () => {
  it('to a chunked POST: Connection: close on the wire, then FIN, and no RST while the client keeps sending', async () => {
    const { binding } = await serve(forwardedKeepAlive, { lingerTimeout: '5s' })
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    await c.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n')
    const r = await c.readResponse()
    expect(r.body.toString()).toBe('early')
    expect(r.headers['connection']).toEqual(['close'])
    expect(r.headers['keep-alive']).toBeUndefined()
    await c.expectFin()
    // the client, unaware, goes on sending its body: the server lingers, reading and discarding
    const chunk = '400\r\n' + 'z'.repeat(1024) + '\r\n'
    await c.writeSlowly(chunk.repeat(40) + '0\r\n\r\n', 4096, 5)
    await c.halfClose()
    await new Promise((r) => setTimeout(r, 50))
    expect(c.closed.reset).toBe(false)
    expect(c.closed.error).toBeUndefined()
    const counters = binding.counters()
    expect(counters.closesByReason['early-response']).toBe(1)
  })

  it('drains a small known-length remainder and keeps the connection', async () => {
    const { binding } = await serve(forwardedKeepAlive)
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    // the head and part of the body; the rest (small) follows after the response
    await c.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n' + 'a'.repeat(70_000).slice(0, 1000))
    const r = await c.readResponse()
    expect(r.headers['connection']).toBeUndefined()
    await c.write('b'.repeat(19_000))
    await c.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n')
    expect((await c.readResponse()).status).toBe(200)
  })

  it('a handler that reads the body gets all of it, streamed, while the response waits', async () => {
    const { binding, mat } = await serve(async (req) => {
      const body = await HttpEntity.toStrict(req.entity, 10_000_000, mat)
      return HttpResponse.text(String(body.data.length))
    })
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    await c.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')
    await c.writeSlowly(('400\r\n' + 'q'.repeat(1024) + '\r\n').repeat(100) + '0\r\n\r\n', 8192, 1)
    expect((await c.readResponse()).body.toString()).toBe(String(100 * 1024))
  })
})

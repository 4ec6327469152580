/**
 * The WebSocket handshake and the switch itself, byte-exact with a raw client: bad handshakes are
 * answered 400/426 and the connection stays HTTP; a good one gets the 101 of RFC 6455 §1.3; bytes
 * sent right behind the handshake reach the flow; responses to earlier pipelined requests are
 * written before the switch; a streamed message goes out as fragments; an upgrade response to a
 * request that cannot switch is a 500.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Flow, Materializer, Source } from '@weir/core'
import { RawClient, assertAllStagesStopped } from '@weir/testkit'
import { Http, HttpResponse, Message, UpgradeResponse, checkHandshake, HttpRequest, Headers } from '../src/index.js'
import { serveWebSocket, type Cleanup } from './fixtures/webSocketServer.js'

const cleanups: Cleanup[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** RFC 6455 §1.3's example key and the accept value it must produce. */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
const HANDSHAKE = `GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`

interface Frame {
  readonly fin: boolean
  readonly opcode: number
  readonly payload: Buffer
}

/** Server frames (unmasked) at the start of `buf`; stops at an incomplete one. */
function parseFrames(buf: Buffer): Frame[] {
  const frames: Frame[] = []
  let pos = 0
  while (pos + 2 <= buf.length) {
    const b0 = buf[pos]!, b1 = buf[pos + 1]!
    let len = b1 & 0x7f
    let at = pos + 2
    if (len === 126) {
      if (at + 2 > buf.length) break
      len = buf.readUInt16BE(at)
      at += 2
    }
    if (at + len > buf.length) break
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: buf.subarray(at, at + len) })
    pos = at + len
  }
  return frames
}

/** A client frame (masked, as RFC 6455 §5.3 requires), payload under 126 bytes. */
function clientFrame(opcode: number, payload: string): Buffer {
  const data = Buffer.from(payload)
  const mask = Buffer.from([1, 2, 3, 4])
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]!))
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | data.length]), mask, masked])
}

async function raw(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port)
  cleanups.push(() => c.destroy())
  return c
}

const echo = (): Flow<Message, Message, any> => Flow.create<Message>().map((m) => m)

describe('bad handshakes', () => {
  const cases: [string, string, number][] = [
    ['a missing Sec-WebSocket-Key', HANDSHAKE.replace(`Sec-WebSocket-Key: ${KEY}\r\n`, ''), 400],
    ['a malformed Sec-WebSocket-Key', HANDSHAKE.replace(KEY, 'not-a-key'), 400],
    ['a missing Sec-WebSocket-Version', HANDSHAKE.replace('Sec-WebSocket-Version: 13\r\n', ''), 400],
    ['an unsupported Sec-WebSocket-Version', HANDSHAKE.replace('Version: 13', 'Version: 8'), 426],
    ['a POST', HANDSHAKE.replace('GET', 'POST').replace('\r\n\r\n', '\r\nContent-Length: 0\r\n\r\n'), 400],
    ['no Connection: upgrade', HANDSHAKE.replace('Connection: Upgrade', 'Connection: keep-alive'), 400],
  ]
  for (const [what, request, status] of cases) {
    it(`answers ${what} with ${status} and Sec-WebSocket-Version: 13, and the connection stays HTTP`, async () => {
      const server = await serveWebSocket(echo, cleanups)
      const c = await raw(server.binding.port)
      await c.write(request)
      const r = await c.readResponse()
      expect(r.status).toBe(status)
      expect(r.headers['sec-websocket-version']).toEqual(['13'])
      await c.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n')
      const after = await c.readResponse()
      expect(after.status).toBe(200)
      expect(after.body.toString()).toBe('http /after')
      expect(server.binding.counters().upgradedOpen).toBe(0)
    })
  }

  it('names the problem of each refused handshake', () => {
    const req = (h: Record<string, string>, method = 'GET'): HttpRequest => new HttpRequest(method, '/', Headers.fromRecord(h))
    const ok = { upgrade: 'websocket', connection: 'keep-alive, Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' }
    expect(checkHandshake(req(ok))).toEqual({ ok: true, key: KEY })
    expect(checkHandshake(req(ok, 'PUT'))).toMatchObject({ ok: false, problem: 'not-get' })
    expect(checkHandshake(req({ ...ok, upgrade: 'h2c' }))).toMatchObject({ ok: false, problem: 'no-upgrade-websocket' })
    expect(checkHandshake(req({ ...ok, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ' }))).toMatchObject({ ok: false, problem: 'bad-key' })
    expect(checkHandshake(req({ ...ok, 'sec-websocket-version': '14' }))).toMatchObject({ ok: false, problem: 'unsupported-version', response: { status: 426 } })
  })
})

describe('the switch', () => {
  it('answers 101 with the accept value of RFC 6455 §1.3, then speaks frames', async () => {
    const server = await serveWebSocket(echo, cleanups)
    const c = await raw(server.binding.port)
    await c.write(HANDSHAKE)
    const head = (await c.readUntil('\r\n\r\n')).toString('latin1')
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols')
    expect(head).toMatch(/\r\nupgrade: websocket\r\n/i)
    expect(head).toMatch(/\r\nconnection: upgrade\r\n/i)
    expect(head).toContain(`\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n`)
    await c.write(clientFrame(1, 'ping me back'))
    await c.readUntil((b) => parseFrames(b).length >= 1).then((b) => expect(parseFrames(b)[0]).toEqual({ fin: true, opcode: 1, payload: Buffer.from('ping me back') }))
  })

  it('delivers a frame sent in the same packet as the handshake', async () => {
    const server = await serveWebSocket(echo, cleanups)
    const c = await raw(server.binding.port)
    await c.write(Buffer.concat([Buffer.from(HANDSHAKE), clientFrame(1, 'early')]))
    await c.readUntil('\r\n\r\n')
    const frames = parseFrames(await c.readUntil((b) => parseFrames(b).length >= 1))
    expect(frames[0]).toEqual({ fin: true, opcode: 1, payload: Buffer.from('early') })
  })

  it('writes the responses to earlier pipelined requests before switching', async () => {
    const server = await serveWebSocket(echo, cleanups)
    const c = await raw(server.binding.port)
    await c.write(`GET /first HTTP/1.1\r\nHost: x\r\n\r\n${HANDSHAKE}`)
    const first = await c.readResponse()
    expect(first.body.toString()).toBe('http /first')
    expect((await c.readUntil('\r\n\r\n')).toString('latin1')).toMatch(/^HTTP\/1\.1 101 /)
  })

  it('sends a streamed message as fragments: the first frame with the opcode, continuations, FIN on the last', async () => {
    const server = await serveWebSocket(() => Flow.create<Message>().map(() => Message.textStream(Source.from(['frag', 'men', 'ted']))), cleanups)
    const c = await raw(server.binding.port)
    await c.write(HANDSHAKE)
    await c.readUntil('\r\n\r\n')
    await c.write(clientFrame(1, 'go'))
    const frames = parseFrames(await c.readUntil((b) => parseFrames(b).some((f) => f.fin)))
    expect(frames.map((f) => [f.fin, f.opcode, f.payload.toString()])).toEqual([
      [false, 1, 'frag'],
      [false, 0, 'men'],
      [false, 0, 'ted'],
      [true, 0, ''],
    ])
  })
})

describe('misuse', () => {
  it('answers 500 when a handler returns an upgrade response to a request that cannot switch protocols', async () => {
    const mat = Materializer.create()
    mat.logger.error = () => {}
    let tookOver = false
    const binding = await Http.newServerAt('127.0.0.1', 0)
      .withMaterializer(mat)
      .bind((req) => (req.path === '/up' ? new UpgradeResponse(() => void (tookOver = true)) : HttpResponse.text('ok')))
    cleanups.push(async () => {
      await binding.terminate('500ms')
      await assertAllStagesStopped(mat, { timeoutMs: 5000 })
      mat.shutdown()
    })
    const c = await raw(binding.port)
    await c.write('GET /up HTTP/1.1\r\nHost: x\r\n\r\n')
    const r = await c.readResponse()
    expect(r.status).toBe(500)
    expect(r.headers['connection']).toEqual(['close'])
    expect(tookOver).toBe(false)
    expect(await c.expectClosed()).toBe('fin')
  })
})

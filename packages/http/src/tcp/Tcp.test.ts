import { connect, createServer, Server as NetServer, Socket, type Server } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Flow, Keep, KillSwitches, Materializer, Sink, Source } from '@weir/core'
import { TestSink, VirtualTime, assertAllStagesStopped, settle, type SinkProbe } from '@weir/testkit'
import { ConnectError, ConnectTimeoutError, ConnectionResetError, BindError } from './errors.js'
import { Tcp, type IncomingConnection, type ServerBinding } from './Tcp.js'
import { TcpConnectionStage, type TcpConnection } from './TcpConnectionStage.js'

const mats: Materializer[] = []
const cleanups: (() => Promise<void> | void)[] = []
function materializer(): Materializer {
  const m = Materializer.create()
  mats.push(m)
  return m
}
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
  for (const m of mats.splice(0)) {
    await assertAllStagesStopped(m, { timeoutMs: 5000 })
    m.shutdown()
  }
})

/** Bind a server whose connections are handled by `handler`; returns the binding and the accepted connections. */
async function serve(handler: (c: IncomingConnection) => void, mat = materializer()): Promise<{ binding: ServerBinding; accepted: IncomingConnection[] }> {
  const accepted: IncomingConnection[] = []
  const binding = await Tcp.bind('127.0.0.1', 0)
    .to(
      Sink.foreach((c: IncomingConnection) => {
        accepted.push(c)
        handler(c)
      }),
    )
    .run(mat)
  cleanups.push(() => binding.unbind())
  return { binding, accepted }
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(s))
    s.once('error', reject)
  })
}

/** Everything the socket receives until the peer ends it: the bytes, and whether it was a FIN or an error. */
function collect(s: Socket): Promise<{ data: string; ending: 'fin' | string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    s.on('data', (c: Buffer) => chunks.push(c))
    s.once('end', () => resolve({ data: Buffer.concat(chunks).toString(), ending: 'fin' }))
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ data: Buffer.concat(chunks).toString(), ending: e.code ?? 'error' }))
  })
}

describe('Tcp.bind', () => {
  it('serves a connection as a flow: echo, then the client FIN completes inbound and the server half-closes in turn', async () => {
    const mat = materializer()
    const { binding, accepted } = await serve((c) => c.handleWith(Flow.create<Uint8Array>(), mat), mat)
    const s = await client(binding.port)
    const received = collect(s)
    s.write('hello ')
    s.end('world')
    expect(await received).toEqual({ data: 'hello world', ending: 'fin' })
    s.destroy()
    const info = await accepted[0]!.connection.closed
    expect(info.reason).toBe('peer-fin')
    expect(info.bytesRead).toBe(11)
    expect(info.bytesWritten).toBe(11)
  })

  it('reports a client RST as a failure of the inbound stream, distinct from a FIN', async () => {
    const mat = materializer()
    let inbound!: Promise<Uint8Array[]>
    const { binding, accepted } = await serve((c) => {
      inbound = c.handleWith(Flow.fromSinkAndSourceMat(Sink.seq<Uint8Array>(), Source.never<Uint8Array>(), Keep.left), mat)
    }, mat)
    const s = await client(binding.port)
    s.write('partial request')
    await new Promise((r) => setTimeout(r, 20))
    s.resetAndDestroy()
    const err = await inbound.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ConnectionResetError)
    expect((err as ConnectionResetError).code).toBe('WEIR_HTTP_TCP_RESET')
    expect((await accepted[0]!.connection.closed).reason).toBe('peer-reset')
  })

  it('reads only on demand: with no demand the client is backpressured and at most one chunk is read', async () => {
    const mat = materializer()
    const reads: number[] = []
    const probes: SinkProbe<Uint8Array>[] = []
    const { binding } = await serve((c) => {
      const counting = Flow.create<Uint8Array>()
        .map((b) => (reads.push(b.length), b))
        .toMat(TestSink.probe<Uint8Array>(), Keep.right)
      probes.push(c.handleWith(Flow.fromSinkAndSourceMat(counting, Source.empty<Uint8Array>(), Keep.left), mat))
    }, mat)
    const s = await client(binding.port)
    s.on('error', () => {})
    const big = Buffer.alloc(1 << 20, 1)
    let writes = 0
    while (s.write(big) && writes < 64) writes++
    expect(writes).toBeLessThan(64) // the kernel buffers filled up: the server is not reading
    await settle(mat)
    expect(reads).toEqual([])
    const probe = probes[0]!
    probe.request(1)
    expect((await probe.expectNext()).length).toBeGreaterThan(0)
    await settle(mat)
    expect(reads.length).toBeLessThanOrEqual(2) // the chunk asked for, plus at most one read ahead
    probe.cancel()
    s.destroy()
  })

  it('stops listening when the source is cancelled', async () => {
    const mat = materializer()
    const [binding, kill] = Tcp.bind('127.0.0.1', 0)
      .viaMat(KillSwitches.single(), Keep.both)
      .to(Sink.ignore())
      .run(mat)
    const b = await binding
    kill.shutdown()
    await b.whenUnbound
    const refused = await client(b.port).then(
      (s) => (s.destroy(), 'connected'),
      (e: NodeJS.ErrnoException) => e.code,
    )
    expect(refused).toBe('ECONNREFUSED')
  })

  it('closes a connection nobody handles within the handle timeout (virtual time)', async () => {
    const time = new VirtualTime()
    mats.push(time.materializer)
    const accepted: IncomingConnection[] = []
    const binding = await Tcp.bind('127.0.0.1', 0, { handleTimeout: '2s' })
      .to(Sink.foreach((c: IncomingConnection) => void accepted.push(c)))
      .run(time.materializer)
    cleanups.push(() => binding.unbind())
    const s = await client(binding.port)
    const ended = collect(s)
    while (accepted.length === 0) await time.settle()
    await time.advance(1999)
    expect(accepted[0]!.connection.closeInfo).toBeUndefined()
    await time.advance(1)
    expect((await accepted[0]!.connection.closed).reason).toBe('local-abort')
    expect((await ended).ending).toBe('fin')
    s.destroy()
  })

  it('unbind stops accepting but leaves live connections alone', async () => {
    const mat = materializer()
    const { binding } = await serve((c) => c.handleWith(Flow.create<Uint8Array>(), mat), mat)
    const s = await client(binding.port)
    const received = collect(s)
    await binding.unbind()
    expect(await client(binding.port).then(() => 'connected', (e: NodeJS.ErrnoException) => e.code)).toBe('ECONNREFUSED')
    s.end('still here')
    expect(await received).toEqual({ data: 'still here', ending: 'fin' })
    s.destroy()
  })

  it('fails the binding with BindError when the port is taken', async () => {
    const mat = materializer()
    const taken: Server = createServer()
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r))
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())))
    const port = (taken.address() as { port: number }).port
    const err = await Tcp.bind('127.0.0.1', port).to(Sink.ignore()).run(mat).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(BindError)
    expect((err as BindError).syscallCode).toBe('EADDRINUSE')
  })

  it('rejects a bad bind timeout before anything listens', () => {
    expect(() => Tcp.bind('127.0.0.1', 0, { bindTimeout: 'soon' })).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT' }))
  })

  it('fails the binding with a BindError at the bind timeout when listening never completes (virtual time)', async () => {
    // a listen that never completes (as on a host whose address lookup hangs)
    const listen = vi.spyOn(NetServer.prototype, 'listen').mockImplementation(function (this: NetServer) {
      return this
    })
    cleanups.push(() => void listen.mockRestore())
    const time = new VirtualTime()
    mats.push(time.materializer)
    let outcome: unknown = 'pending'
    void Tcp.bind('127.0.0.1', 0, { bindTimeout: '2s' })
      .to(Sink.ignore())
      .run(time.materializer)
      .then(
        () => (outcome = 'bound'),
        (e: unknown) => (outcome = e),
      )
    await time.advance(1999)
    expect(outcome).toBe('pending')
    await time.advance(1)
    expect(outcome).toBeInstanceOf(BindError)
    expect((outcome as BindError).timeoutMs).toBe(2000)
    expect((outcome as BindError).message).toBe('Binding 127.0.0.1:0 took longer than 2000 ms')
  })
})

describe('Tcp.outgoingConnection', () => {
  async function echoServer(): Promise<number> {
    const server = createServer({ allowHalfOpen: true }, (s) => {
      s.on('data', (d) => s.write(d))
      s.on('end', () => s.end())
      s.on('error', () => {})
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
    return (server.address() as { port: number }).port
  }

  it('connects when materialized, streams both ways and completes on the server FIN', async () => {
    const mat = materializer()
    const port = await echoServer()
    const [conn, reply] = Source.from(['ab', 'cd'].map((x) => Buffer.from(x)))
      .viaMat(Tcp.outgoingConnection('127.0.0.1', port), Keep.right)
      .toMat(Sink.fold('', (acc: string, b: Uint8Array) => acc + Buffer.from(b).toString()), Keep.both)
      .run(mat)
    expect((await conn).remotePort).toBe(port)
    expect(await reply).toBe('abcd')
    expect((await (await conn).closed).reason).toBe('peer-fin')
  })

  it('fails with ConnectError (ECONNREFUSED) when nothing listens', async () => {
    const mat = materializer()
    const probe = createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((r) => probe.close(() => r()))
    const [conn, done] = Source.single(Buffer.from('x'))
      .viaMat(Tcp.outgoingConnection('127.0.0.1', port), Keep.right)
      .toMat(Sink.ignore(), Keep.both)
      .run(mat)
    const err = await conn.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ConnectError)
    expect((err as ConnectError).syscallCode).toBe('ECONNREFUSED')
    await expect(done).rejects.toBeInstanceOf(ConnectError)
  })

  it('fails with ConnectTimeoutError when the connection is not established in time (virtual time)', async () => {
    const time = new VirtualTime()
    const never = new Socket() // never connects
    cleanups.push(() => void never.destroy())
    const stage = new TcpConnectionStage({ kind: 'connect', connect: () => never, remote: 'nowhere:1', connectTimeoutMs: 5000 })
    const [conn, done] = Source.never<Uint8Array>()
      .viaMat(Flow.fromGraph(stage), Keep.right)
      .toMat(Sink.ignore(), Keep.both)
      .run(time.materializer)
    await time.advance(4999)
    let settled = false
    void conn.then(
      () => (settled = true),
      () => (settled = true),
    )
    await time.settle()
    expect(settled).toBe(false)
    await time.advance(1)
    const err = (await conn.then(
      () => undefined,
      (e: unknown) => e,
    )) as ConnectTimeoutError
    expect(err).toBeInstanceOf(ConnectTimeoutError)
    expect(err.timeoutMs).toBe(5000)
    await expect(done).rejects.toBeInstanceOf(ConnectTimeoutError)
    await assertAllStagesStopped(time.materializer)
    expect(time.pendingTimers).toBe(0)
  })
})

describe('connection endings', () => {
  it('a server-side completion half-closes, and the connection closes once the client also ends', async () => {
    const mat = materializer()
    let conn!: TcpConnection
    const { binding } = await serve((c) => {
      conn = c.connection
      c.handleWith(Flow.fromSinkAndSource(Sink.ignore<Uint8Array>(), Source.single(Buffer.from('bye'))), mat)
    }, mat)
    const s = await client(binding.port)
    expect(await collect(s)).toEqual({ data: 'bye', ending: 'fin' })
    s.end()
    const info = await conn.closed
    expect(['peer-fin', 'local-close']).toContain(info.reason)
    s.destroy()
  })
})

describe('writes', () => {
  /** Calls of the socket write paths made for server-side sockets (the client's own writes are not counted). */
  function spyWrites(serverPort: number): { write: number; writev: number[] } {
    const seen = { write: 0, writev: [] as number[] }
    const isServer = (s: Socket): boolean => s.localPort === serverPort
    const write = Socket.prototype._write
    const writev = Socket.prototype._writev!
    vi.spyOn(Socket.prototype, '_write').mockImplementation(function (this: Socket, ...args: Parameters<Socket['_write']>) {
      if (isServer(this)) seen.write++
      return write.apply(this, args)
    })
    vi.spyOn(Socket.prototype, '_writev').mockImplementation(function (this: Socket, ...args: Parameters<NonNullable<Socket['_writev']>>) {
      if (isServer(this)) seen.writev.push(args[0].length)
      return writev.apply(this, args)
    })
    cleanups.push(() => {
      vi.restoreAllMocks()
    })
    return seen
  }

  it('writes a lone chunk as it is, and the chunks of one run together in one writev', async () => {
    const mat = materializer()
    const { binding } = await serve((c) => c.handleWith(Flow.create<Uint8Array>().mapConcat((b) => (b[0] === 0x33 ? [b, b, b] : [b])), mat), mat)
    const seen = spyWrites(binding.port)
    const s = await client(binding.port)
    const received = collect(s)
    s.write('1')
    await vi.waitFor(() => expect(seen.write).toBe(1))
    expect(seen.writev).toEqual([])
    s.write('3')
    await vi.waitFor(() => expect(seen.writev).toEqual([3]))
    expect(seen.write).toBe(1)
    s.end()
    expect(await received).toEqual({ data: '1333', ending: 'fin' })
    s.destroy()
  })

  it('does not stall on chunks as large as the high-water mark, whether the socket takes them at once or not', async () => {
    const mat = materializer()
    const big = Buffer.alloc(64 * 1024, 0x61)
    const { binding } = await serve((c) => c.handleWith(Flow.fromSinkAndSource(Sink.ignore<Uint8Array>(), Source.repeat(big).take(32)), mat), mat)
    const s = await client(binding.port)
    let bytes = 0
    s.on('data', (c: Buffer) => (bytes += c.length))
    await new Promise((r) => s.once('end', r))
    expect(bytes).toBe(32 * 64 * 1024)
    s.destroy()
  })
})

describe('TLS', () => {
  const fixtures = new URL('../../test/fixtures/', import.meta.url)
  it('serves and connects over TLS with the same connection stage (echo, FIN, close reasons)', async () => {
    const { readFileSync } = await import('node:fs')
    const key = readFileSync(new URL('localhost.key', fixtures))
    const cert = readFileSync(new URL('localhost.crt', fixtures))
    const mat = materializer()
    const accepted: IncomingConnection[] = []
    const binding = await Tcp.bindTls('127.0.0.1', 0, { key, cert })
      .to(
        Sink.foreach((c: IncomingConnection) => {
          accepted.push(c)
          c.handleWith(Flow.create<Uint8Array>(), mat)
        }),
      )
      .run(mat)
    cleanups.push(() => binding.unbind())
    const [conn, reply] = Source.from(['secret ', 'bytes'].map((x) => Buffer.from(x)))
      .viaMat(Tcp.outgoingTlsConnection('127.0.0.1', binding.port, { ca: cert, servername: 'localhost' }), Keep.right)
      .toMat(Sink.fold('', (acc: string, b: Uint8Array) => acc + Buffer.from(b).toString()), Keep.both)
      .run(mat)
    expect((await conn).remotePort).toBe(binding.port)
    expect(await reply).toBe('secret bytes')
    await (await conn).closed
    expect((await accepted[0]!.connection.closed).bytesRead).toBe(12)
  })
})

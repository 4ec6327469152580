/**
 * Shared set-up of the proxy suites: a weir proxy server in front of an upstream (a weir server or a raw
 * node:net server that plays whatever the test needs), and their cleanup with leak checks.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { Materializer } from '@weir/core'
import { assertAllStagesStopped } from '@weir/testkit'
import { Http, Proxy, type Handler, type HttpServerBinding, type ProxyHandler, type ProxyOptions, type ServerSettingsInput } from '../src/index.js'

export type Cleanups = (() => Promise<unknown> | void)[]

/** A weir server for `handler` on its own materializer; terminated and leak-checked at cleanup. */
export async function serve(cleanups: Cleanups, handler: Handler, settings: ServerSettingsInput = {}): Promise<{ binding: HttpServerBinding; mat: Materializer }> {
  const mat = Materializer.create()
  const binding = await Http.newServerAt('127.0.0.1', 0).withSettings(settings).withMaterializer(mat).bind(handler)
  cleanups.push(async () => {
    await binding.terminate('1s')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return { binding, mat }
}

/** A weir proxy server forwarding to `upstream`; its pool is shut down and both leak-checked at cleanup. */
export async function proxyServer(
  cleanups: Cleanups,
  upstream: string,
  options: ProxyOptions = {},
  settings: ServerSettingsInput = {},
): Promise<{ binding: HttpServerBinding; proxy: ProxyHandler; mat: Materializer }> {
  const mat = options.materializer ?? Materializer.create()
  const proxy = Proxy.to(upstream, { ...options, materializer: mat })
  const binding = await Http.newServerAt('127.0.0.1', 0).withSettings(settings).withMaterializer(mat).bind(proxy)
  cleanups.push(async () => {
    await binding.terminate('1s')
    await proxy.pool.shutdown()
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    if (options.materializer === undefined) mat.shutdown()
  })
  return { binding, proxy, mat }
}

/** A raw TCP upstream: `onConnection` drives each accepted socket. */
export interface RawUpstream {
  readonly port: number
  readonly url: string
  readonly sockets: Socket[]
  readonly server: Server
}

export async function rawUpstream(cleanups: Cleanups, onConnection: (socket: Socket) => void): Promise<RawUpstream> {
  const sockets: Socket[] = []
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    socket.on('end', () => socket.end()) // a well-behaved peer answers a FIN with its own
    onConnection(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  cleanups.push(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { port, url: `http://127.0.0.1:${port}`, sockets, server }
}

/** Resolves with the bytes a socket received once `until` holds for them (e.g. a whole request head). */
export function received(socket: Socket, until: (bytes: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let got = ''
    const onData = (d: Buffer): void => {
      got += d.toString('latin1')
      if (until(got)) {
        socket.off('data', onData)
        resolve(got)
      }
    }
    socket.on('data', onData)
  })
}

/** A TCP port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

export const headEnd = (bytes: string): boolean => bytes.includes('\r\n\r\n')

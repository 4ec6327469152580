/**
 * Test helpers shared by the testkit's own socket tests (kept out of the package's build).
 */
import { createServer, type Socket } from 'node:net'
import { RawClient } from './RawClient.js'

/** A tiny TCP server on 127.0.0.1 whose accepted sockets are wrapped as RawClients. */
export interface TinyServer {
  readonly port: number
  /** The next accepted connection (the server's side). */
  next(): Promise<RawClient>
  /** Destroy every accepted socket and close the listener. */
  close(): Promise<void>
}

/** Start a tiny server; `register` receives its close function for the test's cleanup list. */
export async function startTinyServer(register: (close: () => Promise<unknown>) => void, onConnection?: (socket: Socket) => void): Promise<TinyServer> {
  const accepted: RawClient[] = []
  const waiting: ((peer: RawClient) => void)[] = []
  let handedOut = 0
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const peer = RawClient.wrap(socket)
    accepted.push(peer)
    onConnection?.(socket)
    waiting.shift()?.(peer)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  let closed: Promise<void> | undefined
  const tiny: TinyServer = {
    port: address.port,
    next: () => {
      const ready = accepted[handedOut]
      handedOut++
      if (ready !== undefined) return Promise.resolve(ready)
      return new Promise((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error('no connection accepted within 2000 ms')), 2000)
        waiting.push((peer) => {
          clearTimeout(guard)
          resolve(peer)
        })
      })
    },
    close: () =>
      (closed ??= (async () => {
        const done = new Promise<void>((resolve) => server.close(() => resolve()))
        await Promise.all(accepted.map((p) => p.destroy()))
        await done
      })()),
  }
  register(tiny.close)
  return tiny
}

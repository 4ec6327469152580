/** better-sse: a session per request registered on one channel, broadcast per event. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createChannel, createSession } from 'better-sse'
import { INTERVAL_MS, epochMs, serve } from './serve.js'

await serve(async (sessionClosed) => {
  const channel = createChannel()
  channel.on('session-deregistered', sessionClosed)
  const server = createServer((req, res) => {
    void createSession(req, res).then((session) => channel.register(session))
  })
  setInterval(() => channel.broadcast(epochMs()), INTERVAL_MS)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, sessions: () => channel.sessionCount }
})

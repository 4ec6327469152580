/** node:http: an SSE endpoint written as a user would — a Set of responses, one write each per event. */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { INTERVAL_MS, epochMs, serve } from './serve.js'

await serve(async (sessionClosed) => {
  const clients = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' })
    res.flushHeaders()
    clients.add(res)
    req.on('close', () => {
      clients.delete(res)
      sessionClosed()
    })
  })
  setInterval(() => {
    const frame = `data: ${epochMs()}\n\n`
    for (const res of clients) res.write(frame)
  }, INTERVAL_MS)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, sessions: () => clients.size }
})

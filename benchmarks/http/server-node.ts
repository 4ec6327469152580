/**
 * node:http: a plain `createServer` with one request listener, as a user would write it. The
 * header is set with `setHeader` so `end(body)` frames the response with Content-Length, like the
 * other servers (`writeHead(200, {…})` first would send it chunked).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HELLO, serve } from './serve.js'

await serve(async () => {
  const server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/plain')
    res.end(HELLO)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
})

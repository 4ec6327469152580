/** node:http: a plain `createServer` with one request listener, as a user would write it. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HELLO, serve } from './serve.js'

await serve(async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' })
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

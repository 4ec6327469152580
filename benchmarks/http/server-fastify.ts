/** Fastify 5: one route returning a string (sent as text/plain), logging off. */
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { HELLO, serve } from './serve.js'

await serve(async () => {
  const app = Fastify({ logger: false })
  app.get('/', async () => HELLO)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() }
})

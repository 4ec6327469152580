/**
 * Several cores with `node:cluster`: the primary forks one worker per core (two here), each worker runs its own
 * weir server on the same port (the primary accepts and hands connections round-robin), and a topic that must
 * reach every worker's clients goes through Redis (`RedisTopic`, see the README). Run it with
 * `pnpm example:cluster`: it starts two workers, sends requests on fresh connections, prints which worker
 * answered each, and shuts the workers down gracefully.
 */
import cluster from 'node:cluster'
import { Http, HttpEntity, HttpRequest, HttpResponse } from '@weir/http'

const WORKERS = 2

if (cluster.isPrimary) {
  const ports: number[] = []
  for (let i = 0; i < WORKERS; i++) cluster.fork()
  await new Promise<void>((resolve) =>
    cluster.on('message', (_worker, msg: { port: number }) => {
      ports.push(msg.port)
      if (ports.length === WORKERS) resolve()
    }),
  )
  const port = ports[0]!
  console.log(`${WORKERS} workers listening on 127.0.0.1:${port} (the same port: ${ports.every((p) => p === port)})`)
  // a fresh connection per request, so the primary spreads them over the workers
  const pool = Http.hostPool(`http://127.0.0.1:${port}`, { keepAliveTimeout: 0 })
  const byWorker = new Map<string, number>()
  for (let i = 0; i < 8; i++) {
    const res = await pool.request(HttpRequest.get('/'))
    const who = Buffer.from((await HttpEntity.toStrict(res.entity, 1024)).data).toString()
    byWorker.set(who, (byWorker.get(who) ?? 0) + 1)
  }
  await pool.shutdown('1s')
  console.log('answers by worker:', [...byWorker.values()].join(' + '))
  for (const w of Object.values(cluster.workers ?? {})) w?.send('stop')
  await new Promise<void>((resolve) => cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && resolve()))
  console.log('workers stopped')
} else {
  const binding = await Http.newServerAt('127.0.0.1', Number(process.env.PORT ?? 0)).bind(() => HttpResponse.text(`worker ${cluster.worker?.id}`))
  process.send?.({ port: binding.port })
  process.on('message', (m) => {
    if (m === 'stop') void binding.terminate('2s').then(() => process.exit(0))
  })
}

/** weir: one `Topic`, `sseSession` per client, as the README shows it (events built once per broadcast by a topic view). */
import { Http } from '@weir/http'
import { SessionRegistry, Topic, sseSession } from '@weir/sse'
import { INTERVAL_MS, epochMs, serve } from './serve.js'

await serve(async (sessionClosed) => {
  const ticks = Topic.local<number>({ bufferSize: 16, slowConsumer: 'drop-oldest' })
  const events = ticks.map((t) => ({ data: String(t) }))
  const registry = new SessionRegistry()
  const binding = await Http.newServerAt('127.0.0.1', 0).bind(() =>
    sseSession(
      (s) => {
        s.onClose(sessionClosed)
        return events.subscribe(s)
      },
      { registry, heartbeat: '15s' },
    ),
  )
  setInterval(() => ticks.publish(epochMs()), INTERVAL_MS)
  return { port: binding.port, sessions: () => registry.count }
})

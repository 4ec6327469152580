/**
 * `pnpm demo`: starts the demo application (see `app.ts`) on its embedded default configuration,
 * prints its URLs, and on Ctrl-C (SIGINT) or SIGTERM terminates gracefully and prints what it
 * closed and why; a second signal exits at once.
 *
 * Environment: `DEMO_PORT` (default 0: any free port), `DEMO_UPSTREAM_PORT` (default 0),
 * `DEMO_TICK_MS` (default 2000).
 */
import { defaultConfig, startDemo, type DemoConfig, type ShutdownReport } from './app.js'

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`)
    process.exit(2)
  }
  return n
}

const list = (r: Record<string, number>): string => Object.entries(r).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'

/** The shutdown report, as printed. */
export function describeShutdown(r: ShutdownReport): string {
  return [
    `weir demo stopped (${r.why}) in ${r.durationMs} ms:`,
    `  feed sessions closed: ${list(r.feedSessions)}`,
    `  diagnostics streams closed: ${r.dashboards}`,
    `  app connections closed: ${list(r.appConnections)}`,
    `  proxy pool connections closed: ${r.poolConnections}`,
    `  upstream connections closed: ${list(r.upstreamConnections)}`,
  ].join('\n')
}

const config: DemoConfig = {
  ...defaultConfig,
  port: intFromEnv('DEMO_PORT', defaultConfig.port),
  upstreamPort: intFromEnv('DEMO_UPSTREAM_PORT', defaultConfig.upstreamPort),
  tickMs: intFromEnv('DEMO_TICK_MS', defaultConfig.tickMs) || defaultConfig.tickMs,
}
const demo = await startDemo(config).catch((e: unknown) => {
  console.error(`weir demo could not start: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
})
const u = demo.urls
console.log(
  [
    'weir demo listening:',
    `  diagnostics  ${u.diagnostics}`,
    `  feed         ${u.feed}`,
    `  api          ${u.api}`,
    `  proxy        ${u.proxy}`,
    `  metrics      ${u.metrics}`,
    `  upstream     ${u.upstream}`,
    'Try: curl -N ' + u.feed + "   ·   curl -d '{\"author\":\"me\",\"text\":\"hi\"}' -H 'content-type: application/json' " + u.api,
    'Ctrl-C stops it.',
  ].join('\n'),
)

let signalled = false
const onSignal = (signal: NodeJS.Signals): void => {
  if (signalled) {
    console.error(`${signal} again: exiting without waiting`)
    process.exit(130)
  }
  signalled = true
  console.log(`\n${signal} received: terminating gracefully (deadline ${config.shutdownDeadline})`)
  demo.stop(signal).then(
    (report) => {
      console.log(describeShutdown(report))
      process.exitCode = 0
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal)
    },
    (e: unknown) => {
      console.error('shutdown failed:', e)
      process.exit(1)
    },
  )
}
process.on('SIGINT', onSignal).on('SIGTERM', onSignal)

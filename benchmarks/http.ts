/**
 * `pnpm bench:http` — the HTTP server benchmark: weir beside node:http, Fastify and a raw socket
 * responder (the ceiling), each in its own child process pinned to core 0, loaded by wrk pinned
 * to core 1, in three scenarios (keep-alive, pipelined, Connection: close churn). Every server is
 * checked with a real request before it is loaded; within a scenario the servers are loaded in
 * interleaved rounds so drifting background load does not favour one of them. Prints a markdown results table and the floors
 * weir is held to; exits 0 whatever the numbers (1 only when the benchmark itself cannot run).
 *
 * Environment:
 *   BENCH_DURATION    measured seconds per server and scenario (default 10; `10s` also accepted)
 *   BENCH_ROUNDS      interleaved rounds the measured time is split into (default 5: 5 × 2 s)
 *   BENCH_WARMUP      seconds of the unreported warm-up run per server and scenario (default 2; 0: none)
 *   BENCH_CONNECTIONS wrk connections (default 64)
 *   BENCH_PIPELINE    requests per write in the pipelined scenario (default 16)
 *   BENCH_ONLY        comma-separated server keys (weir, node, fastify, raw; default: all)
 *   BENCH_SCENARIOS   comma-separated scenario keys (keep-alive, pipelined, close; default: all)
 *   BENCH_JSON        path of a JSON file to write the results to
 *   BENCH_CPU_PROF    directory: run the servers under `node --cpu-prof`, profiles written there
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import os from 'node:os'
import { resolve } from 'node:path'
import { floorsTable } from './lib/report.js'
import { measureScenario, roundSeconds, scenarios, servers, type HttpMeasurement, type Scenario, type ServerSpec, type Settings } from './http/harness.js'
import { checkHttpFloors, flagged, header, resultsTable, writeJson, type HttpEnvironment, type HttpFloor } from './http/report.js'
import { errorCount, wrkVersion } from './http/wrk.js'

const FLOORS: readonly HttpFloor[] = [
  { scenario: 'keep-alive', numerator: 'weir', denominator: 'node', factor: 1.2 },
  { scenario: 'keep-alive', numerator: 'weir', denominator: 'fastify', factor: 1.1 },
  { scenario: 'pipelined', numerator: 'weir', denominator: 'node', factor: 2 },
  { scenario: 'close', numerator: 'weir', denominator: 'node', factor: 1 },
]

function intFromEnv(name: string, fallback: number, min: number, unit = ''): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw.trim().replace(/_/g, '').replace(new RegExp(`${unit}$`), ''))
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}${unit === '' ? '' : ` (optionally followed by ${unit})`}, got ${JSON.stringify(raw)}`)
  return v
}

function pick<T extends { readonly key: string }>(variable: string, all: readonly T[]): T[] {
  const raw = process.env[variable]
  if (raw === undefined || raw === '') return [...all]
  const keys = new Set(raw.split(',').map((k) => k.trim()))
  const unknown = [...keys].filter((k) => !all.some((x) => x.key === k))
  if (unknown.length > 0) throw new Error(`${variable}: unknown key(s) ${unknown.join(', ')}; known: ${all.map((x) => x.key).join(', ')}`)
  return all.filter((x) => keys.has(x.key))
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function progress(m: HttpMeasurement): void {
  const r = m.result
  const line = r === undefined
    ? `skipped: ${m.skipped ?? '?'}`
    : `${Math.round(r.requestsPerSecond).toLocaleString('en-US').padStart(10)} req/s${m.scenario.depth === 1 ? `  p99 ${r.latencyMs.p99.toFixed(2)} ms` : ''}` +
      `  rounds [${(m.rounds ?? []).map((x) => `${(x.requestsPerSecond / 1000).toFixed(1)}k`).join(', ')}]` +
      (errorCount(r.errors) > 0 ? `  ⚠ errors ${JSON.stringify(r.errors)}` : '')
  process.stderr.write(`  ${m.scenario.name.padEnd(18)} ${m.server.name.padEnd(28)} ${line}\n`)
}

async function main(): Promise<void> {
  const wrk = wrkVersion()
  if (wrk === undefined) {
    process.stderr.write('wrk is not installed; the HTTP benchmark needs it as its load generator.\nInstall it with: apt-get install -y wrk\n')
    process.exitCode = 1
    return
  }
  const pipelineDepth = intFromEnv('BENCH_PIPELINE', 16, 1)
  const chosenServers: ServerSpec[] = pick('BENCH_ONLY', servers)
  const chosenScenarios: Scenario[] = pick('BENCH_SCENARIOS', scenarios(pipelineDepth))
  const pin = os.cpus().length >= 2 && hasTaskset() ? { server: 0, load: 1 } : undefined
  const cpuProf = process.env['BENCH_CPU_PROF']
  const cpuProfDir = cpuProf !== undefined && cpuProf !== '' ? resolve(cpuProf) : undefined
  if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true })
  const settings: Settings = {
    seconds: intFromEnv('BENCH_DURATION', 10, 1, 's'),
    rounds: intFromEnv('BENCH_ROUNDS', 5, 1),
    warmupSeconds: intFromEnv('BENCH_WARMUP', 2, 0, 's'),
    connections: intFromEnv('BENCH_CONNECTIONS', 64, 1),
    ...(pin !== undefined ? { pin } : {}),
    ...(cpuProfDir !== undefined ? { cpuProfDir } : {}),
  }
  const env: HttpEnvironment = {
    node: process.version,
    v8: process.versions.v8,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    platform: `${process.platform}-${process.arch}`,
    wrk,
    seconds: settings.seconds,
    rounds: settings.rounds,
    roundSeconds: roundSeconds(settings),
    warmupSeconds: settings.warmupSeconds,
    connections: settings.connections,
    pipelineDepth,
    loadAverage: os.loadavg()[0] ?? 0,
    ...(pin !== undefined ? { pinned: pin } : {}),
  }
  const jsonPath = process.env['BENCH_JSON']

  const runs = chosenServers.length * chosenScenarios.length
  process.stderr.write(`measuring ${chosenServers.length} server(s) × ${chosenScenarios.length} scenario(s), about ${Math.ceil((runs * (settings.rounds * roundSeconds(settings) + settings.warmupSeconds + 2)) / 60)} min…\n`)
  const results: HttpMeasurement[] = []
  for (const scenario of chosenScenarios) {
    for (const m of await measureScenario(chosenServers, scenario, settings)) {
      results.push(m)
      progress(m)
    }
  }
  const floors = checkHttpFloors(results, FLOORS)

  const out = [header(env), '', resultsTable(results), '']
  const bad = results.filter(flagged)
  if (bad.length > 0) out.push(`⚠ ${bad.length} run(s) saw errors (socket errors or non-2xx responses); their numbers are suspect.`, '')
  const skipped = results.filter((m) => m.skipped !== undefined)
  for (const m of skipped) out.push(`- ${m.server.name}, ${m.scenario.name}: not loaded — ${m.skipped}`)
  if (skipped.length > 0) out.push('')
  out.push('### Floors', '', floorsTable(floors), '')
  process.stdout.write(`\n${out.join('\n')}\n`)
  const failed = floors.filter((f) => f.status === 'FAIL').length
  process.stdout.write(
    failed === 0
      ? 'All measured floors hold.\n'
      : `${failed} floor(s) FAIL — reported only; the exit code stays 0 (a benchmark is not a test).\n`,
  )
  if (jsonPath !== undefined && jsonPath !== '') {
    await writeJson(jsonPath, env, results, floors)
    process.stdout.write(`JSON written to ${jsonPath}\n`)
  }
  if (cpuProfDir !== undefined) process.stdout.write(`CPU profiles of the servers in ${cpuProfDir}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 1
})

/**
 * Reporting for the HTTP benchmark: a markdown header, one results table (requests/s, p99 latency,
 * ratio to node:http in the same scenario, wrk's error counts), the floors weir is held to (checked
 * and printed with the core benchmark's helpers) and an optional JSON file with the same data.
 * A run in which wrk saw errors is flagged; floors are printed, never enforced by the exit code.
 */
import { writeFile } from 'node:fs/promises'
import type { Measurement } from '../lib/harness.js'
import { checkFloors, type Floor, type FloorResult } from '../lib/report.js'
import type { HttpMeasurement, Scenario } from './harness.js'
import { errorCount, type WrkErrors } from './wrk.js'

export interface HttpEnvironment {
  readonly node: string
  readonly v8: string
  readonly cpu: string
  readonly cores: number
  readonly platform: string
  readonly wrk: string
  readonly seconds: number
  readonly rounds: number
  readonly roundSeconds: number
  readonly warmupSeconds: number
  readonly connections: number
  readonly pipelineDepth: number
  /** 1-minute load average when the run started (other work on the machine skews the numbers). */
  readonly loadAverage: number
  /** `server core / load core`, or undefined when not pinned. */
  readonly pinned?: { readonly server: number; readonly load: number }
}

/** A floor between two servers in one scenario. */
export interface HttpFloor {
  readonly scenario: string
  readonly numerator: string
  readonly denominator: string
  readonly factor: number
}

export const BASELINE = 'node'

/** A 1-minute load average from which the machine counts as busy with other work. */
const BUSY_LOAD = 1

/**
 * Under pipelining wrk records one latency per batch (first write to last response), and its
 * coordinated-omission correction assumes one request per sample, so its percentiles mean nothing.
 */
export const PIPELINED_LATENCY_NOTE = 'wrk cannot measure per-request latency under pipelining (one sample per batch, then corrected as if each were one request); not reported'

const latencyMeaningful = (s: Scenario): boolean => s.depth === 1

const rate = (rps: number): string => (Number.isFinite(rps) ? Math.round(rps).toLocaleString('en-US') : '—')
const ms = (x: number): string => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(1)) : '—')
const times = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '—')

function errorsText(e: WrkErrors): string {
  if (errorCount(e) === 0) return '0'
  const parts = Object.entries(e)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k === 'status' ? 'non-2xx' : k} ${n}`)
  return `⚠ ${parts.join(', ')}`
}

export function flagged(m: HttpMeasurement): boolean {
  return m.result !== undefined && errorCount(m.result.errors) > 0
}

function baselineRps(results: readonly HttpMeasurement[], scenario: Scenario): number {
  return results.find((r) => r.scenario.key === scenario.key && r.server.key === BASELINE)?.result?.requestsPerSecond ?? Number.NaN
}

export function header(env: HttpEnvironment): string {
  const pin = env.pinned === undefined
    ? 'server and wrk not pinned (taskset missing or fewer than 2 cores)'
    : `server pinned to core ${env.pinned.server}, wrk to core ${env.pinned.load} (taskset)`
  return [
    '## weir HTTP server benchmark: `GET /` → 200 `Hello, World!` (text/plain) on 127.0.0.1',
    '',
    `- Node ${env.node}, V8 ${env.v8}, ${env.platform}; ${env.wrk}`,
    `- CPU: ${env.cpu} (${env.cores} logical cores); ${pin}`,
    `- wrk -t1 -c${env.connections}; per server and scenario a ${env.warmupSeconds} s warm-up (not reported), then ${env.rounds} interleaved round(s) of ${env.roundSeconds} s; pipelined = ${env.pipelineDepth} requests per write`,
    '- requests/s = all rounds\' responses / their time; p99 = median of the rounds\' p99; one fresh server process per server and scenario',
    ...(env.loadAverage >= BUSY_LOAD
      ? [`- ⚠ load average ${env.loadAverage.toFixed(1)} at the start: other processes compete for the cores, numbers are unreliable`]
      : []),
  ].join('\n')
}

export function resultsTable(results: readonly HttpMeasurement[]): string {
  const rows = results.map((m) => {
    const cells = m.result === undefined
      ? [`skipped: ${m.skipped ?? '?'}`.replace(/\s*\n\s*/g, ' '), '—', '—', '—']
      : [rate(m.result.requestsPerSecond), latencyMeaningful(m.scenario) ? ms(m.result.latencyMs.p99) : 'n/a¹', times(m.result.requestsPerSecond / baselineRps(results, m.scenario)), errorsText(m.result.errors)]
    return `| ${m.scenario.name} | ${m.server.name} | ${cells.join(' | ')} |`
  })
  const table = ['| scenario | server | requests/s | p99 latency ms | vs node:http | wrk errors |', '|---|---|---:|---:|---:|---|', ...rows]
  if (results.some((m) => !latencyMeaningful(m.scenario))) table.push('', `¹ ${PIPELINED_LATENCY_NOTE}.`)
  return table.join('\n')
}

/** The measurements in the shape the core benchmark's floor check reads: key `scenario/server`. */
function asMeasurements(results: readonly HttpMeasurement[]): Measurement[] {
  return results.map((m) => {
    const rps = m.result?.requestsPerSecond ?? Number.NaN
    return {
      key: `${m.scenario.key}/${m.server.key}`,
      name: `${m.server.name} ${m.scenario.name}${flagged(m) ? ' (⚠ errors)' : ''}`,
      n: m.result?.requests ?? 0,
      runs: m.result === undefined ? [] : [rps],
      median: rps,
      ...(m.skipped !== undefined ? { skipped: m.skipped } : {}),
    }
  })
}

export function checkHttpFloors(results: readonly HttpMeasurement[], floors: readonly HttpFloor[]): FloorResult[] {
  const asFloor = (f: HttpFloor): Floor => ({
    numerator: `${f.scenario}/${f.numerator}`,
    denominator: `${f.scenario}/${f.denominator}`,
    factor: f.factor,
  })
  return checkFloors(asMeasurements(results), floors.map(asFloor))
}

export async function writeJson(path: string, env: HttpEnvironment, results: readonly HttpMeasurement[], floors: readonly FloorResult[]): Promise<void> {
  const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null)
  const doc = {
    benchmark: 'http',
    request: 'GET / -> 200 "Hello, World!" (text/plain), 127.0.0.1',
    date: new Date().toISOString(),
    environment: env,
    baseline: BASELINE,
    results: results.map((m) => ({
      scenario: m.scenario.key,
      scenarioName: m.scenario.name,
      server: m.server.key,
      serverName: m.server.name,
      requests: m.result?.requests ?? null,
      seconds: finite(m.result?.seconds),
      requestsPerSecond: finite(m.result?.requestsPerSecond),
      latencyMs: m.result === undefined || !latencyMeaningful(m.scenario) ? null : Object.fromEntries(Object.entries(m.result.latencyMs).map(([k, v]) => [k, finite(v)])),
      ...(latencyMeaningful(m.scenario) ? {} : { latencyNote: PIPELINED_LATENCY_NOTE }),
      ratioToBaseline: finite((m.result?.requestsPerSecond ?? Number.NaN) / baselineRps(results, m.scenario)),
      errors: m.result?.errors ?? null,
      rounds: m.rounds?.map((r) => ({ requests: r.requests, seconds: r.seconds, requestsPerSecond: r.requestsPerSecond, p99Ms: latencyMeaningful(m.scenario) ? finite(r.latencyMs.p99) : null })) ?? [],
      flagged: flagged(m),
      skipped: m.skipped ?? null,
    })),
    floors: floors.map((f) => ({
      numerator: f.numerator,
      denominator: f.denominator,
      factor: f.factor,
      ratio: finite(f.ratio),
      status: f.status,
    })),
  }
  await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`)
}

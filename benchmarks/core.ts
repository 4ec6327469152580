/**
 * `pnpm bench:core` — the stream-engine benchmark: one pipeline, weir side by side with its peers,
 * all in this one process and one run. Prints a markdown results table and the floors weir is held
 * to; exits 0 whatever the numbers (a wrong sum, though, fails loudly).
 *
 * Environment:
 *   BENCH_N      elements per run (default 10 000 000; slow contenders use N / their divisor)
 *   BENCH_RUNS   timed runs per contender (default 3; the median is reported)
 *   BENCH_WARMUP elements of the single warm-up run (default 200 000)
 *   BENCH_ONLY   comma-separated contender keys to run (default: all)
 *   BENCH_JSON   path of a JSON file to write the results to
 */
import os from 'node:os'
import { contenders } from './lib/contenders.js'
import { measureAll, type Measurement } from './lib/harness.js'
import { checkFloors, floorsTable, header, mps, resultsTable, writeJson, type Environment, type Floor } from './lib/report.js'

const BASELINE = 'weir-fused'

const FLOORS: readonly Floor[] = [
  { numerator: 'weir-fused', denominator: 'rxjs', factor: 1 },
  { numerator: 'weir-fused', denominator: 'node-object-mode', factor: 10 },
  { numerator: 'weir-async', denominator: 'node-object-mode', factor: 3 },
]

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw.replace(/_/g, ''))
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`)
  return v
}

function selected(): typeof contenders {
  const only = process.env['BENCH_ONLY']
  if (only === undefined || only === '') return contenders
  const keys = new Set(only.split(',').map((k) => k.trim()))
  const unknown = [...keys].filter((k) => !contenders.some((c) => c.key === k))
  if (unknown.length > 0) {
    throw new Error(`BENCH_ONLY: unknown contender(s) ${unknown.join(', ')}; known: ${contenders.map((c) => c.key).join(', ')}`)
  }
  return contenders.filter((c) => keys.has(c.key))
}

function progress(m: Measurement): void {
  const line = m.skipped !== undefined
    ? `skipped (${m.skipped})`
    : `${mps(m.median)} M/s  [${m.runs.map(mps).join(', ')}]`
  process.stderr.write(`  ${m.name.padEnd(36)} n=${String(m.n).padEnd(10)} ${line}\n`)
}

async function main(): Promise<void> {
  const env: Environment = {
    node: process.version,
    v8: process.versions.v8,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    platform: `${process.platform}-${process.arch}`,
    n: intFromEnv('BENCH_N', 10_000_000, 1),
    runs: intFromEnv('BENCH_RUNS', 3, 1),
    warmupN: intFromEnv('BENCH_WARMUP', 200_000, 1),
  }
  const jsonPath = process.env['BENCH_JSON']
  const chosen = selected()

  process.stderr.write(`measuring ${chosen.length} contender(s)…\n`)
  const results = await measureAll(chosen, { n: env.n, runs: env.runs, warmupN: env.warmupN, onResult: progress })
  const floors = checkFloors(results, FLOORS)

  const out = [header(env), '', resultsTable(results, BASELINE), '', '### Floors', '', floorsTable(floors), '']
  process.stdout.write(`\n${out.join('\n')}\n`)
  const failed = floors.filter((f) => f.status === 'FAIL').length
  process.stdout.write(
    failed === 0
      ? 'All measured floors hold.\n'
      : `${failed} floor(s) FAIL — reported only; the exit code stays 0 (a benchmark is not a test).\n`,
  )
  if (jsonPath !== undefined && jsonPath !== '') {
    await writeJson(jsonPath, env, results, floors, BASELINE)
    process.stdout.write(`JSON written to ${jsonPath}\n`)
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 1
})

/**
 * Reporting for the core benchmark: a markdown header and results table (ratios against the
 * baseline contender), the throughput floors the engine is held to, and an optional JSON file
 * with the same data for README generation. Floors are printed, never enforced by the exit code.
 */
import { writeFile } from 'node:fs/promises'
import type { Measurement } from './harness.js'

export interface Environment {
  readonly node: string
  readonly v8: string
  readonly cpu: string
  readonly cores: number
  readonly platform: string
  readonly n: number
  readonly runs: number
  readonly warmupN: number
}

/** `numerator` must reach `factor ×` `denominator` (both are contender keys). */
export interface Floor {
  readonly numerator: string
  readonly denominator: string
  readonly factor: number
}

export interface FloorResult extends Floor {
  readonly label: string
  /** numerator / denominator throughput; NaN when either did not run. */
  readonly ratio: number
  readonly status: 'PASS' | 'FAIL' | 'SKIP'
}

/** M elements/s with one decimal; two below 1 M/s, where one decimal would hide the differences. */
export const mps = (eps: number): string => (Number.isFinite(eps) ? (eps / 1e6).toFixed(eps < 1e6 ? 2 : 1) : '—')
const times = (r: number): string => (Number.isFinite(r) ? `${r < 0.1 ? r.toFixed(3) : r.toFixed(2)}×` : '—')

export function header(env: Environment): string {
  return [
    '## weir core benchmark: map(x => x * 2) → filter(x => x % 3 === 0) → fold(sum) over 1..N',
    '',
    `- Node ${env.node}, V8 ${env.v8}, ${env.platform}`,
    `- CPU: ${env.cpu} (${env.cores} logical cores)`,
    `- N = ${env.n.toLocaleString('en-US')} (slow contenders run on N / divisor), median of ${env.runs} run(s) after a warm-up on ≤ ${env.warmupN.toLocaleString('en-US')} elements`,
  ].join('\n')
}

export function resultsTable(results: readonly Measurement[], baselineKey: string): string {
  const base = results.find((r) => r.key === baselineKey)?.median ?? Number.NaN
  const rows = results.map((r) => {
    const rate = r.skipped === undefined ? mps(r.median) : `skipped: ${r.skipped}`
    return `| ${r.name} | ${r.n.toLocaleString('en-US')} | ${rate} | ${times(r.median / base)} |`
  })
  return ['| contender | N | median M elements/s | vs weir fused |', '|---|---:|---:|---:|', ...rows].join('\n')
}

export function checkFloors(results: readonly Measurement[], floors: readonly Floor[]): FloorResult[] {
  const byKey = new Map(results.map((r) => [r.key, r]))
  return floors.map((f) => {
    const num = byKey.get(f.numerator)
    const den = byKey.get(f.denominator)
    const ratio = (num?.median ?? Number.NaN) / (den?.median ?? Number.NaN)
    const label = `${num?.name ?? f.numerator} ≥ ${f.factor}× ${den?.name ?? f.denominator}`
    const status = Number.isFinite(ratio) ? (ratio >= f.factor ? 'PASS' : 'FAIL') : 'SKIP'
    return { ...f, label, ratio, status }
  })
}

export function floorsTable(floors: readonly FloorResult[]): string {
  const rows = floors.map((f) => `| ${f.label} | ${times(f.ratio)} | ${f.status} |`)
  return ['| floor | measured | result |', '|---|---:|:---:|', ...rows].join('\n')
}

export async function writeJson(
  path: string,
  env: Environment,
  results: readonly Measurement[],
  floors: readonly FloorResult[],
  baselineKey: string,
): Promise<void> {
  const base = results.find((r) => r.key === baselineKey)?.median ?? Number.NaN
  const finite = (x: number): number | null => (Number.isFinite(x) ? x : null)
  const doc = {
    benchmark: 'core',
    pipeline: 'map(x => x * 2) -> filter(x => x % 3 === 0) -> fold(sum) over 1..N',
    date: new Date().toISOString(),
    environment: env,
    baseline: baselineKey,
    results: results.map((r) => ({
      key: r.key,
      name: r.name,
      n: r.n,
      elementsPerSecond: { median: finite(r.median), runs: r.runs },
      ratioToBaseline: finite(r.median / base),
      skipped: r.skipped ?? null,
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

/**
 * A small throughput harness: every contender runs the same pipeline over the integers 1..n
 * (`map(x => x * 2) → filter(x => x % 3 === 0) → fold(sum)`) and returns the sum, which is checked
 * against a plain loop. A contender is warmed up once on a small n, then timed `runs` times; the
 * median of the per-run elements/s is its result. Elements/s counts input elements (n / seconds),
 * so contenders measured on different n (the slow ones run on n / divisor) stay comparable.
 */
import { performance } from 'node:perf_hooks'

export interface Contender {
  /** Stable identifier, used in JSON output and floor checks. */
  readonly key: string
  /** Human label for the table. */
  readonly name: string
  /** The contender runs on `n / divisor` elements (1 for the fast ones). */
  readonly divisor: number
  /** Why the contender cannot run here, or undefined when it can. */
  readonly unavailable?: () => string | undefined
  /** Run the pipeline over 1..n and resolve with the folded sum. */
  readonly run: (n: number) => Promise<number>
}

export interface Measurement {
  readonly key: string
  readonly name: string
  readonly n: number
  /** Elements/s of each timed run, in run order; empty when skipped. */
  readonly runs: readonly number[]
  /** Median of `runs`; NaN when skipped. */
  readonly median: number
  /** Set when the contender did not run. */
  readonly skipped?: string
}

export interface HarnessOptions {
  readonly n: number
  readonly runs: number
  readonly warmupN: number
  /** Called after each contender finishes (for progress lines). */
  readonly onResult?: (m: Measurement) => void
}

/** The result every contender must produce: the sum of `2x` over 1..n where `2x` is a multiple of 3. */
export function expectedSum(n: number): number {
  let sum = 0
  for (let x = 1; x <= n; x++) {
    const y = x * 2
    if (y % 3 === 0) sum += y
  }
  return sum
}

export class WrongResultError extends Error {
  constructor(
    readonly contender: string,
    readonly n: number,
    readonly expected: number,
    readonly actual: unknown,
  ) {
    super(`${contender} computed ${String(actual)} over 1..${n}, expected ${expected}`)
    this.name = 'WrongResultError'
  }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Elements per contender: n / divisor, rounded down, at least 1. */
export function contenderN(n: number, c: Contender): number {
  return Math.max(1, Math.floor(n / c.divisor))
}

async function checked(c: Contender, n: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
  const expected = expectedSum(n)
  const t0 = performance.now()
  const actual = await c.run(n)
  const ms = performance.now() - t0
  if (actual !== expected) throw new WrongResultError(c.name, n, expected, actual)
  return n / (ms / 1000)
}

/** Warm up and time each contender in order, one at a time, in this process. */
export async function measureAll(contenders: readonly Contender[], opts: HarnessOptions): Promise<Measurement[]> {
  const out: Measurement[] = []
  for (const c of contenders) {
    const n = contenderN(opts.n, c)
    const reason = c.unavailable?.()
    let m: Measurement
    if (reason !== undefined) {
      m = { key: c.key, name: c.name, n, runs: [], median: Number.NaN, skipped: reason }
    } else {
      await checked(c, Math.min(opts.warmupN, n))
      const runs: number[] = []
      for (let i = 0; i < opts.runs; i++) runs.push(await checked(c, n))
      m = { key: c.key, name: c.name, n, runs, median: median(runs) }
    }
    out.push(m)
    opts.onResult?.(m)
  }
  return out
}

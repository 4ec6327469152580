/**
 * The load generator: `wrk`, run as a child process (optionally pinned to one core with
 * `taskset`), bounded in time, its text report parsed into requests/s, latency percentiles and
 * error counts. wrk counts a response with status ≥ 400 as a "Non-2xx or 3xx" error, and socket
 * errors as connect/read/write/timeout; all are returned so a run with errors can be flagged.
 */
import { execFileSync, spawn } from 'node:child_process'

export interface WrkErrors {
  readonly connect: number
  readonly read: number
  readonly write: number
  readonly timeout: number
  /** Responses with status ≥ 400. */
  readonly status: number
}

export interface WrkResult {
  readonly requests: number
  readonly seconds: number
  readonly requestsPerSecond: number
  /** Latency percentiles in milliseconds (NaN when wrk printed none). */
  readonly latencyMs: { readonly p50: number; readonly p75: number; readonly p90: number; readonly p99: number }
  readonly errors: WrkErrors
}

export interface WrkRun {
  readonly url: string
  readonly connections: number
  readonly threads: number
  readonly seconds: number
  readonly headers?: readonly string[]
  readonly script?: string
  readonly scriptArgs?: readonly string[]
  /** Pin wrk to this core with taskset (undefined: not pinned). */
  readonly cpu?: number
}

export class WrkError extends Error {
  constructor(message: string, readonly output: string) {
    super(message)
    this.name = 'WrkError'
  }
}

/** wrk's version line, or undefined when wrk is not installed. */
export function wrkVersion(): string | undefined {
  try {
    // `wrk -v` prints its banner and exits non-zero
    return banner(execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
  } catch (e) {
    const out = (e as { stdout?: string; code?: string }).stdout
    if ((e as { code?: string }).code === 'ENOENT') return undefined
    return banner(out ?? '')
  }
}

/** `wrk <version>` from wrk's banner line (`wrk 4.1.0 [epoll] Copyright …`). */
function banner(out: string): string {
  const m = /^wrk (\S+)/m.exec(out)
  return m === null ? 'wrk (version unknown)' : `wrk ${m[1]}`
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 }

function duration(value: string, unit: string): number {
  return Number(value) * (UNIT_MS[unit] ?? Number.NaN)
}

/** Parse wrk's text report (with `--latency`). */
export function parseWrk(out: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b/.exec(out)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)
  if (total === null || rps === null) throw new WrkError('could not read the request count from wrk output', out)
  const pct = (p: number): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(out)
    return m === null ? Number.NaN : duration(m[1]!, m[2]!)
  }
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const status = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  return {
    requests: Number(total[1]),
    seconds: duration(total[2]!, total[3]!) / 1000,
    requestsPerSecond: Number(rps[1]),
    latencyMs: { p50: pct(50), p75: pct(75), p90: pct(90), p99: pct(99) },
    errors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
      status: Number(status?.[1] ?? 0),
    },
  }
}

export function errorCount(e: WrkErrors): number {
  return e.connect + e.read + e.write + e.timeout + e.status
}

/** Run wrk once; killed if it overruns its duration by 15 s. */
export function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = ['-t', String(run.threads), '-c', String(run.connections), '-d', `${run.seconds}s`, '--timeout', '2s', '--latency']
  for (const h of run.headers ?? []) args.push('-H', h)
  if (run.script !== undefined) args.push('-s', run.script)
  args.push(run.url)
  if (run.scriptArgs !== undefined && run.scriptArgs.length > 0) args.push('--', ...run.scriptArgs)
  const [cmd, argv] = run.cpu === undefined ? ['wrk', args] : ['taskset', ['-c', String(run.cpu), 'wrk', ...args]]
  return new Promise<WrkResult>((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s))
    const killer = setTimeout(() => child.kill('SIGKILL'), (run.seconds + 15) * 1000)
    child.on('error', (e) => {
      clearTimeout(killer)
      reject(new WrkError(`could not run ${cmd}: ${e.message}`, out))
    })
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      if (code !== 0) return reject(new WrkError(`wrk exited with ${signal ?? `code ${code}`}`, out))
      try {
        resolve(parseWrk(out))
      } catch (e) {
        reject(e)
      }
    })
  })
}

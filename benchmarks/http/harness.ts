/**
 * The HTTP benchmark's harness: which servers and scenarios exist, how a server is started in its
 * own child process (pinned to the server core with taskset), checked, warmed up, loaded by wrk
 * (pinned to the load core) and stopped. Every server gets a fresh process per scenario, so no
 * scenario inherits another's heap, JIT state or lingering connections.
 *
 * Within a scenario the servers are loaded in interleaved rounds (each round loads every server
 * once for `seconds / rounds`, the order rotating between rounds), the idle ones waiting on the
 * same core. On a machine shared with other work the load drifts over minutes; interleaving
 * spreads that drift evenly over the servers instead of letting it land on whichever ran last.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { verify, VerificationError, type Probe } from './verify.js'
import { runWrk, type WrkResult } from './wrk.js'

/** The benchmarks package directory (cwd of the children, home of tsconfig.json). */
export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url))
const HTTP_DIR = fileURLToPath(new URL('.', import.meta.url))

export interface ServerSpec {
  readonly key: string
  readonly name: string
  readonly file: string
  /** Extra arguments for the server in a scenario. */
  readonly args?: (scenario: Scenario) => readonly string[]
}

export const servers: readonly ServerSpec[] = [
  { key: 'weir', name: 'weir', file: 'server-weir.ts' },
  { key: 'node', name: 'node:http', file: 'server-node.ts' },
  { key: 'fastify', name: 'Fastify 5', file: 'server-fastify.ts' },
  { key: 'raw', name: 'raw net responder (ceiling)', file: 'server-raw.ts', args: (s) => (s.close ? ['--close'] : []) },
]

export interface Scenario {
  readonly key: string
  readonly name: string
  /** Requests per write (1: plain keep-alive). */
  readonly depth: number
  /** Each request says `Connection: close`: one request per connection. */
  readonly close: boolean
}

export function scenarios(pipelineDepth: number): readonly Scenario[] {
  return [
    { key: 'keep-alive', name: 'keep-alive', depth: 1, close: false },
    { key: 'pipelined', name: `pipelined ×${pipelineDepth}`, depth: pipelineDepth, close: false },
    { key: 'close', name: 'Connection: close', depth: 1, close: true },
  ]
}

export interface Settings {
  /** Measured seconds per server and scenario, split into `rounds` wrk runs of whole seconds. */
  readonly seconds: number
  readonly rounds: number
  readonly warmupSeconds: number
  readonly connections: number
  /** Cores to pin the server and wrk to, or undefined to run unpinned. */
  readonly pin?: { readonly server: number; readonly load: number }
  /** Directory for `node --cpu-prof` profiles of the server processes (a subdirectory per run), or undefined. */
  readonly cpuProfDir?: string
}

export interface HttpMeasurement {
  readonly scenario: Scenario
  readonly server: ServerSpec
  /**
   * The rounds together: requests and seconds summed (so requests/s is their ratio), errors
   * summed, latency percentiles the median of the rounds'. Undefined when the server was not loaded.
   */
  readonly result?: WrkResult
  /** Each round's wrk result, in order. */
  readonly rounds?: readonly WrkResult[]
  /** Why the server was not loaded (failed to start or failed the check). */
  readonly skipped?: string
}

interface RunningServer {
  readonly port: number
  stop(): Promise<void>
}

const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 5_000

function startServer(spec: ServerSpec, scenario: Scenario, settings: Settings): Promise<RunningServer> {
  const node = [
    // one directory per run: every thread (the main one and tsx's loader thread) writes its own profile
    ...(settings.cpuProfDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfDir}/${spec.key}-${scenario.key}`] : []),
    '--import',
    'tsx',
    `${HTTP_DIR}${spec.file}`,
    ...(spec.args?.(scenario) ?? []),
  ]
  const [cmd, argv] = settings.pin === undefined ? [process.execPath, node] : ['taskset', ['-c', String(settings.pin.server), process.execPath, ...node]]
  const child = spawn(cmd, argv, {
    cwd: BENCH_DIR,
    env: { ...process.env, TSX_TSCONFIG_PATH: `${BENCH_DIR}tsconfig.json` },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return new Promise<RunningServer>((resolve, reject) => {
    let out = ''
    const fail = (why: string): void => {
      clearTimeout(timer)
      kill(child, exited).catch(() => undefined)
      reject(new Error(`${spec.name} did not start: ${why}${stderr.trim() === '' ? '' : `\n${stderr.trim()}`}`))
    }
    const timer = setTimeout(() => fail(`no READY line within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS)
    const onExit = (code: number | null, signal: string | null): void => fail(`exited with ${signal ?? `code ${code}`}`)
    child.on('error', (e) => fail(e.message))
    child.once('exit', onExit)
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s
      const m = /^READY (\d+)$/m.exec(out)
      if (m === null) return
      clearTimeout(timer)
      child.off('exit', onExit)
      child.stdout.removeAllListeners('data')
      child.stdout.resume()
      resolve({ port: Number(m[1]), stop: () => kill(child, exited) })
    })
  })
}

/** SIGTERM (the server closes and exits, writing a CPU profile if asked), SIGKILL after a deadline. */
async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

/** Whole seconds of one round. */
export function roundSeconds(settings: Settings): number {
  return Math.max(1, Math.round(settings.seconds / settings.rounds))
}

function loadWith(settings: Settings, scenario: Scenario, port: number, seconds: number): Promise<WrkResult> {
  return runWrk({
    url: `http://127.0.0.1:${port}/`,
    connections: settings.connections,
    threads: 1,
    seconds,
    headers: scenario.close ? ['Connection: close'] : [],
    ...(scenario.depth > 1 ? { script: `${HTTP_DIR}pipeline.lua`, scriptArgs: [String(scenario.depth)] } : {}),
    ...(settings.pin !== undefined ? { cpu: settings.pin.load } : {}),
  })
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export function combineRounds(rounds: readonly WrkResult[]): WrkResult {
  const requests = rounds.reduce((a, r) => a + r.requests, 0)
  // wrk prints its run time to 10 ms; requests / (its requests/s) recovers it more precisely
  const seconds = rounds.reduce((a, r) => a + (r.requestsPerSecond > 0 ? r.requests / r.requestsPerSecond : r.seconds), 0)
  const sum = (k: keyof WrkResult['errors']): number => rounds.reduce((a, r) => a + r.errors[k], 0)
  const pct = (k: keyof WrkResult['latencyMs']): number => median(rounds.map((r) => r.latencyMs[k]))
  return {
    requests,
    seconds,
    requestsPerSecond: seconds > 0 ? requests / seconds : Number.NaN,
    latencyMs: { p50: pct('p50'), p75: pct('p75'), p90: pct('p90'), p99: pct('p99') },
    errors: { connect: sum('connect'), read: sum('read'), write: sum('write'), timeout: sum('timeout'), status: sum('status') },
  }
}

/**
 * One scenario: start every server (each in its own pinned process) and check it, warm each up,
 * load them in interleaved rounds, stop them all. A server that does not start or fails its check
 * is reported as skipped and not loaded.
 */
export async function measureScenario(chosen: readonly ServerSpec[], scenario: Scenario, settings: Settings): Promise<HttpMeasurement[]> {
  const live: { readonly server: ServerSpec; readonly running: RunningServer; readonly rounds: WrkResult[] }[] = []
  const skipped = new Map<string, string>()
  try {
    for (const server of chosen) {
      let running: RunningServer
      try {
        running = await startServer(server, scenario, settings)
      } catch (e) {
        skipped.set(server.key, e instanceof Error ? e.message : String(e))
        continue
      }
      try {
        await verify(running.port, { requests: scenario.depth, close: scenario.close } satisfies Probe)
      } catch (e) {
        await running.stop()
        if (!(e instanceof VerificationError)) throw e
        skipped.set(server.key, `failed the check: ${e.message}`)
        continue
      }
      live.push({ server, running, rounds: [] })
    }
    if (settings.warmupSeconds > 0) for (const l of live) await loadWith(settings, scenario, l.running.port, settings.warmupSeconds)
    const seconds = roundSeconds(settings)
    for (let round = 0; round < settings.rounds; round++) {
      for (let i = 0; i < live.length; i++) {
        const l = live[(i + round) % live.length]!
        l.rounds.push(await loadWith(settings, scenario, l.running.port, seconds))
      }
    }
  } finally {
    for (const l of live) await l.running.stop()
  }
  return chosen.map((server): HttpMeasurement => {
    const l = live.find((x) => x.server === server)
    if (l === undefined) return { scenario, server, skipped: skipped.get(server.key) ?? 'not run' }
    return { scenario, server, result: combineRounds(l.rounds), rounds: l.rounds }
  })
}

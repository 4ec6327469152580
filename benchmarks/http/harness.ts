/**
 * The HTTP benchmark's harness: which servers and scenarios exist, how a server is started in its
 * own child process (pinned to the server core with taskset), checked, warmed up and loaded by wrk
 * (pinned to the load core), and stopped. Every server gets a fresh process per scenario, so no
 * scenario inherits another's heap, JIT state or lingering connections.
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
  readonly seconds: number
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
  /** The measured wrk run; undefined when the server was not loaded. */
  readonly result?: WrkResult
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

/** Start `server`, check it, warm it up, load it for `settings.seconds`, stop it. */
export async function measure(server: ServerSpec, scenario: Scenario, settings: Settings): Promise<HttpMeasurement> {
  let running: RunningServer
  try {
    running = await startServer(server, scenario, settings)
  } catch (e) {
    return { scenario, server, skipped: e instanceof Error ? e.message : String(e) }
  }
  try {
    const probe: Probe = { requests: scenario.depth, close: scenario.close }
    try {
      await verify(running.port, probe)
    } catch (e) {
      if (e instanceof VerificationError) return { scenario, server, skipped: `failed the check: ${e.message}` }
      throw e
    }
    const load = (seconds: number): Promise<WrkResult> =>
      runWrk({
        url: `http://127.0.0.1:${running.port}/`,
        connections: settings.connections,
        threads: 1,
        seconds,
        headers: scenario.close ? ['Connection: close'] : [],
        ...(scenario.depth > 1 ? { script: `${HTTP_DIR}pipeline.lua`, scriptArgs: [String(scenario.depth)] } : {}),
        ...(settings.pin !== undefined ? { cpu: settings.pin.load } : {}),
      })
    if (settings.warmupSeconds > 0) await load(settings.warmupSeconds)
    return { scenario, server, result: await load(settings.seconds) }
  } finally {
    await running.stop()
  }
}

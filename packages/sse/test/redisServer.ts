/**
 * A private `redis-server` for a test file: started on a free port of 127.0.0.1 with no
 * persistence (`--save '' --appendonly no`, working directory in a temporary folder), stopped
 * (and restarted on the same port, for broker-restart tests) on demand.
 *
 * Contract: when `redis-server` is not on PATH, {@link ensureRedisServer} fails loudly with CI=true
 * (CI installs it in `.ci/run`); elsewhere it installs Debian's `redis-server` with apt-get when
 * run as root, and otherwise fails with a message saying how to install it. It never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/** Makes sure `redis-server` can be run (see the file header). */
export function ensureRedisServer(): void {
  if (hasRedisServer()) return
  const how = "install Debian's package: apt-get update && apt-get install -y redis-server"
  if (process.env.CI === 'true') throw new Error(`redis-server is not on PATH, and CI must run the Redis tests: .ci/run should ${how}`)
  if (process.getuid?.() !== 0) throw new Error(`redis-server is not on PATH: ${how} (as root), then run the tests again`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [['update'], ['install', '-y', 'redis-server']]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env })
    if (r.status !== 0) throw new Error(`redis-server is not on PATH and 'apt-get ${args.join(' ')}' failed (status ${r.status}): ${how}`)
  }
  if (!hasRedisServer()) throw new Error(`redis-server is still not on PATH after apt-get install: ${how}`)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** How long redis-server may take to accept connections, in ms. */
const START_TIMEOUT_MS = 10_000

export class RedisServer {
  readonly #dir: string
  #process: ChildProcess | undefined = undefined

  private constructor(
    readonly port: number,
    dir: string,
  ) {
    this.#dir = dir
  }

  /** A server on a free port, accepting connections. */
  static async start(): Promise<RedisServer> {
    ensureRedisServer()
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'weir-redis-')))
    await server.restart()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get isRunning(): boolean {
    return this.#process !== undefined
  }

  /** Starts the server again on the same port (after {@link stop}); its data is gone. */
  restart(): Promise<void> {
    if (this.#process !== undefined) return Promise.resolve()
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.#dir, '--loglevel', 'notice']
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#process = child
    return new Promise<void>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => fail(new Error(`redis-server did not accept connections within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS)
      const fail = (e: Error): void => {
        clearTimeout(timer)
        child.kill('SIGKILL')
        this.#process = undefined
        reject(e)
      }
      child.once('error', fail)
      child.once('exit', (code) => fail(new Error(`redis-server exited (${code}) before accepting connections:\n${output}`)))
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          child.removeAllListeners('exit')
          child.removeAllListeners('error')
          child.stdout!.removeAllListeners('data')
          child.stdout!.resume()
          resolve()
        }
      })
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    })
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#process
    if (child === undefined) return
    this.#process = undefined
    if (child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      child.kill('SIGTERM')
    })
  }

  /** Stops the server and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.#dir, { recursive: true, force: true })
  }
}

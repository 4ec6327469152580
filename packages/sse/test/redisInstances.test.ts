/**
 * Two weir server processes sharing one Redis-bridged topic, with real SSE clients: an event
 * published on either instance reaches the clients of both, with the same id; a client that read
 * up to id X on one instance and reconnects to the other with `Last-Event-ID: X` gets exactly the
 * events it missed, in order, then live ones. Each process exits by itself on SIGTERM once its
 * server and topic are closed (no handle left open).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request, type ClientRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SseParser, type ParsedEvent } from '../src/index.js'
import { RedisServer } from './redisServer.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SERVER = fileURLToPath(new URL('./fixtures/redisSseServer.ts', import.meta.url))
/** Generous: a child compiles the sources with tsx on a shared 2-core machine. */
const START_TIMEOUT_MS = 60_000
const EXIT_TIMEOUT_MS = 15_000

let redis: RedisServer
beforeAll(async () => {
  redis = await RedisServer.start()
}, 180_000)
afterAll(async () => {
  await redis?.dispose()
})

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

interface Instance {
  readonly port: number
  readonly child: ChildProcess
  /** Sends SIGTERM; resolves with the exit code once the process exited by itself. */
  stop(): Promise<number | null>
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

async function startInstance(topic: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', SERVER], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redis.url, TOPIC: topic },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS)
    const code = await exited(child)
    clearTimeout(timer)
    return code
  }
  cleanups.push(stop)
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS)
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const ready = /READY (\d+)\n/.exec(output)
      if (ready !== null) {
        clearTimeout(timer)
        resolve(Number(ready[1]))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`instance exited (${code}) before it was ready:\n${output}`))
    })
  })
  return { port, child, stop }
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path}: ${res.statusCode} ${body}`))))
    })
    req.on('error', reject)
    req.end()
  })
}

/** An SSE client: the events it received, parsed with the package's own parser. */
class SseClient {
  readonly events: ParsedEvent[] = []
  readonly #req: ClientRequest
  readonly #parser = new SseParser()

  constructor(port: number, lastEventId?: string) {
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
    this.#req = request({ host: '127.0.0.1', port, path: '/events', headers, agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => this.events.push(...this.#parser.feed(chunk)))
      res.on('error', () => undefined)
    })
    this.#req.on('error', () => undefined)
    this.#req.end()
    cleanups.push(() => this.close())
  }

  /** The values received (`n` of each event's data). */
  get values(): number[] {
    return this.events.map((e) => (JSON.parse(e.data) as { n: number }).n)
  }

  close(): void {
    this.#req.destroy()
  }
}

async function publish(instance: Instance, n: number): Promise<string> {
  return get(instance.port, `/publish/${n}`)
}

async function subscribers(instance: Instance): Promise<number> {
  return Number(await get(instance.port, '/subscribers'))
}

const POLL = { timeout: 10_000, interval: 20 }

describe('two weir processes sharing a Redis-bridged topic', () => {
  it('deliver each event to the clients of both, and resume a client on the other instance from its Last-Event-ID', { timeout: 120_000 }, async () => {
    const topic = `ticks-${process.pid}`
    const [a, b] = await Promise.all([startInstance(topic), startInstance(topic)])

    const onA = new SseClient(a.port)
    const onB = new SseClient(b.port)
    await expect.poll(() => subscribers(a), POLL).toBe(1)
    await expect.poll(() => subscribers(b), POLL).toBe(1)

    // published on one instance → the clients of both, with one id
    const ids = [await publish(a, 1), await publish(b, 2)]
    await expect.poll(() => onA.events.length, POLL).toBe(2)
    await expect.poll(() => onB.events.length, POLL).toBe(2)
    for (const client of [onA, onB]) {
      expect(client.values).toEqual([1, 2])
      expect(client.events.map((e) => e.lastEventId)).toEqual(ids)
    }

    // the client on A read up to X, leaves; events go on meanwhile, from both instances
    const x = onA.events.at(-1)!.lastEventId
    onA.close()
    await expect.poll(() => subscribers(a), POLL).toBe(0)
    ids.push(await publish(a, 3), await publish(b, 4), await publish(a, 5))

    // it comes back on B with Last-Event-ID: X → exactly what it missed, in order, then live
    const resumed = new SseClient(b.port, x)
    await expect.poll(() => resumed.events.length, POLL).toBe(3)
    expect(resumed.values).toEqual([3, 4, 5])
    expect(resumed.events.map((e) => e.lastEventId)).toEqual(ids.slice(2))
    await expect.poll(() => subscribers(b), POLL).toBe(2)
    ids.push(await publish(a, 6))
    await expect.poll(() => resumed.events.length, POLL).toBe(4)
    expect(resumed.values).toEqual([3, 4, 5, 6])
    expect(resumed.events[3]!.lastEventId).toBe(ids[5])

    // the client that stayed on B saw everything once, in order
    await expect.poll(() => onB.events.length, POLL).toBe(6)
    expect(onB.values).toEqual([1, 2, 3, 4, 5, 6])
    expect(onB.events.map((e) => e.lastEventId)).toEqual(ids)

    // both processes exit by themselves once their server and topic are closed
    resumed.close()
    onB.close()
    expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0])
  })
})

/**
 * `pnpm bench:sse` — N concurrent SSE clients (this process) against one server process (weir,
 * a node:http SSE server written as a user would, better-sse), one event broadcast every 100 ms.
 * For each server and N it reports delivery latency p50/p99 (send time in the server to parse
 * time in the client, both on the epoch clock), server memory per connection (RSS after a full GC,
 * with the clients connected, minus before), and the time from all clients leaving (every socket
 * destroyed at once) to the server reporting zero open sessions. Exits 0 whatever the numbers.
 *
 * Environment:
 *   BENCH_SSE_CLIENTS  comma-separated client counts (default 2000,10000)
 *   BENCH_SSE_SECONDS  measured seconds of broadcasts per run (default 5)
 *   BENCH_ONLY         comma-separated server keys (weir, node, better-sse; default: all)
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { epochMs } from './sse/serve.js'

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url))
const SERVERS = [
  { key: 'weir', name: 'weir', file: 'sse/server-weir.ts' },
  { key: 'node', name: 'node:http (hand-written)', file: 'sse/server-node.ts' },
  { key: 'better-sse', name: 'better-sse', file: 'sse/server-better-sse.ts' },
] as const
const CLIENTS = (process.env['BENCH_SSE_CLIENTS'] ?? '2000,10000').split(',').map(Number)
const SECONDS = Number(process.env['BENCH_SSE_SECONDS'] ?? 5)
const ONLY = process.env['BENCH_ONLY']?.split(',')
const CONNECT_CONCURRENCY = 200
/** A phase that takes longer than this is reported as not finished rather than waited on. */
const PHASE_DEADLINE_MS = 60_000

class PhaseTimeout extends Error {}
function within<T>(phase: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PhaseTimeout(`${phase} took longer than ${PHASE_DEADLINE_MS / 1000} s`)), PHASE_DEADLINE_MS)
  })
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer))
}

interface Server {
  readonly port: number
  readonly child: ChildProcessWithoutNullStreams
  readonly next: (prefix: string) => Promise<string>
}

async function start(file: string): Promise<Server> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', `${BENCH_DIR}${file}`], {
    cwd: BENCH_DIR,
    env: { ...process.env, TSX_TSCONFIG_PATH: `${BENCH_DIR}tsconfig.json` },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stderr.setEncoding('utf8').on('data', (s: string) => process.stderr.write(s))
  const waiting: { prefix: string; resolve: (rest: string) => void }[] = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    const i = waiting.findIndex((w) => line.startsWith(`${w.prefix} `))
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(line.slice(line.indexOf(' ') + 1))
  })
  const next = (prefix: string): Promise<string> => new Promise((resolve) => waiting.push({ prefix, resolve }))
  const port = Number(await within('starting the server', next('READY')))
  return { port, child, next }
}

async function memory(server: Server): Promise<number> {
  const answer = server.next('MEM')
  server.child.stdin.write('MEM\n')
  return Number(await answer)
}

/** One SSE client: connects, sends the request, records the latency of every event it parses. */
function client(port: number, onLatency: (ms: number) => void, ready: () => void): Socket {
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  let buffered = ''
  let headers = false
  socket.on('connect', () => socket.write('GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n'))
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => {
    const now = epochMs()
    buffered += chunk
    if (!headers) {
      const end = buffered.indexOf('\r\n\r\n')
      if (end < 0) return
      headers = true
      buffered = buffered.slice(end + 4)
      ready()
    }
    // `data:` with or without the optional space (better-sse omits it)
    for (let i = buffered.indexOf('data:'); i >= 0; i = buffered.indexOf('data:')) {
      const end = buffered.indexOf('\n', i)
      if (end < 0) break
      const sent = Number(buffered.slice(i + 5, end))
      if (Number.isFinite(sent) && sent > 1e12) onLatency(now - sent)
      buffered = buffered.slice(end + 1)
    }
    if (buffered.length > 4096) buffered = buffered.slice(-4096)
  })
  socket.on('error', () => {})
  return socket
}

const percentile = (xs: readonly number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN
}

interface Row {
  readonly server: string
  readonly clients: number
  readonly p50: number
  readonly p99: number
  readonly events: number
  readonly bytesPerConnection: number
  readonly zeroMs: number
  /** Set when a phase did not finish in time: the server was overloaded at this size. */
  readonly failed?: string
}

/** Opens `n` clients, `CONNECT_CONCURRENCY` at a time; resolves once every one has its response head. */
async function connectAll(port: number, n: number, onLatency: (ms: number) => void, sockets: Socket[]): Promise<void> {
  for (let i = 0; i < n; i += CONNECT_CONCURRENCY) {
    const batch = Math.min(CONNECT_CONCURRENCY, n - i)
    await new Promise<void>((batchDone) => {
      let left = batch
      for (let j = 0; j < batch; j++) sockets.push(client(port, onLatency, () => --left === 0 && batchDone()))
    })
  }
}

async function run(spec: (typeof SERVERS)[number], n: number): Promise<Row> {
  const server = await start(spec.file)
  const sockets: Socket[] = []
  const row = { server: spec.name, clients: n, p50: NaN, p99: NaN, events: 0, bytesPerConnection: NaN, zeroMs: NaN }
  try {
    const before = await within('measuring memory', memory(server))
    const latencies: number[] = []
    let recording = false
    await within('connecting every client', connectAll(server.port, n, (ms) => recording && latencies.push(ms), sockets))
    recording = true
    await new Promise<void>((r) => setTimeout(r, SECONDS * 1000))
    recording = false
    const after = await within('measuring memory', memory(server))
    Object.assign(row, { p50: percentile(latencies, 50), p99: percentile(latencies, 99), events: latencies.length, bytesPerConnection: (after - before) / n })
    const zero = server.next('ZERO')
    const leftAt = epochMs()
    for (const s of sockets) s.destroy()
    row.zeroMs = Number(await within('reaching zero sessions', zero)) - leftAt
    return row
  } catch (e) {
    if (!(e instanceof PhaseTimeout)) throw e
    return { ...row, failed: e.message }
  } finally {
    for (const s of sockets) s.destroy()
    const exited = new Promise((r) => server.child.once('exit', r))
    server.child.stdin.end()
    const kill = setTimeout(() => server.child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(kill)
  }
}

const rows: Row[] = []
for (const n of CLIENTS) {
  for (const spec of SERVERS) {
    if (ONLY !== undefined && !ONLY.includes(spec.key)) continue
    process.stderr.write(`${spec.name}, ${n} clients…\n`)
    rows.push(await run(spec, n))
  }
}

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a')
const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a')
console.log(`\nSSE: one event every 100 ms to N clients, ${SECONDS} s measured; Node ${process.version}\n`)
console.log('| clients | server | p50 ms | p99 ms | p99 vs node:http | events received | KB per connection | vs node:http | all left → 0 sessions, ms |')
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|')
for (const r of rows) {
  const base = rows.find((b) => b.clients === r.clients && b.server.startsWith('node:http'))
  console.log(
    `| ${r.clients} | ${r.server} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${base ? ratio(r.p99 / base.p99) : 'n/a'} | ${r.events} | ${fmt(r.bytesPerConnection / 1024)} | ${base ? ratio(r.bytesPerConnection / base.bytesPerConnection) : 'n/a'} | ${fmt(r.zeroMs)} |`,
  )
}

for (const r of rows) if (r.failed !== undefined) console.log(`\n${r.server}, ${r.clients} clients: ${r.failed}`)
console.log('\n| floor (weir vs node:http, same run) | clients | measured | result |')
console.log('|---|---:|---:|:---:|')
for (const n of CLIENTS) {
  const weir = rows.find((r) => r.clients === n && r.server === 'weir')
  const base = rows.find((r) => r.clients === n && r.server.startsWith('node:http'))
  if (weir === undefined || base === undefined) continue
  for (const [name, measured, factor] of [
    ['p99 latency ≤ 1.0×', weir.p99 / base.p99, 1.0],
    ['memory per connection ≤ 1.2×', weir.bytesPerConnection / base.bytesPerConnection, 1.2],
  ] as const) {
    // a baseline that did not finish gives no ratio: that is not weir failing (unless weir did not finish either)
    const result = weir.failed === undefined && base.failed !== undefined ? 'n/a (node:http did not finish)' : measured <= factor ? 'PASS' : 'FAIL'
    console.log(`| ${name} | ${n} | ${ratio(measured)} | ${result} |`)
  }
}

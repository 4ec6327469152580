/**
 * The README's example scripts run (`pnpm example`, `example:routing`, `example:proxy`, `example:cluster`): each is started as `pnpm <script>` would start it, does what
 * it prints, and exits 0 on its own (nothing left running).
 */
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { ROOT, scriptCommand } from './scriptCommand.js'

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

function runScript(name: string, timeoutMs = 15_000): Promise<Run> {
  const [command, ...args] = scriptCommand(name)
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const guard = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

describe('the example scripts', () => {
  it('`pnpm example` (examples/streams.ts) runs the stream examples and ends', async () => {
    const run = await runScript('example')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('doubled: [ 2, 4, 6 ]')
    expect(run.stdout).toContain('evens squared: [ 4, 16, 36, 64, 100 ]')
    expect(run.stdout).toMatch(/slow consumer got \[ 1, 2, 3, 4, 5 \]/)
    expect(run.stdout).toMatch(/beat #0\n/)
    expect(run.stdout).toContain('ticker stopped')
  })

  it('`pnpm example:routing` (examples/jsonApi.ts) serves its API on a socket, calls it, and stops', async () => {
    const run = await runScript('example:routing')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const statuses = [...run.stdout.matchAll(/^(\w+) (\S+) → (\d{3})/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`)
    expect(statuses).toEqual([
      'POST /books 201',
      'POST /books 400',
      'GET /books?author=Frank%20Herbert 200',
      'GET /books/1 200',
      'PUT /books/1 405',
      'GET /books?limit=many 400',
      'GET /report 200',
    ])
    expect(run.stdout).toContain('WS /echo → echo: hello')
  })

  it('`pnpm example:proxy` (examples/proxy.ts) proxies to an upstream, strips its hop-by-hop fields, and answers 502 once it is gone', async () => {
    const run = await runScript('example:proxy')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('200 GET /v2/users?id=3 via=1.1 weir xff=127.0.0.1')
    expect(run.stdout).toContain('connection header from upstream: none | via: 1.1 weir')
    expect(run.stdout).toMatch(/^502 502 Bad Gateway: .*\(WEIR_HTTP_TCP_CONNECT_FAILED\)\./m)
  })

  it('`pnpm example:cluster` (examples/cluster.ts) serves from two cluster workers on one port and stops them', async () => {
    const run = await runScript('example:cluster', 30_000)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^2 workers listening on 127\.0\.0\.1:\d+ \(the same port: true\)$/m)
    const split = /answers by worker: (\d+) \+ (\d+)/.exec(run.stdout)
    expect(split).not.toBeNull() // both workers answered
    expect(Number(split![1]) + Number(split![2])).toBe(8)
    expect(run.stdout).toContain('workers stopped')
  })
})

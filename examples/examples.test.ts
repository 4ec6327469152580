/**
 * The README's example scripts run: each is started as `pnpm <script>` would start it, does what
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
  })
})

/**
 * The example of each package README (`packages/<pkg>/README.md`, the TypeScript block under
 * "## Example") runs: it is written next to the examples, run as the example scripts are
 * (`node --conditions=source --import tsx`), exits 0 on its own, and prints what its comments say.
 */
import { spawn } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from './scriptCommand.js'

/** The first ```ts block after `## Example`. */
export function readmeExample(pkg: string): string {
  const readme = readFileSync(join(ROOT, 'packages', pkg, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('\n## Example'))
  const m = /```ts\n([\s\S]*?)```/.exec(section)
  if (m === null) throw new Error(`packages/${pkg}/README.md has no ts block under "## Example"`)
  return m[1]!
}

function run(code: string, name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(ROOT, 'examples', `.readme-${name}-${process.pid}.ts`)
  writeFileSync(file, code)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.on('error', reject)
    child.on('exit', (exitCode) => {
      clearTimeout(guard)
      rmSync(file, { force: true })
      resolve({ code: exitCode, stdout, stderr })
    })
  })
}

const expected: Record<string, string[]> = {
  core: ['[ 2, 4, 6 ]', '[ [ 2, 4 ], [ 6, 8 ], [ 10 ] ]', 'stopped'],
  http: ['200 {"hello":"world"}', '1'],
  sse: ['data: hello', '1', 'session closed'],
  testkit: ['timed out after exactly 1 s of virtual time'],
}

describe('the package READMEs', () => {
  for (const [pkg, lines] of Object.entries(expected)) {
    it(`@weir/${pkg}: the example runs and prints what it says`, async () => {
      const code = readmeExample(pkg)
      // what the comments promise is what the test expects
      for (const [, comment] of code.matchAll(/console\.log\(.*\)\s*\/\/ (.+)$/gm)) expect(lines).toContain(comment)
      const result = await run(code, pkg)
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      const out = result.stdout.split('\n')
      for (const line of lines) expect(out).toContain(line)
    })
  }
})

/**
 * For the example tests: the command line of a root `package.json` script (`pnpm <name>`), so a
 * test starts exactly what the README tells users to run, without pnpm in between (pnpm turns a
 * Ctrl-C into its own exit code 130 whatever the program does).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The repository root, where the scripts run. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** `[command, ...args]` of the root script `name`; a script must be one plain command (no shell syntax). */
export function scriptCommand(name: string): [string, ...string[]] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }
  const script = pkg.scripts[name]
  if (script === undefined) throw new Error(`no script ${name} in package.json`)
  if (/[|&;<>$`"'\\]/.test(script)) throw new Error(`script ${name} is not a plain command: ${script}`)
  const [command, ...args] = script.split(/\s+/)
  return [command!, ...args]
}

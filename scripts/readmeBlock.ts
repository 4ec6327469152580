/** A generated block of README.md between two marker comments: read it, or rewrite it. */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const README = fileURLToPath(new URL('../README.md', import.meta.url))

export function readBlock(readme: string, start: string, end: string): string | undefined {
  const i = readme.indexOf(start)
  const j = readme.indexOf(end)
  return i < 0 || j < 0 ? undefined : readme.slice(i + start.length, j).trim()
}

export function writeBlock(start: string, end: string, content: string): void {
  const readme = readFileSync(README, 'utf8')
  const i = readme.indexOf(start)
  const j = readme.indexOf(end)
  if (i < 0 || j < 0) throw new Error(`README.md has no ${start} … ${end} block`)
  writeFileSync(README, `${readme.slice(0, i + start.length)}\n\n${content}\n\n${readme.slice(j)}`)
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1]
}

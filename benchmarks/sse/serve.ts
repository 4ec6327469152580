/**
 * The contract between the SSE benchmark and each server it loads. A server file runs as its own
 * child process (`node --expose-gc --import tsx sse/server-*.ts`). It serves `GET /events` as an
 * SSE stream and broadcasts one event every 100 ms to every open stream, whose data is the send
 * time (ms since the epoch, fractional) so the client can compute delivery latency.
 *
 * Over stdout it prints `READY <port>` once listening, `MEM <bytes>` (RSS after a full GC) in
 * answer to the line `MEM` on stdin, and `ZERO <epoch ms>` whenever its open-session count drops
 * to zero. It exits when stdin closes, so no server outlives a run.
 */
import { createInterface } from 'node:readline'

/** The broadcast interval, per the issue. */
export const INTERVAL_MS = 100

/** A running server: its port; `sessions()` counts the open ones. */
export interface Started {
  readonly port: number
  readonly sessions: () => number
}

/** Milliseconds since the epoch, with sub-millisecond precision, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now()

export async function serve(start: (sessionClosed: () => void) => Promise<Started>): Promise<void> {
  let sessions = (): number => 1
  const sessionClosed = (): void => {
    // after the server's own bookkeeping for this close has run
    queueMicrotask(() => {
      if (sessions() === 0) process.stdout.write(`ZERO ${epochMs()}\n`)
    })
  }
  const started = await start(sessionClosed)
  sessions = started.sessions
  const gc = (globalThis as { gc?: () => void }).gc
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      if (line.trim() === 'MEM') {
        gc?.()
        gc?.()
        process.stdout.write(`MEM ${process.memoryUsage().rss}\n`)
      }
    })
    .on('close', () => process.exit(0))
  process.stdout.write(`READY ${started.port}\n`)
}

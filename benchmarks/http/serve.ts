/**
 * The contract between the HTTP benchmark and each server it loads. A server file is run as its
 * own child process (`node --import tsx http/server-*.ts`, pinned to a core by the harness); it calls
 * `serve` with a function that starts listening on 127.0.0.1 on any free port. `serve` then prints
 * one line `READY <port>` on stdout, and stops the server and exits on SIGTERM/SIGINT or when its
 * stdin closes (the harness went away), so no server outlives a run. Exiting through
 * `process.exit` also lets `node --cpu-prof` write its profile.
 */

/** A listening server: its port and how to stop it. */
export interface Started {
  readonly port: number
  readonly close: () => Promise<void>
}

/** Longest wait for a server's own close before the process exits anyway. */
const CLOSE_DEADLINE_MS = 1500

export async function serve(start: () => Promise<Started>): Promise<void> {
  const server = await start()
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_DEADLINE_MS).unref())
    void Promise.race([server.close().catch(() => undefined), deadline]).then(() => process.exit(0))
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  process.stdin.on('end', stop).on('error', stop).resume()
  process.stdout.write(`READY ${server.port}\n`)
}

/** The body every server answers `GET /` with. */
export const HELLO = 'Hello, World!'

/**
 * The ceiling: a `node:net` responder that parses nothing. It counts the `\r\n\r\n` header
 * terminators it sees (a body-less GET is nothing more) and writes one canned response per
 * terminator, all of a read's responses in one write. With `--close` (the close-churn scenario)
 * it answers the first request with a `Connection: close` response and ends the connection, since
 * a load generator only reconnects when the response says close. It is no HTTP server: it only
 * shows what the machine, Node's socket layer and the load generator allow.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { HELLO, serve } from './serve.js'

const CLOSE_MODE = process.argv.includes('--close')
const head = (extra: string): string =>
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(HELLO)}\r\n${extra}\r\n${HELLO}`
const KEEP_ALIVE = Buffer.from(head(''), 'latin1')
const CLOSE = Buffer.from(head('Connection: close\r\n'), 'latin1')

/** `KEEP_ALIVE` repeated n times, cached for the depths a pipelining client uses. */
const batches: Buffer[] = []
function responses(n: number): Buffer {
  if (n > 256) return Buffer.concat(Array.from({ length: n }, () => KEEP_ALIVE))
  return (batches[n] ??= Buffer.concat(Array.from({ length: n }, () => KEEP_ALIVE)))
}

const CR = 13
const LF = 10
const TERMINATOR = [CR, LF, CR, LF] as const

/**
 * Counts `\r\n\r\n` in a stream of chunks. `matched` is how many bytes of a terminator the
 * previous chunk ended with (0..3), so a terminator split across reads still counts once.
 */
class TerminatorCounter {
  matched = 0

  count(chunk: Buffer): number {
    let n = 0
    let i = 0
    // finish a terminator begun in the previous chunk, byte by byte
    while (this.matched > 0 && i < chunk.length) {
      const b = chunk[i++]!
      if (b === TERMINATOR[this.matched]) {
        if (++this.matched === 4) {
          n++
          this.matched = 0
        }
      } else {
        this.matched = b === CR ? 1 : 0
      }
    }
    // whole terminators inside the chunk
    let end = i
    for (let at = chunk.indexOf('\r\n\r\n', i, 'latin1'); at !== -1; at = chunk.indexOf('\r\n\r\n', end, 'latin1')) {
      n++
      end = at + 4
    }
    // a terminator begun at the end of the chunk (only in bytes after the last whole one)
    if (this.matched === 0) {
      for (let k = Math.min(3, chunk.length - end); k > 0; k--) {
        let ok = true
        for (let j = 0; j < k; j++) if (chunk[chunk.length - k + j] !== TERMINATOR[j]) ok = false
        if (ok) {
          this.matched = k
          break
        }
      }
    }
    return n
  }
}

function onConnection(socket: Socket): void {
  const counter = new TerminatorCounter()
  socket.on('error', () => socket.destroy())
  socket.on('data', (chunk: Buffer) => {
    const n = counter.count(chunk)
    if (n === 0) return
    if (CLOSE_MODE) {
      socket.removeAllListeners('data')
      socket.end(CLOSE)
    } else {
      socket.write(responses(n))
    }
  })
}

await serve(async () => {
  const server = createServer({ noDelay: true }, onConnection)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const sockets = new Set<Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
})

/**
 * Before a server is loaded, check it answers the scenario correctly, over a raw socket with the
 * same bytes wrk sends: every response is `200` with a `text/plain` `Hello, World!` body (framed by
 * Content-Length or chunked); pipelined requests get one response each, in one connection; a request with
 * `Connection: close` gets a response saying close, and the server then ends the connection.
 * A failure rejects with a `VerificationError` saying what was wrong; the server is then not loaded.
 */
import { connect } from 'node:net'
import { HELLO } from './serve.js'

export class VerificationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'VerificationError'
  }
}

export interface Probe {
  /** Requests written back to back in one write. */
  readonly requests: number
  /** Send `Connection: close` and expect the server to close after the response. */
  readonly close: boolean
}

interface ParsedResponse {
  readonly status: number
  readonly headers: ReadonlyMap<string, string>
  readonly body: string
}

const TIMEOUT_MS = 3000

/**
 * Parse as many complete responses as `buf` holds, framed by Content-Length or chunked
 * (without trailers); a response with neither has no body here.
 */
function parseResponses(buf: Buffer): ParsedResponse[] {
  const out: ParsedResponse[] = []
  let off = 0
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', off, 'latin1')
    if (headEnd === -1) return out
    const lines = buf.toString('latin1', off, headEnd).split('\r\n')
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
    if (status === null) throw new VerificationError(`not an HTTP/1.x status line: ${JSON.stringify(lines[0])}`)
    const headers = new Map<string, string>()
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
    }
    const body = (headers.get('transfer-encoding') ?? '').toLowerCase().includes('chunked')
      ? dechunk(buf, headEnd + 4)
      : sized(buf, headEnd + 4, Number(headers.get('content-length') ?? 0))
    if (body === undefined) return out
    out.push({ status: Number(status[1]), headers, body: body.text })
    off = body.end
  }
}

interface Body {
  readonly text: string
  /** Offset just past the body. */
  readonly end: number
}

function sized(buf: Buffer, start: number, length: number): Body | undefined {
  return start + length > buf.length ? undefined : { text: buf.toString('utf8', start, start + length), end: start + length }
}

function dechunk(buf: Buffer, start: number): Body | undefined {
  const parts: Buffer[] = []
  let at = start
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at, 'latin1')
    if (lineEnd === -1) return undefined
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16)
    if (!Number.isFinite(size)) throw new VerificationError('malformed chunk size')
    if (size === 0) {
      if (lineEnd + 4 > buf.length) return undefined
      return { text: Buffer.concat(parts).toString('utf8'), end: lineEnd + 4 }
    }
    if (lineEnd + 2 + size + 2 > buf.length) return undefined
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}

function check(r: ParsedResponse, i: number, wantClose: boolean): void {
  const what = `response ${i + 1}`
  if (r.status !== 200) throw new VerificationError(`${what}: status ${r.status}, expected 200`)
  if (r.body !== HELLO) throw new VerificationError(`${what}: body ${JSON.stringify(r.body)}, expected ${JSON.stringify(HELLO)}`)
  const type = r.headers.get('content-type') ?? ''
  if (!type.toLowerCase().startsWith('text/plain')) throw new VerificationError(`${what}: Content-Type ${JSON.stringify(type)}, expected text/plain`)
  const connection = (r.headers.get('connection') ?? '').toLowerCase()
  if (wantClose && !connection.includes('close')) throw new VerificationError(`${what}: no Connection: close in the answer to a Connection: close request`)
  if (!wantClose && connection.includes('close')) throw new VerificationError(`${what}: Connection: close on a keep-alive request`)
}

/** Resolve when the server at 127.0.0.1:port answers `probe` correctly; reject with a VerificationError otherwise. */
export function verify(port: number, probe: Probe): Promise<void> {
  const one = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${probe.close ? 'Connection: close\r\n' : ''}\r\n`
  return new Promise<void>((resolve, reject) => {
    const chunks: Buffer[] = []
    let settled = false
    const socket = connect({ host: '127.0.0.1', port })
    const finish = (err?: Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (err === undefined) resolve()
      else reject(err)
    }
    const timer = setTimeout(() => {
      const got = safeParse(Buffer.concat(chunks))
      finish(new VerificationError(`timed out after ${TIMEOUT_MS} ms with ${got} of ${probe.requests} response(s)${probe.close ? ' and the connection still open' : ''}`))
    }, TIMEOUT_MS)
    const evaluate = (ended: boolean): void => {
      try {
        const responses = parseResponses(Buffer.concat(chunks))
        if (responses.length > probe.requests) throw new VerificationError(`${responses.length} responses to ${probe.requests} request(s)`)
        if (responses.length < probe.requests) {
          if (ended) throw new VerificationError(`connection closed after ${responses.length} of ${probe.requests} response(s)`)
          return
        }
        responses.forEach((r, i) => check(r, i, probe.close))
        if (!probe.close) finish()
        else if (ended) finish()
        // else: wait for the server to close the connection
      } catch (e) {
        finish(e instanceof Error ? e : new VerificationError(String(e)))
      }
    }
    socket.on('connect', () => socket.write(one.repeat(probe.requests)))
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      evaluate(false)
    })
    socket.on('end', () => evaluate(true))
    socket.on('error', (e) => finish(new VerificationError(`socket error: ${e.message}`)))
  })
}

function safeParse(buf: Buffer): number {
  try {
    return parseResponses(buf).length
  } catch {
    return 0
  }
}

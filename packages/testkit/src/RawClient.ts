/**
 * RawClient: a TCP client for tests that speaks bytes, not HTTP — it sends exactly what the test
 * wrote, as fast or as slowly as asked, and tells apart how the peer ended the connection: an
 * orderly FIN, a reset (RST), or another socket error.
 *
 * Contract: the socket is half-open capable (a FIN from the peer leaves our side writable) and
 * reads continuously; everything received is kept (`received`) and consumed in order by
 * `readUntil` / `readResponse`, which leave what follows buffered. Every wait is re-checked on
 * each socket event and bounded by a real-time guard (default 3000 ms)
 * that rejects with a `timeout` {@link ProbeAssertionError}; a wait that can no longer succeed
 * (the connection ended) rejects at once with `terminated` or `unexpected-event`. The guard only
 * keeps a broken test from hanging; `expectOpen(ms)` is the one deliberate real-time wait, for
 * asserting that nothing happens. A record of events with relative timestamps (`events`) is
 * included in failure messages. Connects to 127.0.0.1 by default; call `destroy()` when done.
 *
 * ```ts
 * const client = await RawClient.connect(port)
 * await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
 * const res = await client.readResponse()
 * expect(res.status).toBe(200)
 * await client.halfClose()
 * await client.expectFin()
 * ```
 */
import { connect as netConnect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { InvalidArgumentError } from '@weir/core'
import { ProbeAssertionError, checkTimeout, type ProbeFailure } from './expectations.js'
import { parseResponse, type RawResponse } from './rawResponse.js'

export type { RawResponse, ResponseFraming } from './rawResponse.js'

/** Options of {@link RawClient.connect}. */
export interface RawClientOptions {
  /** Real-time ms any wait may take before failing (a guard against hanging tests; default 3000). */
  readonly timeoutMs?: number
  /** Disable Nagle's algorithm so small writes leave at once (default true). */
  readonly noDelay?: boolean
}

/** Options of a single wait. */
export interface WaitOptions {
  /** Real-time guard for this wait, overriding the client's. */
  readonly timeoutMs?: number
}

/** Options of {@link RawClient.readResponse}. */
export interface ReadResponseOptions extends WaitOptions {
  /** The method of the request this response answers (`HEAD` responses have no body). */
  readonly requestMethod?: string
}

/** What happened on the socket, for debugging a failed test. */
export interface RawClientEvent {
  /** Real-time ms since `connect` was called. */
  readonly atMs: number
  readonly kind: 'connect' | 'write' | 'data' | 'end' | 'error' | 'close' | 'half-close' | 'reset' | 'destroy'
  /** Bytes written or received. */
  readonly bytes?: number
  /** The error code of an `error` event. */
  readonly code?: string
}

/** How the connection has ended so far. */
export interface RawClientClosed {
  /** How the peer ended its sending side first: `fin` (orderly end) or `rst` (ECONNRESET); undefined while it has not. */
  readonly peer: 'fin' | 'rst' | undefined
  /** Whether a reset (ECONNRESET) was seen, possibly after a FIN (then it surfaced through a write). */
  readonly reset: boolean
  /** What this client did to the connection, if anything. */
  readonly local: 'half-close' | 'reset' | 'destroy' | undefined
  /** The socket error, if one occurred (ECONNRESET, EPIPE, …). */
  readonly error: NodeJS.ErrnoException | undefined
  /** Whether the socket is fully closed (its handle released). */
  readonly socketClosed: boolean
}

/** A check run on every socket event: undefined to keep waiting, else the outcome. */
type Check<T> = () => { readonly ok: T } | ProbeAssertionError | undefined

const EVENTS_IN_MESSAGES = 12

/** A raw TCP test client; see the module comment. */
export class RawClient {
  readonly #socket: Socket
  readonly #timeoutMs: number
  readonly #t0: number
  readonly #events: RawClientEvent[] = []
  readonly #chunks: Buffer[] = []
  #receivedBytes = 0
  #unread: Buffer = Buffer.alloc(0)
  #peer: 'fin' | 'rst' | undefined = undefined
  #reset = false
  #local: 'half-close' | 'reset' | 'destroy' | undefined = undefined
  #error: NodeJS.ErrnoException | undefined = undefined
  #socketClosed = false
  #writesInFlight = 0
  #reading: string | undefined = undefined
  readonly #watchers = new Set<() => void>()

  private constructor(socket: Socket, timeoutMs: number, t0: number) {
    this.#socket = socket
    this.#timeoutMs = timeoutMs
    this.#t0 = t0
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk)
      this.#receivedBytes += chunk.length
      this.#unread = this.#unread.length === 0 ? chunk : Buffer.concat([this.#unread, chunk])
      this.#record('data', { bytes: chunk.length })
    })
    socket.on('end', () => {
      this.#peer ??= 'fin'
      this.#record('end')
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.#error ??= err
      if (err.code === 'ECONNRESET') {
        this.#reset = true
        this.#peer ??= 'rst'
      }
      this.#record('error', { code: err.code ?? err.name })
    })
    socket.on('close', () => {
      this.#socketClosed = true
      this.#record('close')
    })
  }

  /** Connect to `host:port`; rejects with the socket error (e.g. ECONNREFUSED) or a `timeout` failure. */
  static connect(port: number, host = '127.0.0.1', options: RawClientOptions = {}): Promise<RawClient> {
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new InvalidArgumentError('port', port, 'a TCP port (1–65535)')
    const timeoutMs = checkTimeout(options.timeoutMs)
    const t0 = performance.now()
    const socket = netConnect({ port, host, allowHalfOpen: true, noDelay: options.noDelay ?? true })
    const client = new RawClient(socket, timeoutMs, t0)
    return new Promise<RawClient>((resolve, reject) => {
      const guard = setTimeout(() => {
        socket.destroy()
        reject(new ProbeAssertionError('connect', 'timeout', `no connection to ${host}:${port} within ${timeoutMs} ms`))
      }, timeoutMs)
      const onError = (err: Error): void => {
        clearTimeout(guard)
        reject(err)
      }
      socket.once('error', onError)
      socket.once('connect', () => {
        clearTimeout(guard)
        socket.off('error', onError)
        client.#record('connect')
        resolve(client)
      })
    })
  }

  /**
   * Use the expectations of a RawClient on a socket that is already connected, e.g. the server's
   * side of a test connection. Wrap it before its first 'data' event is due (in the 'connection'
   * handler); it should come from a server created with `allowHalfOpen: true`, else Node answers
   * the peer's FIN with its own.
   */
  static wrap(socket: Socket, options: RawClientOptions = {}): RawClient {
    const client = new RawClient(socket, checkTimeout(options.timeoutMs), performance.now())
    socket.setNoDelay(options.noDelay ?? true)
    client.#record('connect')
    return client
  }

  /** Everything received so far, consumed or not. */
  get received(): Buffer {
    return Buffer.concat(this.#chunks, this.#receivedBytes)
  }

  /** Bytes received and not yet consumed by `readUntil` / `readResponse`. */
  get unread(): Buffer {
    return this.#unread
  }

  /** How the connection has ended so far. */
  get closed(): RawClientClosed {
    return { peer: this.#peer, reset: this.#reset, local: this.#local, error: this.#error, socketClosed: this.#socketClosed }
  }

  /** What happened on the socket, with real-time ms since connect. */
  get events(): readonly RawClientEvent[] {
    return this.#events
  }

  /** The local port of the connection (to correlate with the server's side). */
  get localPort(): number | undefined {
    return this.#socket.localPort
  }

  /** Write `bytes` (a string is UTF-8); resolves once handed to the kernel, rejects with the socket error. */
  write(bytes: string | Uint8Array): Promise<void> {
    if (this.#local !== undefined || this.#socketClosed) return Promise.reject(this.#misuse('write', 'the client can no longer write'))
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
    this.#writesInFlight++
    this.#record('write', { bytes: buf.length })
    return new Promise<void>((resolve, reject) => {
      this.#socket.write(buf, (err) => {
        this.#writesInFlight--
        this.#notify()
        if (err) reject(err)
        else resolve()
      })
    })
  }

  /** Write `bytes` in pieces of `chunkSize` bytes with `gapMs` of real time between them: a slow sender. */
  async writeSlowly(bytes: string | Uint8Array, chunkSize: number, gapMs: number): Promise<void> {
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new InvalidArgumentError('chunkSize', chunkSize, 'a positive integer')
    if (!(gapMs >= 0) || !Number.isFinite(gapMs)) throw new InvalidArgumentError('gapMs', gapMs, 'a finite number of ms ≥ 0')
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let pos = 0; pos < buf.length; pos += chunkSize) {
      if (pos > 0) await sleep(gapMs)
      await this.write(buf.subarray(pos, pos + chunkSize))
    }
  }

  /**
   * Wait until the unread bytes contain `marker` and consume them up to and including it. A
   * string is matched as UTF-8 bytes, a RegExp against the bytes read as latin1 (one char per
   * byte); a predicate gets the unread bytes and, when it returns true, all of them are consumed.
   */
  readUntil(marker: string | RegExp | ((received: Buffer) => boolean), options: WaitOptions = {}): Promise<Buffer> {
    const find = endOfMarker(marker)
    return this.#read('readUntil', `bytes up to ${String(marker)}`, options, () => {
      const end = find(this.#unread)
      if (end >= 0) return { ok: this.#consume(end) }
      if (this.#ended()) return this.#fail('readUntil', 'terminated', `the connection ended (${this.#describeEnd()}) before the marker ${String(marker)} arrived`)
      return undefined
    })
  }

  /**
   * Read exactly one HTTP/1.1 response from the unread bytes (body framed by Content-Length,
   * chunked encoding or the peer's FIN) and consume it; rejects with `mismatch` if the bytes are
   * not a valid response (see rawResponse.ts) and `terminated` if the connection ends first.
   */
  readResponse(options: ReadResponseOptions = {}): Promise<RawResponse> {
    return this.#read('readResponse', 'an HTTP response', options, () => {
      const parsed = parseResponse(this.#unread, { requestMethod: options.requestMethod, atEof: this.#peer === 'fin' && !this.#reset })
      switch (parsed.kind) {
        case 'complete':
          this.#consume(parsed.consumed)
          return { ok: parsed.response }
        case 'invalid':
          return this.#fail('readResponse', 'mismatch', `invalid response: ${parsed.reason}`)
        case 'incomplete':
          if (this.#ended()) return this.#fail('readResponse', 'terminated', `the connection ended (${this.#describeEnd()}) before a whole response arrived`)
          return undefined
      }
    })
  }

  /** Wait for the peer's orderly FIN ('end' without a reset). */
  expectFin(options: WaitOptions = {}): Promise<void> {
    return this.#waitFor('expectFin', 'a FIN from the peer', options, () => {
      if (this.#peer === 'fin') return { ok: undefined }
      if (this.#peer === 'rst' || this.#error !== undefined) return this.#fail('expectFin', 'unexpected-event', `expected a FIN, but ${this.#describeEnd()}`)
      if (this.#socketClosed || this.#local === 'reset' || this.#local === 'destroy') return this.#fail('expectFin', 'terminated', 'the client closed the socket itself')
      return undefined
    })
  }

  /**
   * Wait for a reset from the peer (ECONNRESET). After a FIN the kernel stops reading, so a later
   * reset surfaces only through a write: this fails if a FIN came and no write is in flight.
   */
  expectRst(options: WaitOptions = {}): Promise<void> {
    return this.#waitFor('expectRst', 'a reset (ECONNRESET) from the peer', options, () => {
      if (this.#reset) return { ok: undefined }
      if (this.#error !== undefined) return this.#fail('expectRst', 'unexpected-event', `expected ECONNRESET, but ${this.#describeEnd()}`)
      if (this.#peer === 'fin' && this.#writesInFlight === 0) return this.#fail('expectRst', 'unexpected-event', 'expected a reset, but the peer sent a FIN')
      if (this.#socketClosed || this.#local === 'reset' || this.#local === 'destroy') return this.#fail('expectRst', 'terminated', 'the client closed the socket itself')
      return undefined
    })
  }

  /** Wait for the peer to end the connection, and say how it did first: `fin` or `rst`. */
  expectClosed(options: WaitOptions = {}): Promise<'fin' | 'rst'> {
    return this.#waitFor('expectClosed', 'the peer to close', options, () => {
      if (this.#peer !== undefined) return { ok: this.#peer }
      if (this.#error !== undefined) return this.#fail('expectClosed', 'unexpected-event', `expected FIN or RST, but ${this.#describeEnd()}`)
      if (this.#socketClosed || this.#local === 'reset' || this.#local === 'destroy') return this.#fail('expectClosed', 'terminated', 'the client closed the socket itself')
      return undefined
    })
  }

  /**
   * Assert that for `ms` of real time nothing arrives and the socket stays open; fails as soon as
   * a byte, a FIN, a reset or an error arrives or the socket closes (a FIN that came before the
   * call is allowed: a half-open socket can stay open). The only deliberate real-time wait here.
   */
  expectOpen(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new InvalidArgumentError('ms', ms, 'a finite number of ms ≥ 0')
    const bytes = this.#receivedBytes
    const peer = this.#peer
    const check: Check<void> = () => {
      if (this.#receivedBytes > bytes) return this.#fail('expectOpen', 'unexpected-event', `${this.#receivedBytes - bytes} byte(s) arrived`)
      if (this.#peer !== peer || this.#error !== undefined || this.#socketClosed) return this.#fail('expectOpen', 'unexpected-event', `the connection ended: ${this.#describeEnd()}`)
      return undefined
    }
    const first = check()
    if (first instanceof ProbeAssertionError) return Promise.reject(first)
    return new Promise<void>((resolve, reject) => {
      const watcher = (): void => {
        const r = check()
        if (r === undefined) return
        clearTimeout(timer)
        this.#watchers.delete(watcher)
        if (r instanceof ProbeAssertionError) reject(r)
      }
      const timer = setTimeout(() => {
        this.#watchers.delete(watcher)
        resolve()
      }, ms)
      this.#watchers.add(watcher)
    })
  }

  /** Send a FIN (socket.end()) and keep reading; resolves once the FIN is handed to the kernel. */
  halfClose(): Promise<void> {
    if (this.#local !== undefined || this.#socketClosed) return Promise.resolve()
    this.#local = 'half-close'
    this.#record('half-close')
    return new Promise<void>((resolve) => this.#socket.end(() => resolve()))
  }

  /** Abort the connection with a RST (socket.resetAndDestroy()); resolves once the socket is closed. */
  reset(): Promise<void> {
    return this.#close('reset', () => this.#socket.resetAndDestroy())
  }

  /** Destroy the socket (a FIN, or a RST if unread data remains in the kernel); resolves once closed. */
  destroy(): Promise<void> {
    return this.#close('destroy', () => this.#socket.destroy())
  }

  #close(how: 'reset' | 'destroy', act: () => void): Promise<void> {
    if (this.#socketClosed) return Promise.resolve()
    if (this.#local !== 'reset' && this.#local !== 'destroy') {
      this.#local = how
      this.#record(how)
    }
    return new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve())
      act()
    })
  }

  #read<T>(expectation: string, awaited: string, options: WaitOptions, check: Check<T>): Promise<T> {
    if (this.#reading !== undefined) return Promise.reject(this.#misuse(expectation, `${this.#reading} is still waiting; reads must not overlap`))
    this.#reading = expectation
    const done = (): void => {
      this.#reading = undefined
    }
    const p = this.#waitFor(expectation, awaited, options, check)
    p.then(done, done)
    return p
  }

  #waitFor<T>(expectation: string, awaited: string, options: WaitOptions, check: Check<T>): Promise<T> {
    const timeoutMs = options.timeoutMs === undefined ? this.#timeoutMs : checkTimeout(options.timeoutMs)
    const first = check()
    if (first instanceof ProbeAssertionError) return Promise.reject(first)
    if (first !== undefined) return Promise.resolve(first.ok)
    return new Promise<T>((resolve, reject) => {
      const watcher = (): void => {
        const r = check()
        if (r === undefined) return
        clearTimeout(guard)
        this.#watchers.delete(watcher)
        if (r instanceof ProbeAssertionError) reject(r)
        else resolve(r.ok)
      }
      const guard = setTimeout(() => {
        this.#watchers.delete(watcher)
        reject(this.#fail(expectation, 'timeout', `no ${awaited} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#watchers.add(watcher)
    })
  }

  #consume(end: number): Buffer {
    const out = Buffer.from(this.#unread.subarray(0, end))
    this.#unread = this.#unread.subarray(end)
    return out
  }

  #ended(): boolean {
    return this.#peer !== undefined || this.#error !== undefined || this.#socketClosed
  }

  #describeEnd(): string {
    if (this.#reset) return 'the peer reset the connection (ECONNRESET)'
    if (this.#error !== undefined) return `socket error ${this.#error.code ?? this.#error.name}`
    if (this.#peer === 'fin') return 'the peer sent a FIN'
    if (this.#socketClosed) return `the socket was closed locally (${this.#local ?? 'close'})`
    return 'the connection is open'
  }

  #record(kind: RawClientEvent['kind'], extra: { bytes?: number; code?: string } = {}): void {
    this.#events.push({ atMs: Math.round((performance.now() - this.#t0) * 10) / 10, kind, ...extra })
    this.#notify()
  }

  #notify(): void {
    for (const w of [...this.#watchers]) w()
  }

  #fail(expectation: string, reason: ProbeFailure, message: string): ProbeAssertionError {
    const tail = this.#unread.subarray(-200).toString('latin1')
    const events = this.#events
      .slice(-EVENTS_IN_MESSAGES)
      .map((e) => `+${e.atMs}ms ${e.kind}${e.bytes === undefined ? '' : ` ${e.bytes}B`}${e.code === undefined ? '' : ` ${e.code}`}`)
      .join(', ')
    return new ProbeAssertionError(expectation, reason, `${message}; unread ${this.#unread.length} B ${JSON.stringify(tail)}; events: ${events}`)
  }

  #misuse(expectation: string, message: string): ProbeAssertionError {
    return new ProbeAssertionError(expectation, 'misuse', message)
  }
}

/** The index just past `marker` in the bytes, or -1 while absent. */
function endOfMarker(marker: string | RegExp | ((received: Buffer) => boolean)): (bytes: Buffer) => number {
  if (typeof marker === 'string') {
    if (marker === '') throw new InvalidArgumentError('marker', marker, 'a non-empty string')
    const needle = Buffer.from(marker)
    return (bytes) => {
      const i = bytes.indexOf(needle)
      return i < 0 ? -1 : i + needle.length
    }
  }
  if (marker instanceof RegExp) {
    const re = new RegExp(marker.source, marker.flags.replace(/[gy]/g, ''))
    return (bytes) => {
      const m = re.exec(bytes.toString('latin1'))
      return m === null ? -1 : m.index + m[0].length
    }
  }
  return (bytes) => (marker(bytes) ? bytes.length : -1)
}

/**
 * FaultProxy: a TCP middlebox on 127.0.0.1 between test clients and a server — it plays the load
 * balancer or full proxy of DESIGN §1, and can misbehave on demand.
 *
 * Contract: each accepted client connection gets its own connection to the target; bytes are
 * forwarded per the connection's mode, which can be switched at runtime for one connection or for
 * all (new connections take the global mode):
 * - `pass`: pipe both ways with backpressure; a FIN is forwarded as a FIN, a reset or socket
 *   error on one side resets the other (a transparent L4 hop);
 * - `delay`: like `pass`, but every chunk and FIN is forwarded `delayMs` later (at least), in order;
 * - `fin-only`: like `pass` until the CLIENT side closes (FIN, reset or error): then the server
 *   gets only a FIN, its socket stays open, and what it sends is read and discarded (an F5 full
 *   proxy / ALB: the server never learns the client left through a failed write);
 * - `rst`: reset both sides now (new connections are reset as soon as they are proxied);
 * - `blackhole`: forward nothing either way, FINs and resets included; keep both sockets open and
 *   read and discard.
 * Bytes in and out of each side and how each side ended are recorded per connection. Waits are
 * bounded by a real-time guard (default 3000 ms) and reject with a `timeout`
 * {@link ProbeAssertionError}. `stop()` closes every socket and the listener.
 *
 * ```ts
 * const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: serverPort }, mode: 'fin-only' })
 * const client = await RawClient.connect(proxy.port)
 * await proxy.waitForConnections(1)
 * await client.destroy()            // the server sees only a FIN, and its writes keep succeeding
 * await proxy.stop()
 * ```
 */
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net'
import { InvalidArgumentError } from '@weir/core'
import { ProbeAssertionError, checkTimeout } from './expectations.js'
import { MODES, ProxiedConnection, type FaultMode, type ProxyConnectionInfo, type Side } from './proxiedConnection.js'

export type { FaultMode, ProxyConnectionInfo, ProxySideInfo } from './proxiedConnection.js'

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** The server behind the proxy. */
  readonly target: { readonly host: string; readonly port: number }
  /** Port to listen on (default 0: any free port). */
  readonly listenPort?: number
  /** Address to listen on (default 127.0.0.1). */
  readonly listenHost?: string
  /** The initial global mode (default `pass`). */
  readonly mode?: FaultMode
  /** Latency of `delay` mode in ms, each direction (default 0). */
  readonly delayMs?: number
  /** Real-time ms a wait may take before failing (a guard against hanging tests; default 3000). */
  readonly timeoutMs?: number
}

/** Options of {@link FaultProxy.setMode}. */
export interface SetModeOptions {
  /** Switch only this connection (default: all live connections and every new one). */
  readonly connection?: number
  /** New latency for `delay` mode. */
  readonly delayMs?: number
}

/** A fault-injecting TCP proxy for tests; see the module comment. */
export class FaultProxy {
  readonly #server: Server
  readonly #target: { readonly host: string; readonly port: number }
  readonly #timeoutMs: number
  readonly #connections: ProxiedConnection[] = []
  readonly #watchers = new Set<() => void>()
  #mode: FaultMode
  #delayMs: number
  #stopped: Promise<void> | undefined = undefined

  private constructor(server: Server, options: FaultProxyOptions, timeoutMs: number) {
    this.#server = server
    this.#target = options.target
    this.#timeoutMs = timeoutMs
    this.#mode = options.mode ?? 'pass'
    this.#delayMs = options.delayMs ?? 0
    server.on('connection', (socket) => this.#accept(socket))
  }

  /** Start listening; resolves once the proxy accepts connections. */
  static start(options: FaultProxyOptions): Promise<FaultProxy> {
    const { target } = options
    if (!Number.isInteger(target.port) || target.port <= 0 || target.port > 65535) throw new InvalidArgumentError('target.port', target.port, 'a TCP port (1–65535)')
    checkMode(options.mode ?? 'pass')
    checkDelay(options.delayMs ?? 0)
    const timeoutMs = checkTimeout(options.timeoutMs)
    const server = createServer({ allowHalfOpen: true })
    const proxy = new FaultProxy(server, options, timeoutMs)
    return new Promise<FaultProxy>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.listenPort ?? 0, options.listenHost ?? '127.0.0.1', () => {
        server.off('error', reject)
        resolve(proxy)
      })
    })
  }

  /** The port the proxy listens on. */
  get port(): number {
    const address = this.#server.address()
    if (address === null || typeof address === 'string') throw new ProbeAssertionError('port', 'misuse', 'the proxy is not listening')
    return address.port
  }

  /** The global mode, taken by new connections. */
  get mode(): FaultMode {
    return this.#mode
  }

  /** Connections with at least one socket still open, oldest first. */
  get connections(): ProxyConnectionInfo[] {
    return this.#connections.filter((c) => !c.closed).map((c) => c.info())
  }

  /** Every connection accepted so far, live or closed, oldest first. */
  get history(): ProxyConnectionInfo[] {
    return this.#connections.map((c) => c.info())
  }

  /** One connection by id, live or closed. */
  connection(id: number): ProxyConnectionInfo {
    return this.#get(id).info()
  }

  /** Switch the mode of one connection, or of all live connections and every new one. */
  setMode(mode: FaultMode, options: SetModeOptions = {}): void {
    checkMode(mode)
    if (options.delayMs !== undefined) checkDelay(options.delayMs)
    if (options.connection !== undefined) {
      const conn = this.#get(options.connection)
      conn.setMode(mode, options.delayMs ?? conn.delayMs)
      return
    }
    this.#mode = mode
    this.#delayMs = options.delayMs ?? this.#delayMs
    for (const c of this.#connections) if (!c.closed) c.setMode(mode, this.#delayMs)
  }

  /** Make the proxy close its client-facing socket of connection `id`: a FIN (`end`) or a reset. Nothing else is done. */
  closeClientSide(id: number, how: 'fin' | 'rst'): Promise<void> {
    const conn = this.#get(id)
    return this.#closeSide(conn, conn.client, how, `closeClientSide(${id})`)
  }

  /** Make the proxy close its server-facing socket of connection `id`: a FIN (`end`) or a reset. Nothing else is done. */
  closeServerSide(id: number, how: 'fin' | 'rst'): Promise<void> {
    const conn = this.#get(id)
    return this.#closeSide(conn, conn.server, how, `closeServerSide(${id})`)
  }

  /** Wait until `n` connections were accepted and connected to the target (or refused by it). */
  waitForConnections(n: number): Promise<ProxyConnectionInfo[]> {
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('n', n, 'an integer ≥ 0')
    return this.waitFor(`${n} connection(s)`, (all) => all.length >= n && all.slice(0, n).every((c) => c.state !== 'connecting'))
  }

  /** Wait until `predicate` holds for every connection so far (live or closed); resolves with them. */
  waitFor(awaited: string, predicate: (connections: ProxyConnectionInfo[]) => boolean): Promise<ProxyConnectionInfo[]> {
    return new Promise<ProxyConnectionInfo[]>((resolve, reject) => {
      const watcher = (): boolean => {
        const all = this.history
        if (!predicate(all)) return false
        clearTimeout(guard)
        this.#watchers.delete(watcher)
        resolve(all)
        return true
      }
      const guard = setTimeout(() => {
        this.#watchers.delete(watcher)
        reject(new ProbeAssertionError('FaultProxy.waitFor', 'timeout', `no ${awaited} within ${this.#timeoutMs} ms; connections: ${JSON.stringify(this.history)}`))
      }, this.#timeoutMs)
      if (!watcher()) this.#watchers.add(watcher)
    })
  }

  /** Close every socket and the listener; resolves once all are closed. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop()
    return this.#stopped
  }

  async #stop(): Promise<void> {
    const closing = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    for (const c of this.#connections) {
      c.up.drop()
      c.down.drop()
      c.client.destroy()
      c.server.destroy()
    }
    await this.waitFor('all sockets closed', (all) => all.every((c) => c.state === 'closed'))
    await closing
  }

  #accept(clientSocket: Socket): void {
    if (this.#stopped !== undefined) {
      clientSocket.destroy()
      return
    }
    const serverSocket = netConnect({ host: this.#target.host, port: this.#target.port, allowHalfOpen: true, noDelay: true })
    clientSocket.setNoDelay(true)
    const conn = new ProxiedConnection(this.#connections.length + 1, clientSocket, serverSocket, this.#mode, this.#delayMs, () => this.#changed())
    this.#connections.push(conn)
    this.#changed()
  }

  async #closeSide(conn: ProxiedConnection, side: Side, how: 'fin' | 'rst', what: string): Promise<void> {
    if (how === 'fin') {
      if (side.done) return
      side.proxy = 'fin'
      conn.changed()
      await new Promise<void>((resolve) => side.socket.end(() => resolve()))
      return
    }
    side.reset()
    conn.changed()
    await this.waitFor(`${what} closed`, () => side.closed)
  }

  #get(id: number): ProxiedConnection {
    const conn = this.#connections[id - 1]
    if (conn === undefined) throw new InvalidArgumentError('connection', id, 'the id of a connection of this proxy')
    return conn
  }

  #changed(): void {
    for (const w of [...this.#watchers]) w()
  }
}

function checkMode(mode: FaultMode): void {
  if (!MODES.includes(mode)) throw new InvalidArgumentError('mode', mode, `one of ${MODES.join(', ')}`)
}

function checkDelay(delayMs: number): void {
  if (!(delayMs >= 0) || !Number.isFinite(delayMs)) throw new InvalidArgumentError('delayMs', delayMs, 'a finite number of ms ≥ 0')
}

/**
 * TCP as streams. `Tcp.bind` is a `Source` of incoming connections, each a
 * `Flow<Uint8Array, Uint8Array>` over its socket; `Tcp.outgoingConnection` is a flow that connects
 * when materialized. Other protocols can be built on them, e.g. a line protocol:
 *
 * ```ts
 * const binding = await Tcp.bind('127.0.0.1', 7000)
 *   .to(Sink.foreach((c) => c.handleWith(Framing.delimiter('\n', 1024).map(toUpper))))
 *   .run()
 * ```
 *
 * Connections are accepted with reading paused; nothing is read until the connection's flow is
 * materialized and pulled. Accepted connections wait (up to `maxPendingConnections`) while the
 * source has no demand; beyond that they are closed at once.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions, type TlsOptions } from 'node:tls'
import {
  Flow,
  GraphStageLogic,
  GraphStageWithMaterializedValue,
  Outlet,
  Source,
  SourceShape,
  toMillis,
  type Cancellable,
  type Duration,
  type Scheduler,
  type Materializer,
  type NotUsed,
} from '@weir/core'
import { BindError } from './errors.js'
import { newConnectionId, TcpConnection, TcpConnectionStage, type SocketAdopter, type TcpConnectionOptions } from './TcpConnectionStage.js'

/** A connection accepted by `Tcp.bind`. */
export class IncomingConnection {
  readonly #socket: Socket
  readonly #options: BindOptions
  #stage: TcpConnectionStage | undefined = undefined
  #flow: Flow<Uint8Array, Uint8Array, NotUsed> | undefined = undefined
  readonly #timeoutMs: number
  readonly #scheduler: Scheduler
  #handleTimer: Cancellable | undefined = undefined
  readonly #noDelaySet: boolean
  constructor(
    readonly connection: TcpConnection,
    socket: Socket,
    options: BindOptions,
    scheduler: Scheduler,
    /** The socket already has TCP_NODELAY (inherited from the listening socket). */
    noDelaySet = false,
  ) {
    this.#socket = socket
    this.#options = options
    this.#noDelaySet = noDelaySet
    this.#timeoutMs = toMillis(options.handleTimeout ?? 5000, 'handleTimeout')
    this.#scheduler = scheduler
  }
  /** The connection as a flow of bytes (written to the socket) to bytes (read from it); materialized at most once. */
  get flow(): Flow<Uint8Array, Uint8Array, NotUsed> {
    return (this.#flow ??= Flow.fromGraph(this.#tcpStage()).mapMaterializedValue(() => undefined))
  }
  #tcpStage(): TcpConnectionStage {
    return (this.#stage ??= new TcpConnectionStage({ kind: 'accepted', socket: this.#socket, connection: this.connection, noDelaySet: this.#noDelaySet }, this.#options))
  }
  /**
   * @internal called by the bind stage once the connection was handed on: if it was not handled during that
   * (a handler that materializes at once costs no timer), it is closed unless handled within `handleTimeout`.
   */
  _armHandleTimeout(): void {
    if (this.connection._claimed || this.#handleTimer !== undefined || !Number.isFinite(this.#timeoutMs)) return
    const timer = this.#scheduler.scheduleOnce(this.#timeoutMs, () => {
      if (!this.connection._claimed) this._discard()
    })
    this.#handleTimer = timer
    this.#tcpStage().onMaterialized = () => void timer.cancel() // handled: no timer left behind
  }
  /** @internal close a connection that was accepted but never handled. */
  _discard(): void {
    this.#handleTimer?.cancel()
    if (this.connection._claimed) return
    this.#socket.destroy()
    this.connection._closed({ reason: 'local-abort', bytesRead: 0, bytesWritten: 0 })
  }
  /**
   * @internal Serve this connection with a stage materialized from a shared blueprint (see
   * `AdoptingTcpConnectionStage`): it takes the socket, as materializing `flow` would.
   */
  _adoptInto(adopter: SocketAdopter): void {
    this.connection._claim()
    this.#handleTimer?.cancel()
    adopter.adopt(this.#socket, this.connection, this.#noDelaySet)
  }
  get id(): number {
    return this.connection.id
  }
  /** Run `handler` over this connection (its output is written to the socket); returns the handler's materialized value. */
  handleWith<M>(handler: Flow<Uint8Array, Uint8Array, M>, materializer?: Materializer): M {
    return this.flow.joinMat(handler, (_l: NotUsed, r: M) => r).run(materializer)
  }
}

/** A bound listening socket. */
export interface ServerBinding {
  readonly host: string
  readonly port: number
  /** Stop accepting; resolves once the listening socket is closed (live connections are not touched). */
  unbind(): Promise<void>
  /** Resolves when the listening socket was closed, by `unbind` or because the source was cancelled. */
  readonly whenUnbound: Promise<void>
}

export interface BindOptions extends TcpConnectionOptions {
  /** Listen backlog passed to the kernel. */
  readonly backlog?: number
  /** Accepted connections held while the source has no demand (default 1024); beyond that they are closed. */
  readonly maxPendingConnections?: number
  /** How long binding may take (default 1 s). */
  readonly bindTimeout?: Duration
  /** An emitted connection whose flow is not materialized within this time is closed (default 5 s). */
  readonly handleTimeout?: Duration
}

const BIND_TIMER = 'bind'

/** Set TCP_NODELAY on a listening socket; false when its handle does not offer it or the call failed. */
function setListenerNoDelay(server: Server): boolean {
  const handle = (server as unknown as { _handle?: { setNoDelay?: (enable: boolean) => number } })._handle
  if (typeof handle?.setNoDelay !== 'function') return false
  return handle.setNoDelay(true) === 0
}

class BindLogic extends GraphStageLogic {
  readonly out: Outlet<IncomingConnection>
  #server: Server | undefined
  #pending: IncomingConnection[] = []
  #bound = false
  /** Accepted sockets inherit TCP_NODELAY from the listening socket (see `#listening`). */
  #noDelayInherited = false
  #unboundResolve!: () => void
  readonly whenUnbound: Promise<void> = new Promise((r) => {
    this.#unboundResolve = r
  })

  constructor(
    shape: SourceShape<IncomingConnection>,
    readonly stage: TcpBindStage,
    readonly bound: (b: ServerBinding) => void,
    readonly bindFailed: (e: unknown) => void,
  ) {
    super(shape)
    this.out = shape.out
    this.setHandler(this.out, this)
  }

  override preStart(): void {
    const { host, port, options } = this.stage
    const onConnection = this.getAsyncCallback((socket: Socket) => this.#accepted(socket))
    const onListening = this.getAsyncCallback(() => this.#listening())
    const onError = this.getAsyncCallback((e: Error) => this.#error(e))
    const unbind = this.getAsyncCallback(() => this.#close())
    this.unbindCallback = () => unbind.invoke()
    const tls = this.stage.tls
    // TLS: connections are handed over after the handshake (reading must not pause before it)
    const server: Server = tls === undefined ? createServer({ allowHalfOpen: true, pauseOnConnect: true }) : createTlsServer({ ...tls, allowHalfOpen: true })
    this.#server = server
    server.on(tls === undefined ? 'connection' : 'secureConnection', (s: Socket) => onConnection.invoke(s))
    if (tls !== undefined) server.on('tlsClientError', () => {}) // a failed handshake concerns that client only
    server.on('error', (e: Error) => onError.invoke(e))
    server.listen({ host, port, backlog: options.backlog }, () => onListening.invoke())
    const timeout = toMillis(options.bindTimeout ?? 1000, 'bindTimeout')
    if (Number.isFinite(timeout)) this.scheduleOnce(BIND_TIMER, timeout)
  }

  unbindCallback: () => void = () => {}

  #listening(): void {
    this.cancelTimer(BIND_TIMER)
    this.#bound = true
    // Linux copies TCP_NODELAY from a listening socket to the sockets it accepts: one system call
    // here instead of one per connection (elsewhere, and for TLS, each connection sets it)
    if (this.stage.tls === undefined && process.platform === 'linux') this.#noDelayInherited = setListenerNoDelay(this.#server!)
    const addr = this.#server!.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.stage.port
    const unbind = this.unbindCallback
    const whenUnbound = this.whenUnbound
    this.bound({
      host: this.stage.host,
      port,
      unbind: () => {
        unbind()
        return whenUnbound
      },
      whenUnbound,
    })
  }

  protected override onTimer(): void {
    const { host, port } = this.stage
    this.#failBinding(new BindError(`${host}:${port}`, undefined, undefined, toMillis(this.stage.options.bindTimeout ?? 1000)))
  }

  #error(e: Error): void {
    const { host, port } = this.stage
    if (!this.#bound) return this.#failBinding(new BindError(`${host}:${port}`, (e as { code?: string }).code, e))
    this.failStage(e)
  }

  #failBinding(e: unknown): void {
    this.bindFailed(e)
    this.failStage(e)
  }

  #accepted(socket: Socket): void {
    const c = new TcpConnection(newConnectionId(), socket)
    const incoming = new IncomingConnection(c, socket, this.stage.options, this.materializer.scheduler, this.#noDelayInherited)
    if (this.isAvailable(this.out)) {
      this.push(this.out, incoming)
      return incoming._armHandleTimeout()
    }
    if (this.#pending.length >= (this.stage.options.maxPendingConnections ?? 1024)) return incoming._discard()
    this.#pending.push(incoming)
    incoming._armHandleTimeout()
  }

  onPull(): void {
    const next = this.#pending.shift()
    if (next !== undefined) this.push(this.out, next)
  }

  onDownstreamFinish(): void {
    this.#close()
  }

  #close(): void {
    this.completeStage()
  }

  override postStop(): void {
    const server = this.#server
    if (server !== undefined && server.listening) server.close()
    for (const p of this.#pending) p._discard()
    this.#pending.length = 0
    this.#unboundResolve()
    if (!this.#bound) this.bindFailed(new BindError(`${this.stage.host}:${this.stage.port}`, undefined, undefined))
  }
}

class TcpBindStage extends GraphStageWithMaterializedValue<SourceShape<IncomingConnection>, Promise<ServerBinding>> {
  readonly shape = new SourceShape(new Outlet<IncomingConnection>('TcpBind.out'))
  constructor(
    readonly host: string,
    readonly port: number,
    readonly options: BindOptions,
    readonly tls?: TlsOptions,
  ) {
    super()
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Promise<ServerBinding>] {
    let resolve!: (b: ServerBinding) => void
    let reject!: (e: unknown) => void
    const p = new Promise<ServerBinding>((a, b) => {
      resolve = a
      reject = b
    })
    p.catch(() => {})
    return [new BindLogic(this.shape, this, resolve, reject), p]
  }
}

export interface OutgoingConnectionOptions extends TcpConnectionOptions {
  /** Maximum time to establish the connection (default 10 s). */
  readonly connectTimeout?: Duration
}

export const Tcp = {
  /** A source of the connections accepted on `host:port` (port 0: any free port; see the binding). */
  bind(host: string, port: number, options: BindOptions = {}): Source<IncomingConnection, Promise<ServerBinding>> {
    toMillis(options.bindTimeout ?? 1000, 'bindTimeout')
    toMillis(options.handleTimeout ?? 5000, 'handleTimeout')
    return Source.fromGraph(new TcpBindStage(host, port, options))
  },

  /** Like `bind`, for TLS (`key`, `cert`, … as for `node:tls`); connections are emitted after the handshake. */
  bindTls(host: string, port: number, tls: TlsOptions, options: BindOptions = {}): Source<IncomingConnection, Promise<ServerBinding>> {
    toMillis(options.bindTimeout ?? 1000, 'bindTimeout')
    toMillis(options.handleTimeout ?? 5000, 'handleTimeout')
    return Source.fromGraph(new TcpBindStage(host, port, options, tls))
  },

  /** Like `outgoingConnection`, over TLS; the connection is established once the handshake completed. */
  outgoingTlsConnection(
    host: string,
    port: number,
    tls: TlsConnectionOptions = {},
    options: OutgoingConnectionOptions = {},
  ): Flow<Uint8Array, Uint8Array, Promise<TcpConnection>> {
    const connectTimeoutMs = toMillis(options.connectTimeout ?? 10_000, 'connectTimeout')
    return Flow.fromGraph(
      new TcpConnectionStage(
        { kind: 'connect', connect: () => tlsConnect({ servername: host, ...tls, host, port }), remote: `${host}:${port}`, connectTimeoutMs, connectEvent: 'secureConnect' },
        options,
      ),
    )
  },

  /** A flow over a connection to `host:port`, opened when materialized; materializes the connection once established. */
  outgoingConnection(host: string, port: number, options: OutgoingConnectionOptions = {}): Flow<Uint8Array, Uint8Array, Promise<TcpConnection>> {
    const connectTimeoutMs = toMillis(options.connectTimeout ?? 10_000, 'connectTimeout')
    return Flow.fromGraph(
      new TcpConnectionStage({ kind: 'connect', connect: () => netConnect({ host, port, allowHalfOpen: true }), remote: `${host}:${port}`, connectTimeoutMs }, options),
    )
  },
}

/**
 * The TCP connection stage: one socket as a `Flow<Uint8Array, Uint8Array>` — bytes to write in,
 * bytes read out. Its contract is the one the HTTP layer relies on to tell how a peer left:
 *
 * - inbound bytes are pulled: the socket is read only while downstream demands (reading pauses
 *   otherwise — real backpressure, the kernel window closes);
 * - a FIN from the peer completes the inbound side (after buffered bytes); an RST fails it with
 *   {@link ConnectionResetError}; any other socket error fails it with {@link SocketError};
 * - completing the outbound side half-closes the socket (FIN), and the inbound side keeps going;
 *   failing it destroys the socket;
 * - cancelling the inbound side keeps reading and discards what arrives (so that unread bytes do
 *   not turn the close into an RST) until the outbound side is done, then closes;
 * - after both sides are done the stage waits for the socket to flush and close, at most
 *   `closeTimeoutMs`, then destroys it; `postStop` always releases the socket;
 * - a protocol switch (an HTTP upgrade) hands the socket over: once {@link TcpConnection._handOver}
 *   was asked for, the outbound side's completion (after every byte written before it) detaches the
 *   socket, paused, with the bytes read but not yet delivered, and gives both to the new owner;
 *   the stage then stops without touching the socket and the connection ends as 'handed-over'.
 *
 * Every connection reports how it ended through {@link TcpConnection.closed}.
 */
import type { Socket } from 'node:net'
import {
  FlowShape,
  GraphStageWithMaterializedValue,
  GraphStageLogic,
  Inlet,
  Outlet,
  isNonFailureCancellation,
} from '@weir/core'
import { ConnectError, ConnectTimeoutError, socketFailure, type TcpError } from './errors.js'

/** How a connection ended, from this side's point of view. */
export type CloseReason =
  /** the peer half-closed (FIN) and the connection then closed cleanly */
  | 'peer-fin'
  /** the peer reset the connection (RST) */
  | 'peer-reset'
  /** a socket error other than a reset */
  | 'error'
  /** this side completed both directions and closed cleanly */
  | 'local-close'
  /** this side aborted (the stream failed or was cancelled with a failure) */
  | 'local-abort'
  /** the socket did not finish closing within the close timeout and was destroyed */
  | 'close-timeout'
  /** the socket was handed over to another protocol (an HTTP upgrade); its new owner closes it */
  | 'handed-over'

export interface CloseInfo {
  readonly reason: CloseReason
  readonly error?: TcpError | undefined
  readonly bytesRead: number
  readonly bytesWritten: number
}

export interface TcpConnectionOptions {
  /** How long a socket whose streams are done may take to flush and close before it is destroyed (ms, default 10 000). */
  readonly closeTimeoutMs?: number
}

/** Receives a socket handed over by the TCP stage: paused, with the bytes read from it but not delivered. */
export type SocketHandover = (socket: Socket, unread: readonly Uint8Array[]) => void

/** A live or finished connection: addresses, and how it ended. */
export class TcpConnection {
  // the promise is made when first asked for (most connections are never asked)
  #closed: Promise<CloseInfo> | undefined = undefined
  #resolveClosed: ((info: CloseInfo) => void) | undefined = undefined
  #closeInfo: CloseInfo | undefined
  #local: { address: string; port: number } | undefined
  #remote: { address: string; port: number } | undefined
  readonly #socket: Socket
  constructor(
    readonly id: number,
    socket: Socket,
  ) {
    this.#socket = socket
  }
  /** Addresses are read from the socket when first asked for (each side is a system call), then kept. */
  #localAddr(): { address: string; port: number } {
    const s = this.#socket
    return (this.#local ??= { address: s.localAddress ?? '', port: s.localPort ?? 0 })
  }
  #remoteAddr(): { address: string; port: number } {
    const s = this.#socket
    return (this.#remote ??= { address: s.remoteAddress ?? '', port: s.remotePort ?? 0 })
  }
  get localAddress(): string {
    return this.#localAddr().address
  }
  get localPort(): number {
    return this.#localAddr().port
  }
  get remoteAddress(): string {
    return this.#remoteAddr().address
  }
  get remotePort(): number {
    return this.#remoteAddr().port
  }
  get remote(): string {
    return `${this.remoteAddress}:${this.remotePort}`
  }
  /** Resolves with how the connection ended, once it has. */
  get closed(): Promise<CloseInfo> {
    if (this.#closed === undefined) {
      const info = this.#closeInfo
      this.#closed = info !== undefined ? Promise.resolve(info) : new Promise((resolve) => (this.#resolveClosed = resolve))
    }
    return this.#closed
  }
  /** How it ended, once it has. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo
  }
  #handover: SocketHandover | undefined = undefined
  #claimed = false
  /** @internal Take ownership of the socket for one stage; a connection is served only once. */
  _claim(): void {
    if (this.#claimed) throw new Error(`Connection ${this.id} can be materialized only once`)
    this.#claimed = true
  }
  /** @internal True once a stage owns the socket. */
  get _claimed(): boolean {
    return this.#claimed
  }
  /**
   * @internal Hand the socket to `to` instead of closing it: the stage detaches it when its outbound
   * side completes (after every byte written before). Asked for before that completion.
   */
  _handOver(to: SocketHandover): void {
    this.#handover = to
  }
  /** @internal the pending handover, if one was asked for. */
  get _handover(): SocketHandover | undefined {
    return this.#handover
  }
  /** @internal */
  _closed(info: CloseInfo): void {
    if (this.#closeInfo !== undefined) return
    this.#closeInfo = info
    this.#resolveClosed?.(info)
  }
}

let nextConnectionId = 1
/** @internal a process-wide connection id. */
export const newConnectionId = (): number => nextConnectionId++

/** Where the socket comes from: one accepted by a server, or one to connect when materialized. */
export type SocketSource =
  | {
      readonly kind: 'accepted'
      readonly socket: Socket
      readonly connection: TcpConnection
      /** The socket already has TCP_NODELAY (inherited from its listening socket). */
      readonly noDelaySet?: boolean
    }
  | {
      readonly kind: 'connect'
      readonly connect: () => Socket
      readonly remote: string
      readonly connectTimeoutMs: number
      /** The socket event that means "established" (default 'connect'; TLS: 'secureConnect'). */
      readonly connectEvent?: 'connect' | 'secureConnect'
    }

/** @internal Gives a stage materialized from a shared blueprint its accepted socket, before the stream starts. */
export interface SocketAdopter {
  /** `noDelaySet`: the socket already has TCP_NODELAY (inherited from its listening socket). */
  adopt(socket: Socket, connection: TcpConnection, noDelaySet: boolean): void
}

/** What the socket told, apart from data (a Buffer). */
class SocketEvent {
  constructor(readonly name: string) {}
}
class SocketFailed extends SocketEvent {
  constructor(readonly error: Error) {
    super('error')
  }
}
const END = new SocketEvent('end')
const DRAIN = new SocketEvent('drain')
const CLOSE = new SocketEvent('close')
const CONNECT = new SocketEvent('connect')

/** A logic of a shared blueprint before its socket was adopted. */
const UNADOPTED = { kind: 'unadopted' } as const
type LogicSource = SocketSource | typeof UNADOPTED

/** The stage a socket's events go to (a property of the socket: see the listeners in `TcpConnectionLogic`). */
const OWNER = Symbol('weir.tcpStage')
type OwnedSocket = Socket & { [OWNER]?: TcpConnectionLogic | undefined }
interface SocketListeners {
  data(this: OwnedSocket, chunk: Buffer): void
  end(this: OwnedSocket): void
  error(this: OwnedSocket, e: Error): void
  drain(this: OwnedSocket): void
  close(this: OwnedSocket): void
}
let LISTENERS: SocketListeners

const CONNECT_TIMER = 'connect'
const CLOSE_TIMER = 'close'

/** Writes what a connection held back during its island's run (set in the logic's static block, which may call its private method). */
let RELEASE: (l: TcpConnectionLogic) => void

class TcpConnectionLogic extends GraphStageLogic implements SocketAdopter {
  readonly in: Inlet<Uint8Array>
  readonly out: Outlet<Uint8Array>
  #socket: Socket | undefined
  #connection: TcpConnection | undefined
  #queue: Uint8Array[] = []
  #flowing = false
  #peerFin = false
  #readCancelled = false
  #writeEnded = false
  #awaitingDrain = false
  #reason: CloseReason | undefined
  #error: TcpError | undefined
  /** Socket events enter the stage as outside events of `#onSocketEvent` (see `#onSocket`). */
  /** The socket after it was handed over (for the byte counts of the close info). */
  #handedOver: Socket | undefined = undefined
  /** Chunks the socket emitted whose callback has not run yet (so that a handover loses none of them). */
  readonly #inTransit: Buffer[] = []

  // The socket's listeners are shared by every connection: node calls them with the socket as
  // `this`, and the socket carries its stage (no object and five closures per connection).
  static {
    LISTENERS = {
      data(this: OwnedSocket, chunk: Buffer): void {
        const logic = this[OWNER]!
        logic.#inTransit.push(chunk)
        logic.#onSocket(chunk)
      },
      end(this: OwnedSocket): void {
        this[OWNER]!.#onSocket(END)
      },
      error(this: OwnedSocket, e: Error): void {
        this[OWNER]!.#onSocket(new SocketFailed(e))
      },
      drain(this: OwnedSocket): void {
        this[OWNER]!.#onSocket(DRAIN)
      },
      close(this: OwnedSocket): void {
        this[OWNER]!.#onSocket(CLOSE)
      },
    }
  }

  constructor(
    shape: FlowShape<Uint8Array, Uint8Array>,
    public source: LogicSource,
    readonly options: TcpConnectionOptions,
    readonly connected: ((c: TcpConnection) => void) | undefined,
    readonly connectFailed: ((e: unknown) => void) | undefined,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.setHandler(this.in, this)
    this.setHandler(this.out, this)
    if (source.kind === 'accepted') this.#attach(source.socket, source.noDelaySet === true)
  }

  adopt(socket: Socket, connection: TcpConnection, noDelaySet: boolean): void {
    if (this.source.kind !== 'unadopted') throw new Error(`${this.toString()} already has a socket`)
    this.source = { kind: 'accepted', socket, connection, noDelaySet }
    this.#attach(socket, noDelaySet)
  }

  #attach(socket: Socket, noDelaySet: boolean): void {
    this.#socket = socket
    // no Nagle: a response is sent when written, not after the peer's delayed ACK
    if (!noDelaySet) socket.setNoDelay(true)
    const l = LISTENERS
    ;(socket as OwnedSocket)[OWNER] = this
    socket.on('data', l.data)
    socket.on('end', l.end)
    socket.on('error', l.error)
    socket.on('drain', l.drain)
    socket.on('close', l.close)
    socket.pause()
  }

  override preStart(): void {
    this.setKeepGoing(true)
    const src = this.source
    if (src.kind === 'accepted') {
      this.#connection = src.connection
    } else if (src.kind === 'unadopted') {
      throw new Error(`${this.toString()} was started without a socket`)
    } else {
      if (Number.isFinite(src.connectTimeoutMs)) this.scheduleOnce(CONNECT_TIMER, src.connectTimeoutMs)
      const socket = src.connect()
      this.#attach(socket, false)
      socket.once(src.connectEvent ?? 'connect', () => this.#onSocket(CONNECT))
    }
    this.pull(this.in)
  }

  /**
   * A socket event, delivered as an outside event of this stage (what an async callback's `invoke`
   * does, without an AsyncCallback object per connection): `#onSocketEvent` runs with it as `this`.
   */
  #onSocket(ev: Buffer | SocketEvent): void {
    this._invokeExternal(this.#onSocketEvent, ev)
  }

  #onSocketEvent(ev: Buffer | SocketEvent): void {
    if (!(ev instanceof SocketEvent)) this.#data(ev)
    else if (ev === END) this.#end()
    else if (ev === DRAIN) this.#drain()
    else if (ev === CLOSE) this.#socketClosed()
    else if (ev === CONNECT) this.#connectedNow()
    else this.#failed((ev as SocketFailed).error)
  }

  #connectedNow(): void {
    this.cancelTimer(CONNECT_TIMER)
    const s = this.#socket!
    const c = new TcpConnection(newConnectionId(), s)
    this.#connection = c
    this.connected?.(c)
  }

  protected override onTimer(key: unknown): void {
    if (key === CONNECT_TIMER) {
      const src = this.source as Extract<SocketSource, { kind: 'connect' }>
      this.#abort(new ConnectTimeoutError(src.remote, src.connectTimeoutMs), 'local-abort')
    } else if (key === CLOSE_TIMER) {
      this.#reason ??= 'close-timeout'
      this.#socket?.destroy()
    }
  }

  // ---- inbound: bytes read, delivered on demand ----

  onPull(): void {
    const q = this.#queue
    if (q.length > 0) {
      this.push(this.out, q.shift()!)
      if (q.length === 0 && this.#peerFin) this.complete(this.out)
      return
    }
    if (this.#peerFin) return this.complete(this.out)
    this.#resume()
  }

  #resume(): void {
    if (this.#flowing || this.#socket === undefined) return
    this.#flowing = true
    this.#socket.resume()
  }

  #data(chunk: Buffer): void {
    this.#inTransit.shift()
    if (this.#readCancelled) return // reading only to drain the peer's bytes
    if (this.isAvailable(this.out)) this.push(this.out, chunk)
    else {
      this.#queue.push(chunk)
      if (this.#flowing) {
        this.#flowing = false
        this.#socket!.pause()
      }
    }
  }

  #end(): void {
    this.#peerFin = true
    if (this.#readCancelled || this.isClosed(this.out)) return this.#maybeClose()
    if (this.#queue.length === 0) this.complete(this.out)
    this.#maybeClose()
  }

  onDownstreamFinish(cause: unknown): void {
    if (this.#connection?._handover !== undefined && isNonFailureCancellation(cause)) return this.#handOverWhenDone()
    if (!isNonFailureCancellation(cause)) return this.#abort(cause, 'local-abort')
    this.#readCancelled = true
    this.#queue.length = 0
    this.#resume() // keep reading and discard: unread bytes would turn our close into an RST
    this.#maybeClose()
  }

  // ---- outbound: bytes to write ----

  onPush(): void {
    const chunk = this.grab(this.in)
    const socket = this.#socket!
    // the writes of one island run (e.g. the responses to a pipelined batch) leave together, as
    // soon as the run ends (not after every other island's run, which would delay a broadcast):
    // the run's first chunk is held until then; alone (an SSE event) it is written as it is, the
    // cheapest write; a second one corks the socket, and they leave in one writev
    if (!this.#corked) {
      if (this.#held === undefined) {
        this.#held = chunk
        this.afterRun(RELEASE, this)
        // what write() would answer for it: below the high-water mark, take the next chunk
        if (socket.writableLength + chunk.length < socket.writableHighWaterMark) this.pull(this.in)
        else this.#awaitingDrain = true // see #writeHeld
        return
      }
      this.#corked = true
      socket.cork()
      socket.write(this.#held) // its answer was taken when it was held
      this.#held = undefined
    }
    if (socket.write(chunk)) this.pull(this.in)
    else this.#awaitingDrain = true
  }

  /** The first chunk of the current run, not written yet (see onPush). */
  #held: Uint8Array | undefined = undefined
  #corked = false
  static {
    RELEASE = (l) => l.#release()
  }
  #release(): void {
    this.#writeHeld()
    if (this.#corked) {
      this.#corked = false
      this.#socket?.uncork()
    }
  }

  #writeHeld(): void {
    const chunk = this.#held
    if (chunk === undefined) return
    this.#held = undefined
    const s = this.#socket
    if (s === undefined || s.destroyed) return
    // a large chunk waits for 'drain' before the next is taken; a socket that took it at once
    // (written in full, nothing buffered) will not report 'drain': take the next one now
    if (s.write(chunk) && this.#awaitingDrain) this.#onSocket(DRAIN)
  }

  #drain(): void {
    if (!this.#awaitingDrain) return
    this.#awaitingDrain = false
    if (!this.isClosed(this.in)) this.pull(this.in)
  }

  onUpstreamFinish(): void {
    this.#writeEnded = true
    this.#writeHeld() // before the FIN (or the handover)
    if (this.#connection?._handover !== undefined) return this.#handOverWhenDone()
    this.#socket?.end() // FIN; the inbound side goes on
    this.#maybeClose()
  }

  onUpstreamFailure(e: unknown): void {
    this.#abort(e, 'local-abort')
  }

  // ---- handover (protocol switch) ----

  /** Once nothing more will be written and nobody reads: detach the socket and give it to its new owner. */
  #handOverWhenDone(): void {
    const to = this.#connection?._handover
    const s = this.#socket
    if (to === undefined || !this.#writeEnded || !this.isClosed(this.out)) return
    if (s === undefined || s.destroyed) return this.#socketClosed()
    this.#writeHeld()
    if (this.#corked) {
      this.#corked = false
      s.uncork()
    }
    const l = LISTENERS
    s.removeListener('data', l.data)
    s.removeListener('end', l.end)
    s.removeListener('error', l.error)
    s.removeListener('drain', l.drain)
    s.removeListener('close', l.close)
    ;(s as OwnedSocket)[OWNER] = undefined
    s.pause()
    this.#flowing = false
    const unread: Uint8Array[] = [...this.#queue, ...this.#inTransit]
    this.#queue = []
    this.#inTransit.length = 0
    this.#socket = undefined
    this.#handedOver = s
    this.#reason = 'handed-over'
    try {
      to(s, unread)
    } catch (e) {
      this.log.error(`connection ${this.#connection?.id ?? '?'}: the new owner of a handed-over socket failed`, e)
      s.destroy()
    }
    this.setKeepGoing(false)
    this.completeStage()
  }

  // ---- endings ----

  /** Both directions done: let the socket flush and close, within the close timeout. */
  #maybeClose(): void {
    const inboundOver = this.#readCancelled ? this.#peerFin || this.#writeEnded : this.isClosed(this.out)
    if (!this.#writeEnded || !inboundOver) return
    if (this.#peerFin) this.#reason ??= 'peer-fin'
    this.#reason ??= 'local-close'
    if (!this.isClosed(this.out)) this.complete(this.out)
    const s = this.#socket
    if (s === undefined || s.destroyed) return this.#socketClosed()
    if (this.#peerFin || this.#readCancelled) {
      // the peer is done (or we discard what it sends): the socket closes once our FIN is flushed
      if (s.writableFinished && this.#peerFin) {
        // nothing is left to flush or to read: close now, without waiting for the socket's 'close' event
        s.destroy()
        return this.#socketClosed()
      }
      this.scheduleOnce(CLOSE_TIMER, this.options.closeTimeoutMs ?? 10_000)
    } else this.scheduleOnce(CLOSE_TIMER, this.options.closeTimeoutMs ?? 10_000)
  }

  #failed(e: Error): void {
    const src = this.source
    if (this.#connection === undefined && src.kind === 'connect') {
      const err = new ConnectError(src.remote, (e as { code?: string }).code, e)
      return this.#abort(err, 'error')
    }
    const err = socketFailure(this.#connection?.remote ?? '?', e)
    this.#abort(err, err.code === 'WEIR_HTTP_TCP_RESET' ? 'peer-reset' : 'error')
  }

  #abort(error: unknown, reason: CloseReason): void {
    this.#reason ??= reason
    if (this.#error === undefined && error instanceof Error && 'syscallCode' in error) this.#error = error as TcpError
    this.#held = undefined
    this.#socket?.destroy()
    if (this.#connection === undefined) this.connectFailed?.(error)
    this.failStage(error)
    this.setKeepGoing(false)
  }

  #socketClosed(): void {
    this.cancelTimer(CLOSE_TIMER)
    if (!this.isClosed(this.out)) {
      // closed without FIN or error having been seen (e.g. destroyed by the close timer)
      if (this.#peerFin) this.complete(this.out)
      else this.fail(this.out, socketFailure(this.#connection?.remote ?? '?', Object.assign(new Error('socket closed'), { code: 'ECONNRESET' })))
    }
    if (!this.isClosed(this.in)) this.cancel(this.in)
    this.setKeepGoing(false)
  }

  override postStop(): void {
    const s = this.#socket ?? this.#handedOver
    void this.#connection?.remotePort // keep the addresses readable after the socket is gone
    if (s !== undefined && !s.destroyed && this.#handedOver === undefined) {
      this.#reason ??= 'local-abort'
      s.destroy()
    }
    if (this.#connection === undefined && this.source.kind === 'connect') this.connectFailed?.(this.#error)
    this.#connection?._closed({
      reason: this.#reason ?? 'local-close',
      error: this.#error,
      bytesRead: s?.bytesRead ?? 0,
      bytesWritten: s?.bytesWritten ?? 0,
    })
  }
}

/** The stage for one socket (accepted, or connected when materialized). */
export class TcpConnectionStage extends GraphStageWithMaterializedValue<FlowShape<Uint8Array, Uint8Array>, Promise<TcpConnection>> {
  readonly shape = new FlowShape(new Inlet<Uint8Array>('TcpConnection.in'), new Outlet<Uint8Array>('TcpConnection.out'))
  #materialized = false
  constructor(
    readonly source: SocketSource,
    readonly options: TcpConnectionOptions = {},
  ) {
    super()
  }
  /** True once an accepted connection's stage was materialized (it can be, only once). */
  get isMaterialized(): boolean {
    return this.#materialized
  }
  /** Called once, when an accepted connection's stage is materialized. */
  onMaterialized: (() => void) | undefined = undefined
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Promise<TcpConnection>] {
    if (this.source.kind === 'accepted') {
      this.source.connection._claim() // throws if the connection is served already
      this.#materialized = true
      this.onMaterialized?.()
      return [new TcpConnectionLogic(this.shape, this.source, this.options, undefined, undefined), Promise.resolve(this.source.connection)]
    }
    let resolve!: (c: TcpConnection) => void
    let reject!: (e: unknown) => void
    const p = new Promise<TcpConnection>((a, b) => {
      resolve = a
      reject = b
    })
    p.catch(() => {})
    return [new TcpConnectionLogic(this.shape, this.source, this.options, resolve, reject), p]
  }
}

/**
 * @internal The TCP side of one blueprint shared by many accepted connections (a server builds its
 * connection graph once): each materialization is given its socket through the materialized
 * {@link SocketAdopter} right after `run()`, before the stream starts. The stage then behaves as a
 * {@link TcpConnectionStage} over that socket.
 */
export class AdoptingTcpConnectionStage extends GraphStageWithMaterializedValue<FlowShape<Uint8Array, Uint8Array>, SocketAdopter> {
  readonly shape = new FlowShape(new Inlet<Uint8Array>('TcpConnection.in'), new Outlet<Uint8Array>('TcpConnection.out'))
  constructor(readonly options: TcpConnectionOptions = {}) {
    super()
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, SocketAdopter] {
    const logic = new TcpConnectionLogic(this.shape, UNADOPTED, this.options, undefined, undefined)
    return [logic, logic]
  }
}

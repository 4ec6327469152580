/**
 * The inside of a FaultProxy connection: the client's and the server's sockets (`Side`), one
 * `Lane` per direction, and the per-mode rules of `ProxiedConnection` (see FaultProxy.ts).
 *
 * Contract: a lane forwards in order, immediately or after the connection's delay, and checks at
 * delivery time whether the bytes are to be discarded instead (blackhole, reset, a closed
 * destination, a client gone in fin-only mode); a discarding lane keeps reading. A side records
 * how its peer ended it and what the proxy did to it. Nothing here is exported from the package
 * except the snapshot types.
 */
import type { Socket } from 'node:net'

/** How a FaultProxy treats a connection; see FaultProxy.ts. */
export type FaultMode = 'pass' | 'delay' | 'fin-only' | 'rst' | 'blackhole'

export const MODES: readonly FaultMode[] = ['pass', 'delay', 'fin-only', 'rst', 'blackhole']

/** How one side (the client's or the server's) of a proxied connection has ended. */
export interface ProxySideInfo {
  /** How the peer of this side ended its sending first: FIN, reset (ECONNRESET) or another error; undefined while it has not. */
  readonly peer: 'fin' | 'rst' | 'error' | undefined
  /** The code of the first socket error on this side (ECONNRESET, EPIPE, ECONNREFUSED, …). */
  readonly errorCode: string | undefined
  /** What the proxy did to this side: sent a FIN, reset it (even after a FIN), or destroyed it (at `stop`). */
  readonly proxy: 'fin' | 'rst' | 'destroy' | undefined
  /** Whether this side's socket is fully closed. */
  readonly closed: boolean
}

/** A snapshot of one proxied connection. */
export interface ProxyConnectionInfo {
  readonly id: number
  readonly mode: FaultMode
  /** `connecting` until the target accepted (or refused), `closed` once both sockets are closed. */
  readonly state: 'connecting' | 'open' | 'closed'
  readonly bytesFromClient: number
  readonly bytesToServer: number
  readonly bytesFromServer: number
  readonly bytesToClient: number
  readonly client: ProxySideInfo
  readonly server: ProxySideInfo
}

/** One socket of a proxied connection and what happened to it. */
export class Side {
  peer: 'fin' | 'rst' | 'error' | undefined = undefined
  errorCode: string | undefined = undefined
  proxy: 'fin' | 'rst' | 'destroy' | undefined = undefined
  closed = false
  constructor(readonly socket: Socket) {}

  /** True once the proxy may no longer write to this socket. */
  get done(): boolean {
    return this.proxy !== undefined || this.closed || this.errorCode !== undefined || this.socket.destroyed
  }

  info(): ProxySideInfo {
    return { peer: this.peer, errorCode: this.errorCode, proxy: this.proxy, closed: this.closed }
  }

  end(): void {
    if (this.done) return
    this.proxy = 'fin'
    this.socket.end()
  }

  reset(): void {
    if (this.closed) return
    this.proxy = 'rst'
    if (!this.socket.destroyed) this.socket.resetAndDestroy()
  }

  destroy(): void {
    if (this.closed) return
    this.proxy ??= 'destroy'
    this.socket.destroy()
  }
}

/** An item waiting in a lane: a chunk, or `null` for a FIN. */
interface Queued {
  readonly due: number
  readonly chunk: Buffer | null
}

/** One direction of a connection: reads from `from`, writes to `to`, in order, after a delay when asked. */
class Lane {
  bytesIn = 0
  bytesOut = 0
  #queue: Queued[] = []
  #timer: ReturnType<typeof setTimeout> | undefined = undefined
  #paused = false

  constructor(
    readonly from: Side,
    readonly to: Side,
    readonly conn: ProxiedConnection,
  ) {}

  /** Forward a chunk (or a FIN when `null`) after `delayMs`, behind anything already queued. */
  forward(chunk: Buffer | null, delayMs: number): void {
    if (delayMs <= 0 && this.#queue.length === 0) this.#deliver(chunk)
    else {
      this.#queue.push({ due: performance.now() + delayMs, chunk })
      this.#flushDue()
    }
  }

  /** Drop what is queued and keep reading (the bytes are discarded from now on). */
  drop(): void {
    this.#queue = []
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.resume()
  }

  resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.from.socket.resume()
  }

  #flushDue(): void {
    if (this.#timer !== undefined) return
    for (;;) {
      const head = this.#queue[0]
      if (head === undefined) return
      const wait = head.due - performance.now()
      if (wait > 0) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined
          this.#flushDue()
        }, Math.ceil(wait))
        return
      }
      this.#queue.shift()
      this.#deliver(head.chunk)
    }
  }

  #deliver(chunk: Buffer | null): void {
    if (this.conn.discards(this)) return
    if (chunk === null) {
      this.to.end()
      this.conn.changed()
      return
    }
    this.bytesOut += chunk.length
    const more = this.to.socket.write(chunk)
    if (!more && !this.#paused && this.conn.mode !== 'delay') {
      this.#paused = true
      this.from.socket.pause()
      this.to.socket.once('drain', () => this.resume())
    }
  }
}

/** One client connection and its connection to the target. */
export class ProxiedConnection {
  mode: FaultMode
  delayMs: number
  connected = false
  clientGone = false
  readonly client: Side
  readonly server: Side
  readonly up: Lane
  readonly down: Lane

  constructor(
    readonly id: number,
    clientSocket: Socket,
    serverSocket: Socket,
    mode: FaultMode,
    delayMs: number,
    readonly changed: () => void,
  ) {
    this.mode = mode
    this.delayMs = delayMs
    this.client = new Side(clientSocket)
    this.server = new Side(serverSocket)
    this.up = new Lane(this.client, this.server, this)
    this.down = new Lane(this.server, this.client, this)
    this.#wire(this.up)
    this.#wire(this.down)
    serverSocket.once('connect', () => {
      this.connected = true
      if (this.mode === 'rst') this.resetBoth()
      changed()
    })
    if (mode === 'rst') this.client.reset()
  }

  get closed(): boolean {
    return this.client.closed && this.server.closed
  }

  info(): ProxyConnectionInfo {
    const connecting = !this.connected && this.server.errorCode === undefined && !this.server.closed
    return {
      id: this.id,
      mode: this.mode,
      state: this.closed ? 'closed' : connecting ? 'connecting' : 'open',
      bytesFromClient: this.up.bytesIn,
      bytesToServer: this.up.bytesOut,
      bytesFromServer: this.down.bytesIn,
      bytesToClient: this.down.bytesOut,
      client: this.client.info(),
      server: this.server.info(),
    }
  }

  /** Whether what arrives on `lane` is read and thrown away rather than forwarded. */
  discards(lane: Lane): boolean {
    if (this.mode === 'blackhole' || this.mode === 'rst' || lane.to.done) return true
    return lane === this.down && this.clientGone
  }

  setMode(mode: FaultMode, delayMs: number): void {
    this.mode = mode
    this.delayMs = delayMs
    switch (mode) {
      case 'rst':
        this.resetBoth()
        break
      case 'blackhole':
        this.up.drop()
        this.down.drop()
        break
      case 'pass':
      case 'delay':
      case 'fin-only':
        break
    }
    this.changed()
  }

  resetBoth(): void {
    this.up.drop()
    this.down.drop()
    this.client.reset()
    this.server.reset()
  }

  #wire(lane: Lane): void {
    const side = lane.from
    side.socket.on('data', (chunk: Buffer) => {
      lane.bytesIn += chunk.length
      if (this.discards(lane)) lane.resume()
      else lane.forward(chunk, this.mode === 'delay' ? this.delayMs : 0)
      this.changed()
    })
    side.socket.on('end', () => {
      side.peer ??= 'fin'
      this.#peerEnded(lane)
      this.changed()
    })
    side.socket.on('error', (err: NodeJS.ErrnoException) => {
      side.errorCode ??= err.code ?? err.name
      side.peer ??= err.code === 'ECONNRESET' ? 'rst' : 'error'
      this.#peerFailed(lane)
      this.changed()
    })
    side.socket.on('close', () => {
      side.closed = true
      ;(lane === this.up ? this.down : this.up).drop() // nothing can be written to this side any more
      this.changed()
    })
  }

  /** The peer of `lane.from` sent a FIN. */
  #peerEnded(lane: Lane): void {
    switch (this.mode) {
      case 'blackhole':
      case 'rst':
        return
      case 'fin-only':
        if (lane === this.up) return this.#clientLeft()
        return lane.forward(null, 0)
      case 'pass':
      case 'delay':
        return lane.forward(null, this.mode === 'delay' ? this.delayMs : 0)
    }
  }

  /** The socket of `lane.from` failed (reset by its peer, or a write error). */
  #peerFailed(lane: Lane): void {
    lane.drop()
    const other = lane === this.up ? this.down : this.up
    switch (this.mode) {
      case 'blackhole':
      case 'rst':
        return
      case 'fin-only':
        if (lane === this.up) return this.#clientLeft()
        other.drop()
        return lane.to.reset()
      case 'pass':
      case 'delay':
        other.drop()
        return lane.to.reset()
    }
  }

  /** fin-only: the client is gone — the server gets a FIN only, and its bytes are discarded. */
  #clientLeft(): void {
    if (this.clientGone) return
    this.clientGone = true
    this.down.drop()
    this.up.forward(null, 0)
    this.client.end()
  }
}

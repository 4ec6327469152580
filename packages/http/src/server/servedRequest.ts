/**
 * The {@link RequestConnection} of a request received by the server: the client's address, whether the
 * connection is TLS, and an `AbortSignal` the connection aborts (with a {@link ClientGone} reason) when it ends
 * before the request's response was written. The `AbortController` is created only when a handler asks for the
 * signal: requests whose handler never looks cost one small object.
 */
import type { HttpRequest, RequestConnection } from '../model/HttpMessage.js'
import type { ClientGone } from './ClientGone.js'

/** Where the connection's peer is: its address when known, else `host:port` to take it from. */
export interface PeerAddress {
  readonly remoteAddress?: string | undefined
  readonly remote: string
}

/** @internal Applies a per-request timeout override to a request of its connection. */
export interface RequestTimeouts {
  _overrideTimeout(req: HttpRequest, ms: number): void
}

export class ServedRequest implements RequestConnection {
  #controller: AbortController | undefined = undefined
  #reason: ClientGone | undefined = undefined

  readonly #peer: PeerAddress
  constructor(
    peer: PeerAddress,
    readonly secure: boolean,
    /** @internal The connection's stage, which applies `setRequestTimeout` to the request. */
    readonly timeouts?: RequestTimeouts,
  ) {
    this.#peer = peer
  }

  /** Read from the socket only when asked (a system call), then kept by the connection. */
  get remoteAddress(): string {
    const p = this.#peer
    return p.remoteAddress ?? p.remote.slice(0, Math.max(0, p.remote.lastIndexOf(':')))
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#reason !== undefined) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** The client is gone before the response was written: abort the signal (once). */
  abort(reason: ClientGone): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}

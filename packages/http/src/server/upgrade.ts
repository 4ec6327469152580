/**
 * Switching protocols (RFC 9110 §7.8): a handler answers an upgrade request with an
 * {@link UpgradeResponse}, and the server hands the connection over instead of writing a response.
 *
 * The contract: the response is taken in request order, like any other (every earlier response is
 * written first); the connection then stops speaking HTTP — no further request is parsed, its
 * timeouts stop — and once the bytes of the earlier responses were handed to the socket, the
 * socket itself (paused, plus the bytes received past the upgrade request) goes to
 * `takeOver`, which writes its own `101 Switching Protocols` and owns the socket from then on.
 * The server keeps counting the connection as open (its HTTP side closes with the reason
 * `'upgraded'`) until the new owner calls `closed()`, and asks it to close on termination through
 * the control it registers.
 *
 * A handler returning an `UpgradeResponse` to a request that did not ask to switch protocols is a
 * bug: the client gets a 500 and the connection closes.
 */
import type { Socket } from 'node:net'
import type { Materializer } from '@weir/core'
import { Headers } from '../model/Headers.js'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'

/** What the server asks of an upgraded connection at termination: close politely, or now. */
export type UpgradedControl = (mode: 'graceful' | 'abort') => void

/** A connection handed over to another protocol. */
export interface UpgradedConnection {
  /** The server's connection id (as in diagnostics). */
  readonly id: number
  /** The request that asked for the switch. */
  readonly request: HttpRequest
  /** The socket: paused, nothing read from it lost, nothing written after the earlier responses. */
  readonly socket: Socket
  /** Bytes received past the upgrade request (usually none: a client waits for the 101). */
  readonly head: Buffer
  /** The server's materializer, to run the new protocol's streams. */
  readonly materializer: Materializer
  /** Register how the server closes this connection when it terminates (called at most once). */
  registerControl(control: UpgradedControl): void
  /** The new protocol is done with the connection (call exactly once, when its socket closed). */
  closed(): void
}

/** A response that switches the connection to another protocol; see the module comment. */
export class UpgradeResponse extends HttpResponse {
  constructor(
    /** Takes the connection over; it writes the 101 itself. */
    readonly takeOver: (connection: UpgradedConnection) => void,
    headers: Headers = Headers.empty,
  ) {
    super(101, headers)
  }
}

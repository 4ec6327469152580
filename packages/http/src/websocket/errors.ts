/**
 * How a WebSocket connection ends ({@link WebSocketCloseInfo}), and how it can end badly, as the
 * handler flow sees it. The received-messages side fails with one of these errors; the outgoing
 * side is cancelled with a {@link WebSocketClosed} cause (a non-failure cancellation that carries
 * the close code) whenever the connection closed before the flow finished sending.
 */
import { NonFailureCancellation, WeirError } from '@weir/core'

/** Which side sent the first close frame (or dropped the connection). */
export type ClosedBy = 'client' | 'server'

/** How a WebSocket connection ended. */
export interface WebSocketCloseInfo {
  /** The close code (1006 when the connection dropped without a close frame). */
  readonly code: number
  readonly reason: string
  /** Who closed first. */
  readonly by: ClosedBy
  /** What went wrong, if anything did (the flow's failure, a protocol error, a pong timeout). */
  readonly error?: unknown
}

/** The base of the WebSocket errors (`WEIR_HTTP_WS_*`). */
export class WebSocketError extends WeirError {}

/** The peer did not answer a ping within the pong timeout: it is gone, and the connection was terminated. */
export class PongTimeoutError extends WebSocketError {
  constructor(readonly timeoutMs: number) {
    super('WEIR_HTTP_WS_PONG_TIMEOUT', `No pong within ${timeoutMs} ms of a ping: the peer is gone`)
  }
}

/** The peer closed with an error code (anything but 1000, 1001, 1005), or the connection dropped without a close frame (1006). */
export class WebSocketClosedError extends WebSocketError {
  constructor(
    readonly closeCode: number,
    readonly reason: string,
  ) {
    super('WEIR_HTTP_WS_CLOSED', `The WebSocket closed with code ${closeCode}${reason === '' ? '' : ` (${reason})`}`)
  }
}

/** The peer broke the protocol (a message over `maxMessageSize`, invalid UTF-8, a bad frame); closed with `closeCode`. */
export class WebSocketProtocolError extends WebSocketError {
  constructor(
    /** The close code sent to the peer (1002, 1007, 1009). */
    readonly closeCode: number,
    /** What the frame parser reported (a `ws` error code such as `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH`). */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super('WEIR_HTTP_WS_PROTOCOL', `WebSocket protocol error (${detail}); closed with ${closeCode}`, options)
  }
}

/** The cancellation cause of the outgoing side when the connection closed first: the close code and who closed. */
export class WebSocketClosed extends NonFailureCancellation {
  constructor(
    readonly closeCode: number,
    readonly closeReason: string,
    readonly by: ClosedBy,
  ) {
    super(`websocket-closed-${closeCode}`)
  }
}

/**
 * Errors of the TCP edge. Each says what happened to the connection in terms a user debugging a
 * 502 can act on: reset by the peer, refused, timed out, failed to bind.
 */
import { WeirError } from '@weir/core'

/** The family of TCP failures; `syscallCode` is Node's error code (ECONNRESET, ECONNREFUSED, …) when there is one. */
export class TcpError extends WeirError {
  constructor(
    code: string,
    message: string,
    readonly syscallCode: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(code, message, options)
  }
}

/** The peer reset the connection (RST): bytes in flight are lost. */
export class ConnectionResetError extends TcpError {
  constructor(readonly remote: string, cause?: unknown) {
    super('WEIR_HTTP_TCP_RESET', `Connection reset by peer ${remote}`, 'ECONNRESET', { cause })
  }
}

/** Any other socket failure (EPIPE on write, ETIMEDOUT from the kernel, …). */
export class SocketError extends TcpError {
  constructor(readonly remote: string, syscallCode: string | undefined, cause: unknown) {
    super('WEIR_HTTP_TCP_SOCKET', `Socket error on ${remote}: ${syscallCode ?? String(cause)}`, syscallCode, { cause })
  }
}

/** An outgoing connection could not be established. */
export class ConnectError extends TcpError {
  constructor(readonly remote: string, syscallCode: string | undefined, cause: unknown) {
    super('WEIR_HTTP_TCP_CONNECT_FAILED', `Could not connect to ${remote}: ${syscallCode ?? String(cause)}`, syscallCode, { cause })
  }
}

/** An outgoing connection was not established within `timeoutMs`. */
export class ConnectTimeoutError extends TcpError {
  constructor(readonly remote: string, readonly timeoutMs: number) {
    super('WEIR_HTTP_TCP_CONNECT_TIMEOUT', `Connecting to ${remote} took longer than ${timeoutMs} ms`, undefined)
  }
}

/** The listening socket could not be bound (EADDRINUSE, EACCES, …) or not within `timeoutMs`. */
export class BindError extends TcpError {
  constructor(readonly address: string, syscallCode: string | undefined, cause: unknown, readonly timeoutMs?: number) {
    super(
      'WEIR_HTTP_TCP_BIND_FAILED',
      timeoutMs !== undefined ? `Binding ${address} took longer than ${timeoutMs} ms` : `Could not bind ${address}: ${syscallCode ?? String(cause)}`,
      syscallCode,
      { cause },
    )
  }
}

/** Map a socket 'error' to the typed error weir reports. */
export function socketFailure(remote: string, err: unknown): TcpError {
  const code = (err as { code?: string } | null)?.code
  if (code === 'ECONNRESET') return new ConnectionResetError(remote, err)
  return new SocketError(remote, code, err)
}

/**
 * What can go wrong with a request sent by weir's client, each failure its own class with a stable code, so a
 * caller (or a proxy mapping failures to 502/504) can tell exactly what happened:
 *
 * - the connection could not be made: `ConnectError` (refused, unreachable …) and `ConnectTimeoutError`, from the
 *   TCP edge;
 * - the server reset the connection before any byte of the response: {@link ResetBeforeResponseError};
 * - the server closed the connection (FIN) before any byte of the response: {@link ClosedBeforeResponseError} —
 *   the keep-alive race of a reused connection ends here or in the previous one;
 * - no response head within the response timeout: {@link ResponseTimeoutError};
 * - the connection broke or stalled while the response body was arriving: {@link ResponseTruncatedError} (fails
 *   the response entity's stream);
 * - the response was malformed: `HttpParseError` with code `WEIR_HTTP_BAD_RESPONSE`;
 * - the pool could not take the request: {@link PoolOverflowError}, {@link PoolShutDownError}.
 *
 * `requestWritten` says whether the request (or part of it) may have reached the server: a request that was never
 * written can always be retried; one that was written only when its method is idempotent.
 */
import { WeirError } from '@weir/core'

/** The family of client failures. */
export class HttpClientError extends WeirError {
  constructor(
    code: string,
    message: string,
    /** `host:port` of the server. */
    readonly remote: string,
    /** True when bytes of the request may have reached the server. */
    readonly requestWritten: boolean,
    options?: { cause?: unknown },
  ) {
    super(code, message, options)
  }
}

/** The server reset the connection after the request was sent and before any byte of its response. */
export class ResetBeforeResponseError extends HttpClientError {
  constructor(remote: string, requestWritten: boolean, cause?: unknown) {
    super('WEIR_HTTP_CLIENT_RESET_BEFORE_RESPONSE', `Connection to ${remote} was reset before any byte of the response arrived`, remote, requestWritten, { cause })
  }
}

/** The server closed the connection (FIN) before any byte of the response. */
export class ClosedBeforeResponseError extends HttpClientError {
  constructor(remote: string, requestWritten: boolean, cause?: unknown) {
    super('WEIR_HTTP_CLIENT_CLOSED_BEFORE_RESPONSE', `Connection to ${remote} was closed by the server before any byte of the response arrived`, remote, requestWritten, { cause })
  }
}

/** No response head arrived within `timeoutMs` of the request being written. */
export class ResponseTimeoutError extends HttpClientError {
  constructor(remote: string, readonly timeoutMs: number) {
    super('WEIR_HTTP_CLIENT_RESPONSE_TIMEOUT', `No response from ${remote} within ${timeoutMs} ms`, remote, true)
  }
}

/** The connection saw no traffic for `timeoutMs` while a request was outstanding. */
export class ClientIdleTimeoutError extends HttpClientError {
  constructor(remote: string, readonly timeoutMs: number, requestWritten: boolean) {
    super('WEIR_HTTP_CLIENT_IDLE_TIMEOUT', `Connection to ${remote} was idle for ${timeoutMs} ms with a request outstanding`, remote, requestWritten)
  }
}

/** The response body was cut short: the connection closed, reset or stalled while it arrived. */
export class ResponseTruncatedError extends HttpClientError {
  constructor(remote: string, readonly detail: 'fin' | 'reset' | 'idle-timeout' | 'connection-aborted', cause?: unknown) {
    super('WEIR_HTTP_CLIENT_RESPONSE_TRUNCATED', `The response from ${remote} was cut short (${detail})`, remote, true, { cause })
  }
}

/** The connection was closed by this side (pool shutdown, cancellation) with the request outstanding. */
export class ConnectionAbortedError extends HttpClientError {
  constructor(remote: string, requestWritten: boolean, readonly reason: string) {
    super('WEIR_HTTP_CLIENT_ABORTED', `Request to ${remote} aborted: ${reason}`, remote, requestWritten)
  }
}

/** The pool already holds `maxOpenRequests` requests. */
export class PoolOverflowError extends HttpClientError {
  constructor(remote: string, readonly maxOpenRequests: number) {
    super('WEIR_HTTP_POOL_OVERFLOW', `The connection pool for ${remote} already holds ${maxOpenRequests} open requests (maxOpenRequests)`, remote, false)
  }
}

/** The pool was shut down; requests it still held fail with this. */
export class PoolShutDownError extends HttpClientError {
  constructor(remote: string) {
    super('WEIR_HTTP_POOL_SHUT_DOWN', `The connection pool for ${remote} was shut down`, remote, false)
  }
}

/** The request cannot be sent as given (bad target, header with a line break …). */
export class InvalidRequestError extends HttpClientError {
  constructor(message: string) {
    super('WEIR_HTTP_CLIENT_INVALID_REQUEST', message, '', false)
  }
}

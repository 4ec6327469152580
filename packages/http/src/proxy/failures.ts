/**
 * What a proxy answers when it got no usable response from its upstream. Timeouts are `504 Gateway Timeout`,
 * every other upstream failure `502 Bad Gateway`; a request the proxy's own pool could not take is
 * `503 Service Unavailable`. The body is one line of plain text that says which failure it was and its stable
 * error code, and nothing about the upstream's address.
 *
 * | failure (error code)                                        | kind                     | status |
 * |-------------------------------------------------------------|--------------------------|--------|
 * | `WEIR_HTTP_TCP_CONNECT_TIMEOUT`                             | `connect-timeout`        | 504    |
 * | `WEIR_HTTP_CLIENT_RESPONSE_TIMEOUT`                         | `response-timeout`       | 504    |
 * | `WEIR_HTTP_CLIENT_IDLE_TIMEOUT`                             | `idle-timeout`           | 504    |
 * | `WEIR_HTTP_TCP_CONNECT_FAILED` (refused, unreachable)       | `connect-failed`         | 502    |
 * | `WEIR_HTTP_CLIENT_RESET_BEFORE_RESPONSE`                    | `reset-before-response`  | 502    |
 * | `WEIR_HTTP_CLIENT_CLOSED_BEFORE_RESPONSE`                   | `closed-before-response` | 502    |
 * | `WEIR_HTTP_BAD_RESPONSE` (malformed response)               | `bad-response`           | 502    |
 * | `WEIR_HTTP_CLIENT_ABORTED`, other socket or stream errors   | `failed`                 | 502    |
 * | `WEIR_HTTP_POOL_OVERFLOW`, `WEIR_HTTP_POOL_SHUT_DOWN`       | `unavailable`            | 503    |
 * | `WEIR_HTTP_CLIENT_INVALID_REQUEST` (cannot be sent as given)| `invalid-request`        | 500    |
 */
import { WeirError } from '@weir/core'
import { HttpParseError } from '../errors.js'
import { Headers } from '../model/Headers.js'
import { HttpResponse, STATUS_TEXT } from '../model/HttpMessage.js'
import {
  ClientIdleTimeoutError,
  ClosedBeforeResponseError,
  InvalidRequestError,
  PoolOverflowError,
  PoolShutDownError,
  ResetBeforeResponseError,
  ResponseTimeoutError,
} from '../client/errors.js'
import { ConnectError, ConnectTimeoutError } from '../tcp/errors.js'

export type UpstreamFailureKind =
  | 'connect-timeout'
  | 'response-timeout'
  | 'idle-timeout'
  | 'connect-failed'
  | 'reset-before-response'
  | 'closed-before-response'
  | 'bad-response'
  | 'failed'
  | 'unavailable'
  | 'invalid-request'

/** How a proxy reads a failed upstream request. */
export interface UpstreamFailure {
  readonly kind: UpstreamFailureKind
  readonly status: 500 | 502 | 503 | 504
  /** The error's stable code (`WEIR_…`), or `UNKNOWN` for an error outside the taxonomy. */
  readonly code: string
}

const SENTENCES: Readonly<Record<UpstreamFailureKind, string>> = {
  'connect-timeout': 'the connection to the upstream server was not established in time',
  'response-timeout': 'the upstream server did not respond in time',
  'idle-timeout': 'the upstream connection stalled with the request outstanding',
  'connect-failed': 'the upstream server could not be reached (connection refused or unreachable)',
  'reset-before-response': 'the upstream server reset the connection before responding',
  'closed-before-response': 'the upstream server closed the connection before responding',
  'bad-response': 'the upstream server sent a malformed response',
  failed: 'the upstream request failed',
  unavailable: 'the proxy cannot take more requests for the upstream server now',
  'invalid-request': 'the request cannot be forwarded as given',
}

/** Classify an error from `HostConnectionPool.request` (or any upstream call). */
export function classifyUpstreamFailure(error: unknown): UpstreamFailure {
  const code = error instanceof WeirError ? error.code : 'UNKNOWN'
  const of = (kind: UpstreamFailureKind, status: UpstreamFailure['status']): UpstreamFailure => ({ kind, status, code })
  if (error instanceof ConnectTimeoutError) return of('connect-timeout', 504)
  if (error instanceof ResponseTimeoutError) return of('response-timeout', 504)
  if (error instanceof ClientIdleTimeoutError) return of('idle-timeout', 504)
  if (error instanceof ConnectError) return of('connect-failed', 502)
  if (error instanceof ResetBeforeResponseError) return of('reset-before-response', 502)
  if (error instanceof ClosedBeforeResponseError) return of('closed-before-response', 502)
  if (error instanceof HttpParseError) return of('bad-response', 502)
  if (error instanceof PoolOverflowError || error instanceof PoolShutDownError) return of('unavailable', 503)
  if (error instanceof InvalidRequestError) return of('invalid-request', 500)
  return of('failed', 502)
}

/** The response a proxy sends for a failed upstream request: status by {@link classifyUpstreamFailure}, a one-line body. */
export function failureResponse(error: unknown): HttpResponse {
  const f = classifyUpstreamFailure(error)
  return HttpResponse.text(`${f.status} ${STATUS_TEXT[f.status]}: ${SENTENCES[f.kind]} (${f.code}).\n`, f.status, Headers.empty)
}

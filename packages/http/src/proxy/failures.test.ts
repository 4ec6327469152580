import { describe, expect, it } from 'vitest'
import { HttpParseError } from '../errors.js'
import {
  ClientIdleTimeoutError, ClosedBeforeResponseError, ConnectionAbortedError, InvalidRequestError, PoolOverflowError, PoolShutDownError, ResetBeforeResponseError, ResponseTimeoutError,
} from '../client/errors.js'
import { ConnectError, ConnectTimeoutError } from '../tcp/errors.js'
import { classifyUpstreamFailure, failureResponse } from './failures.js'

const remote = '127.0.0.1:9000'

describe('upstream failures', () => {
  it.each([
    [new ConnectTimeoutError(remote, 100), 'connect-timeout', 504, 'WEIR_HTTP_TCP_CONNECT_TIMEOUT'],
    [new ResponseTimeoutError(remote, 100), 'response-timeout', 504, 'WEIR_HTTP_CLIENT_RESPONSE_TIMEOUT'],
    [new ClientIdleTimeoutError(remote, 100, true), 'idle-timeout', 504, 'WEIR_HTTP_CLIENT_IDLE_TIMEOUT'],
    [new ConnectError(remote, 'ECONNREFUSED', undefined), 'connect-failed', 502, 'WEIR_HTTP_TCP_CONNECT_FAILED'],
    [new ResetBeforeResponseError(remote, true), 'reset-before-response', 502, 'WEIR_HTTP_CLIENT_RESET_BEFORE_RESPONSE'],
    [new ClosedBeforeResponseError(remote, true), 'closed-before-response', 502, 'WEIR_HTTP_CLIENT_CLOSED_BEFORE_RESPONSE'],
    [new HttpParseError('invalid-status-line', 'response'), 'bad-response', 502, 'WEIR_HTTP_BAD_RESPONSE'],
    [new ConnectionAbortedError(remote, true, 'aborted'), 'failed', 502, 'WEIR_HTTP_CLIENT_ABORTED'],
    [new PoolOverflowError(remote, 4), 'unavailable', 503, 'WEIR_HTTP_POOL_OVERFLOW'],
    [new PoolShutDownError(remote), 'unavailable', 503, 'WEIR_HTTP_POOL_SHUT_DOWN'],
    [new InvalidRequestError('bad target'), 'invalid-request', 500, 'WEIR_HTTP_CLIENT_INVALID_REQUEST'],
    [new Error('something else'), 'failed', 502, 'UNKNOWN'],
  ])('%s is %s, status %i', (error, kind, status, code) => {
    expect(classifyUpstreamFailure(error)).toEqual({ kind, status, code })
    const res = failureResponse(error)
    expect(res.status).toBe(status)
    expect(res.entity.kind === 'strict' && Buffer.from(res.entity.data).toString()).toContain(`(${code})`)
  })

  it('says which failure without naming the upstream', () => {
    const res = failureResponse(new ConnectError(remote, 'ECONNREFUSED', undefined))
    const body = res.entity.kind === 'strict' ? Buffer.from(res.entity.data).toString() : ''
    expect(body).not.toContain('9000')
    expect(body.startsWith('502 Bad Gateway: ')).toBe(true)
    expect(res.entity.contentType).toBe('text/plain; charset=utf-8')
  })
})

/**
 * Per-request control of the connection serving it: a handler (or a route) can give one request
 * a different request timeout than the server's setting.
 *
 * ```ts
 * Http.newServerAt('127.0.0.1', 8080).bind(async (req) => {
 *   if (req.path === '/report') setRequestTimeout(req, '2m')
 *   return HttpResponse.text(await slowReport())
 * })
 * ```
 */
import { toMillis, type Duration } from '@weir/core'
import type { HttpRequest } from '../model/HttpMessage.js'

/** Give this request its own request timeout, counted from when it started; no effect once responded. */
export function setRequestTimeout(req: HttpRequest, timeout: Duration): void {
  const ms = toMillis(timeout, 'requestTimeout')
  req._setTimeout?.(req, ms)
}

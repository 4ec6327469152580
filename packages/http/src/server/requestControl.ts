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
import { toMillis, type AsyncCallback, type Duration } from '@weir/core'
import type { HttpRequest } from '../model/HttpMessage.js'

const controls = new WeakMap<HttpRequest, AsyncCallback<number>>()

/** @internal */
export function registerRequestControl(req: HttpRequest, setTimeoutMs: AsyncCallback<number>): void {
  controls.set(req, setTimeoutMs)
}

/** Give this request its own request timeout, counted from when it started; no effect once responded. */
export function setRequestTimeout(req: HttpRequest, timeout: Duration): void {
  const ms = toMillis(timeout, 'requestTimeout')
  controls.get(req)?.invoke(ms)
}

/**
 * Method directives: pass the request on when its method is the given one, otherwise reject with a
 * `method` rejection (all of them together answer 405 with `Allow`). A method directive that passes
 * cancels the method rejections of its alternatives: the method is allowed, so if nothing deeper
 * matches the answer is that rejection (404, 400 …), not 405.
 *
 * `get` also takes HEAD requests (the connection sends the head of the GET response, no body).
 */
import { cancelling, rejected, runInner, type Inner, type Route } from './Route.js'
import { Rejections } from './rejections.js'

/** Pass requests with `name` (upper case, e.g. `'PATCH'`) on to `inner`. */
export function method(name: string, inner: Inner<[]>): Route {
  const m = name.toUpperCase()
  const rejection = rejected([Rejections.method(m)])
  const acceptsHead = m === 'GET'
  return async (ctx) => {
    const actual = ctx.request.method
    if (actual !== m && !(acceptsHead && actual === 'HEAD')) return rejection
    return cancelling(await runInner(inner, [], ctx), 'method')
  }
}

export const get = (inner: Inner<[]>): Route => method('GET', inner)
export const post = (inner: Inner<[]>): Route => method('POST', inner)
export const put = (inner: Inner<[]>): Route => method('PUT', inner)
export const patch = (inner: Inner<[]>): Route => method('PATCH', inner)
/** DELETE (`delete` is a reserved word). */
export const del = (inner: Inner<[]>): Route => method('DELETE', inner)
export const head = (inner: Inner<[]>): Route => method('HEAD', inner)
export const options = (inner: Inner<[]>): Route => method('OPTIONS', inner)

/**
 * Content coding as directives, over the handler-level building blocks of `coding/`:
 *
 * ```ts
 * const route = compressResponses({}, () =>
 *   decompressRequests({ maxDecodedBytes: '1m' }, () => path('items', () => post(() => entity(Item, (item) => complete(201, item))))),
 * )
 * ```
 *
 * - `compressResponses(options, inner)` compresses what `inner` completes with, as the request's
 *   `Accept-Encoding` allows (negotiation, skipped types and `text/event-stream` as `encodeResponse`
 *   decides); rejections pass through untouched, so the rejection handler's responses are not compressed.
 * - `decompressRequests(options, inner)` gives `inner` the request with its body decoded per its
 *   `Content-Encoding`; an unknown or too deep coding completes with 415 at once. A body that inflates
 *   past `maxDecodedBytes` fails with `EntityTooLargeError` where `inner` reads it (the `entity`
 *   directives reject it with 413), a corrupt one with `DecodingError`, which completes with 400.
 * Invalid options fail when the route is built.
 */
import { isLeft } from 'fp-ts/lib/Either.js'
import { decodingFailureResponse } from '../coding/Coding.js'
import { decodeRequest } from '../coding/decodeRequest.js'
import { encodeResponse } from '../coding/encodeResponse.js'
import { resolveDecodeOptions, resolveEncodeOptions, type DecodeOptions, type EncodeOptions } from '../coding/options.js'
import { completed, runInner, type Inner, type Route } from './Route.js'

/** Compress the responses `inner` completes with, as the client accepts them. */
export function compressResponses(options: EncodeOptions, inner: Inner<[]>): Route {
  resolveEncodeOptions(options)
  return async (ctx) => {
    const r = await runInner(inner, [], ctx)
    return r.kind === 'complete' ? completed(encodeResponse(ctx.request, r.response, options)) : r
  }
}

/** Decode request bodies for `inner` as their `Content-Encoding` says. */
export function decompressRequests(options: DecodeOptions, inner: Inner<[]>): Route {
  resolveDecodeOptions(options)
  return async (ctx) => {
    const decoded = decodeRequest(ctx.request, options)
    if (isLeft(decoded)) return completed(decoded.left)
    try {
      return await runInner(inner, [], ctx.withRequest(decoded.right))
    } catch (e) {
      const response = decodingFailureResponse(e)
      if (response === undefined) throw e
      return completed(response)
    }
  }
}

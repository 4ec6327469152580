/**
 * Content coding for a whole handler, without routing: `Coding.handler(inner, options)` decodes
 * request bodies, runs `inner`, and compresses its responses.
 *
 * ```ts
 * const binding = await Http.newServerAt('127.0.0.1', 8080).bind(
 *   Coding.handler(async (req) => HttpResponse.json(await parse(req)), { decode: { maxDecodedBytes: '1m' } }),
 * )
 * ```
 *
 * Failures of a decoded request body reach the handler where it reads the body (for instance in
 * `HttpEntity.toStrict`); when the handler lets them escape, they become responses here:
 * `EntityTooLargeError` → 413, `DecodingError` → 400 (any other error goes on to the server, which
 * answers 500). A handler that streams a request body straight into its response meets the failure
 * mid-response instead, and the server aborts that response.
 */
import { isLeft } from 'fp-ts/lib/Either.js'
import { EntityTooLargeError } from '../model/HttpEntity.js'
import type { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { errorResponse } from '../server/errorResponses.js'
import type { Handler } from '../server/Http.js'
import { decodeRequest } from './decodeRequest.js'
import { encodeResponse } from './encodeResponse.js'
import { DecodingError } from './errors.js'
import { resolveDecodeOptions, resolveEncodeOptions, type DecodeOptions, type EncodeOptions } from './options.js'

/** Options of {@link Coding.handler}: each side is on by default; `false` turns it off. */
export interface CodingHandlerOptions {
  /** Response compression (default on, with the defaults of `EncodeOptions`). */
  readonly encode?: EncodeOptions | false
  /** Request decompression (default on, with the defaults of `DecodeOptions`). */
  readonly decode?: DecodeOptions | false
}

/** The response for an error of a decoded request body, or undefined for any other error. */
export function decodingFailureResponse(error: unknown): HttpResponse | undefined {
  if (error instanceof EntityTooLargeError) return errorResponse(413, `The request body is larger than ${error.limit} bytes.`)
  if (error instanceof DecodingError) return errorResponse(400, `The request body is not valid ${error.coding}.`)
  return undefined
}

export const Coding = {
  /** `inner` with request bodies decoded and responses compressed; see the module contract. */
  handler(inner: Handler, options: CodingHandlerOptions = {}): Handler {
    const encode = options.encode === false ? undefined : (options.encode ?? {})
    const decode = options.decode === false ? undefined : (options.decode ?? {})
    // invalid options fail here, when the handler is built, not on the first request
    if (encode !== undefined) resolveEncodeOptions(encode)
    if (decode !== undefined) resolveDecodeOptions(decode)
    const run = async (req: HttpRequest): Promise<HttpResponse> => {
      try {
        return await inner(req)
      } catch (e) {
        const response = decodingFailureResponse(e)
        if (response === undefined) throw e
        return response
      }
    }
    return async (req: HttpRequest): Promise<HttpResponse> => {
      let response: HttpResponse
      if (decode === undefined) response = await inner(req)
      else {
        const decoded = decodeRequest(req, decode)
        response = isLeft(decoded) ? decoded.left : await run(decoded.right)
      }
      return encode === undefined ? response : encodeResponse(req, response, encode)
    }
  },
}

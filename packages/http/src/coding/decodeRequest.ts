/**
 * Request decompression: `decodeRequest(request, options)` undoes the request's `Content-Encoding`
 * (RFC 9110 §8.4) and returns either the request with a decoded body (`right`) or the response
 * to send instead (`left`, 415).
 *
 * - No `Content-Encoding` (or only `identity`): the request as it is.
 * - Known codings: the body becomes a stream through the decoders, applied in reverse order of
 *   the field (`Content-Encoding: gzip, br` was gzipped, then brotli'd: brotli is undone first);
 *   `Content-Encoding` and `Content-Length` are removed (the decoded length is unknown). Each
 *   decoder stops at `maxDecodedBytes` and fails the body with `EntityTooLargeError` — decoding is
 *   backpressured, so a zip bomb is inflated no further than that; corrupt input fails it with
 *   `DecodingError`. `Coding.handler` turns those failures into 413 and 400.
 * - An unknown coding, or more than `maxCodings` stacked: `415 Unsupported Media Type` with
 *   `Accept-Encoding` listing what the server decodes (RFC 9110 §15.5.16), the body left unread
 *   (the connection drains or closes, as for any early response).
 * - An empty body stays empty (nothing to decode, though its header is removed).
 */
import { left, right, type Either } from 'fp-ts/lib/Either.js'
import { Headers } from '../model/Headers.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'
import { Compression } from './Compression.js'
import { UnsupportedEncodingError, type ContentCoding } from './errors.js'
import { resolveDecodeOptions, type DecodeOptions, type ResolvedDecodeOptions } from './options.js'

/** The codings of a `Content-Encoding` field, in order of application, lower-cased, `identity` removed, `x-gzip` as `gzip`. */
export function parseContentEncoding(values: readonly string[]): string[] {
  const out: string[] = []
  for (const v of values) {
    for (const member of v.split(',')) {
      const c = member.trim().toLowerCase()
      if (c === '' || c === 'identity') continue
      out.push(c === 'x-gzip' ? 'gzip' : c)
    }
  }
  return out
}

/**
 * Check a request's `Content-Encoding` against what the server decodes: the codings to undo (in
 * order of application), or the reason for a 415.
 */
export function requestCodings(request: HttpRequest, options?: DecodeOptions): Either<UnsupportedEncodingError, ContentCoding[]> {
  const o = resolveDecodeOptions(options)
  return checkCodings(parseContentEncoding(request.headers.getAll('content-encoding')), o)
}

function checkCodings(codings: string[], o: ResolvedDecodeOptions): Either<UnsupportedEncodingError, ContentCoding[]> {
  for (const c of codings) if (!(o.codings as readonly string[]).includes(c)) return left(new UnsupportedEncodingError('unknown-coding', codings))
  if (codings.length > o.maxCodings) return left(new UnsupportedEncodingError('too-many-codings', codings, o.maxCodings))
  return right(codings as ContentCoding[])
}

/** The 415 response for a refused `Content-Encoding`, saying what the server decodes. */
export function unsupportedEncodingResponse(error: UnsupportedEncodingError, accepted: readonly ContentCoding[]): HttpResponse {
  const why = error.reason === 'unknown-coding' ? `The request's Content-Encoding (${error.codings.join(', ')}) is not supported.` : `The request stacks ${error.codings.length} content codings; at most ${error.limit} are decoded.`
  return new HttpResponse(415, Headers.from([['Accept-Encoding', accepted.join(', ')]]), HttpEntity.text(`${why} Supported: ${accepted.join(', ')}.\n`))
}

/** Decode `request`'s body as its `Content-Encoding` says; see the module contract. */
export function decodeRequest(request: HttpRequest, options?: DecodeOptions): Either<HttpResponse, HttpRequest> {
  const o = resolveDecodeOptions(options)
  const values = request.headers.getAll('content-encoding')
  if (values.length === 0) return right(request)
  const checked = checkCodings(parseContentEncoding(values), o)
  if (checked._tag === 'Left') return left(unsupportedEncodingResponse(checked.left, o.codings))
  const codings = checked.right
  if (codings.length === 0) return right(request)
  const headers = request.headers.delete('content-encoding', 'content-length')
  const entity = request.entity
  if (HttpEntity.length(entity) === 0) return right(request.withHeaders(headers).withEntity(HttpEntity.empty))
  let data = HttpEntity.dataBytes(entity)
  for (let i = codings.length - 1; i >= 0; i--) data = data.via(Compression.decoder(codings[i]!, { maxDecodedBytes: o.maxDecodedBytes }))
  return right(request.withHeaders(headers).withEntity(HttpEntity.streamed(data, { contentType: entity.contentType })))
}

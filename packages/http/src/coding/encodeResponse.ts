/**
 * Response compression: `encodeResponse(request, response, options)` returns the response the
 * client should get — compressed with the best coding both sides accept, or unchanged.
 *
 * Left unchanged (not subject to negotiation, no `Vary` added):
 * - a response that already has a `Content-Encoding`, or `Cache-Control: no-transform`;
 * - a response without content: a HEAD request, 1xx, 204, 304, or an empty body;
 * - a partial response (206, or any `Content-Range`): its ranges refer to the unencoded bytes;
 * - `text/event-stream` unless `eventStream: true` (proxies and clients expect SSE bytes to flow
 *   unbuffered; when asked, every event is flushed);
 * - a media type the `compressible` predicate refuses, or a body known to be below `threshold`.
 *
 * Otherwise `Accept-Encoding` is negotiated (RFC 9110 §12.5.3) and `Vary: Accept-Encoding` added:
 * - a coding: `Content-Encoding` is set, `Content-Length` dropped, a strong `ETag` weakened (the
 *   encoded bytes differ from the ones it validated, RFC 9110 §8.8.3). A strict body up to
 *   `eagerMaxBytes` is compressed at once into a strict body (the client gets a Content-Length and
 *   no chunked framing; compressing 64 KiB takes well under a millisecond); anything else becomes
 *   a stream through the encoder stage, with unknown length;
 * - `identity`: the response as it was;
 * - nothing acceptable and identity refused: `406 Not Acceptable`, and the original body is
 *   cancelled so its source's cleanup runs.
 */
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib'
import { Headers } from '../model/Headers.js'
import { HttpEntity, type StreamedEntity } from '../model/HttpEntity.js'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'
import { Compression } from './Compression.js'
import type { ContentCoding } from './errors.js'
import { negotiateEncoding } from './negotiation.js'
import { resolveEncodeOptions, type EncodeOptions, type ResolvedEncodeOptions } from './options.js'

/** Compress `response` for `request` as the client accepts it; see the module contract. */
export function encodeResponse(request: HttpRequest, response: HttpResponse, options?: EncodeOptions): HttpResponse {
  const o = resolveEncodeOptions(options)
  if (!isSubjectToCoding(request, response, o)) return response
  const choice = negotiateEncoding(request.headers.getAll('accept-encoding'), o.codings)
  const headers = withVary(response.headers)
  switch (choice.kind) {
    case 'identity':
      return response.withHeaders(headers)
    case 'not-acceptable':
      HttpEntity.cancel(response.entity, o.materializer)
      return new HttpResponse(406, Headers.from([['Vary', 'Accept-Encoding']]), HttpEntity.text(`None of the content codings this resource is available in (${o.codings.join(', ')}) is acceptable.\n`))
    case 'coding':
      return encodeWith(choice.coding, response, headers, o)
  }
}

function isSubjectToCoding(request: HttpRequest, response: HttpResponse, o: ResolvedEncodeOptions): boolean {
  const { status, headers, entity } = response
  if (request.method === 'HEAD' || status < 200 || status === 204 || status === 304 || status === 206) return false
  if (headers.has('content-encoding') || headers.has('content-range')) return false
  const length = HttpEntity.length(entity)
  if (length === 0) return false
  if (headers.getAll('cache-control').some((v) => /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(v))) return false
  const contentType = headers.get('content-type') ?? entity.contentType
  if (contentType !== undefined && isEventStream(contentType)) return o.eventStream
  if (!o.compressible(contentType)) return false
  return length === undefined || length >= o.threshold
}

function isEventStream(contentType: string): boolean {
  return /^\s*text\/event-stream\s*(?:;|$)/i.test(contentType)
}

/** `headers` with `Accept-Encoding` in `Vary` (unless `Vary: *` or already listed). */
function withVary(headers: Headers): Headers {
  const vary = headers.getAll('vary')
  if (vary.length === 0) return headers.add('Vary', 'Accept-Encoding')
  for (const v of vary) {
    for (const member of v.split(',')) {
      const m = member.trim().toLowerCase()
      if (m === '*' || m === 'accept-encoding') return headers
    }
  }
  return headers.set('Vary', `${vary.join(', ')}, Accept-Encoding`)
}

function encodeWith(coding: ContentCoding, response: HttpResponse, varied: Headers, o: ResolvedEncodeOptions): HttpResponse {
  let headers = varied.delete('content-length').set('Content-Encoding', coding)
  const etag = headers.get('etag')
  if (etag !== undefined && etag.trimStart().startsWith('"')) headers = headers.set('ETag', `W/${etag.trim()}`)
  const entity = response.entity
  const level = o.levels[coding]
  if (entity.kind === 'strict' && entity.data.length <= o.eagerMaxBytes) {
    return new HttpResponse(response.status, headers, HttpEntity.strict(compressSync(coding, entity.data, level), entity.contentType))
  }
  const contentType = headers.get('content-type') ?? entity.contentType
  const flush = o.flush || (contentType !== undefined && isEventStream(contentType))
  const encoded: StreamedEntity = {
    kind: 'streamed',
    contentType: entity.contentType,
    contentLength: undefined,
    data: HttpEntity.dataBytes(entity).via(Compression.encoder(coding, { flush, level })),
    ...(entity.kind === 'streamed' && entity.trailers !== undefined ? { trailers: entity.trailers } : {}),
  }
  return new HttpResponse(response.status, headers, encoded)
}

function compressSync(coding: ContentCoding, data: Uint8Array, level: number): Uint8Array {
  switch (coding) {
    case 'gzip':
      return gzipSync(data, { level })
    case 'deflate':
      return deflateSync(data, { level })
    case 'br':
      return brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: level, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } })
  }
}

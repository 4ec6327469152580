/**
 * Options of response encoding and request decoding, validated by io-ts codecs like every weir
 * setting (a wrong value throws `InvalidSettingError` naming the option and the value), and the
 * default rule for which media types are worth compressing.
 *
 * Validation runs once per options object (results are memoized by identity), so passing the same
 * object on every request costs a lookup.
 */
import * as t from 'io-ts'
import type { Materializer } from '@weir/core'
import { ByteSizeC, decodeSettings, IntC, type SettingSpec } from '../settings/codecs.js'
import { CONTENT_CODINGS, DEFAULT_BROTLI_QUALITY, DEFAULT_ZLIB_LEVEL } from './Compression.js'
import type { ContentCoding } from './errors.js'

/** Options of `encodeResponse`. Sizes take bytes or strings such as `'1k'`. */
export interface EncodeOptions {
  /** Codings the server offers, most preferred first (default `['br', 'gzip', 'deflate']`: Brotli at quality 4 is both smaller and faster than gzip). */
  readonly codings?: readonly ContentCoding[]
  /** Bodies known to be smaller than this are sent as they are (default `'1k'`): below it compression saves little and costs a coding per response. */
  readonly threshold?: number | string
  /** Strict bodies up to this size are compressed at once into a strict body with a Content-Length (default `'64k'`); larger and streamed bodies are compressed as a stream. */
  readonly eagerMaxBytes?: number | string
  /** Whether a media type is worth compressing (default {@link isCompressible}); called with the Content-Type, or undefined when there is none. */
  readonly compressible?: (contentType: string | undefined) => boolean
  /** Compress `text/event-stream` responses too, flushing after every event (default false). */
  readonly eventStream?: boolean
  /** Flush the encoder after every element of a streamed body (default false; event streams always flush). */
  readonly flush?: boolean
  /** Compression level per coding: gzip/deflate 0–9 (default 6), br quality 0–11 (default 4). */
  readonly levels?: Readonly<Partial<Record<ContentCoding, number>>>
  /** Materializer used to cancel a body that is replaced by a 406 (default: the default materializer). */
  readonly materializer?: Materializer
}

/** Options of `decodeRequest`. */
export interface DecodeOptions {
  /** Largest decoded body (default `'8m'`, the server's `maxContentLength`); past it the body fails with `EntityTooLargeError` (413). */
  readonly maxDecodedBytes?: number | string
  /** Codings accepted in requests (default all: `['br', 'gzip', 'deflate']`); others get 415. */
  readonly codings?: readonly ContentCoding[]
  /** Most codings stacked on one body (`Content-Encoding: gzip, br`), decoded in reverse order (default 2); more get 415. */
  readonly maxCodings?: number
}

const CodingC = t.keyof({ br: null, gzip: null, deflate: null })
const CodingsC = t.readonlyArray(CodingC, 'an array of "br", "gzip", "deflate"')
const PredicateC = new t.Type<(contentType: string | undefined) => boolean, unknown, unknown>(
  'a function (contentType) => boolean',
  (u): u is (contentType: string | undefined) => boolean => typeof u === 'function',
  (u, c) => (typeof u === 'function' ? t.success(u as (contentType: string | undefined) => boolean) : t.failure(u, c, 'a function (contentType) => boolean')),
  (f) => f,
)
const LevelsC = t.exact(t.partial({ gzip: IntC(0, 9), deflate: IntC(0, 9), br: IntC(0, 11) }), 'levels { gzip?: 0–9, deflate?: 0–9, br?: 0–11 }')

export const encodeOptionsSpec = {
  codings: { codec: CodingsC, default: CONTENT_CODINGS, doc: 'Codings offered, most preferred first.' },
  threshold: { codec: ByteSizeC, default: '1k', doc: 'Bodies known to be smaller are not compressed.' },
  eagerMaxBytes: { codec: ByteSizeC, default: '64k', doc: 'Strict bodies up to this size are compressed at once, keeping a Content-Length.' },
  compressible: { codec: PredicateC, default: isCompressible, doc: 'Whether a media type is worth compressing.' },
  eventStream: { codec: t.boolean, default: false, doc: 'Compress text/event-stream responses, flushing every event.' },
  flush: { codec: t.boolean, default: false, doc: 'Flush after every element of a streamed body.' },
  levels: { codec: LevelsC, default: {}, doc: 'Compression level per coding.' },
  materializer: { codec: t.unknown, default: undefined, doc: 'Materializer for cancelling a replaced body.' },
} satisfies Record<string, SettingSpec<any>>

export const decodeOptionsSpec = {
  maxDecodedBytes: { codec: ByteSizeC, default: '8m', doc: 'Largest decoded request body (413 past it).' },
  codings: { codec: CodingsC, default: CONTENT_CODINGS, doc: 'Codings accepted in requests.' },
  maxCodings: { codec: IntC(1, 8), default: 2, doc: 'Most codings stacked on one body.' },
} satisfies Record<string, SettingSpec<any>>

/** Encode options with every default filled in. */
export interface ResolvedEncodeOptions {
  readonly codings: readonly ContentCoding[]
  readonly threshold: number
  readonly eagerMaxBytes: number
  readonly compressible: (contentType: string | undefined) => boolean
  readonly eventStream: boolean
  readonly flush: boolean
  readonly levels: Readonly<Record<ContentCoding, number>>
  readonly materializer: Materializer | undefined
}

/** Decode options with every default filled in. */
export interface ResolvedDecodeOptions {
  readonly maxDecodedBytes: number
  readonly codings: readonly ContentCoding[]
  readonly maxCodings: number
}

const EMPTY = {}
const resolvedEncode = new WeakMap<object, ResolvedEncodeOptions>()
const resolvedDecode = new WeakMap<object, ResolvedDecodeOptions>()

/** Validate and complete encode options (memoized per options object). */
export function resolveEncodeOptions(options: EncodeOptions = EMPTY): ResolvedEncodeOptions {
  let r = resolvedEncode.get(options)
  if (r === undefined) {
    const d = decodeSettings(encodeOptionsSpec, options as Record<string, unknown>, 'encode.')
    const levels = d.levels as Partial<Record<ContentCoding, number>>
    r = {
      codings: d.codings,
      threshold: d.threshold,
      eagerMaxBytes: d.eagerMaxBytes,
      compressible: d.compressible,
      eventStream: d.eventStream,
      flush: d.flush,
      levels: { gzip: levels.gzip ?? DEFAULT_ZLIB_LEVEL, deflate: levels.deflate ?? DEFAULT_ZLIB_LEVEL, br: levels.br ?? DEFAULT_BROTLI_QUALITY },
      materializer: d.materializer as Materializer | undefined,
    }
    resolvedEncode.set(options, r)
  }
  return r
}

/** Validate and complete decode options (memoized per options object). */
export function resolveDecodeOptions(options: DecodeOptions = EMPTY): ResolvedDecodeOptions {
  let r = resolvedDecode.get(options)
  if (r === undefined) {
    r = decodeSettings(decodeOptionsSpec, options as Record<string, unknown>, 'decode.')
    resolvedDecode.set(options, r)
  }
  return r
}

/** Media types whose bodies are already compressed (or gain nothing from it). */
const INCOMPRESSIBLE = new Set([
  'application/zip',
  'application/gzip',
  'application/x-gzip',
  'application/x-bzip2',
  'application/x-xz',
  'application/zstd',
  'application/x-7z-compressed',
  'application/x-rar-compressed',
  'application/vnd.rar',
  'application/x-compress',
  'application/octet-stream',
  'application/pdf',
  'font/woff',
  'font/woff2',
])

/**
 * The default compressibility rule: text, JSON, XML, JavaScript, SVG and most `application/*`
 * types are compressed; images (except SVG), audio, video, archives, already-compressed formats,
 * `application/octet-stream` (unknown bytes) and `multipart/*` are not; neither is a body with no
 * Content-Type (nothing says what it is).
 */
export function isCompressible(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const semi = contentType.indexOf(';')
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
  if (type === '') return false
  if (type.endsWith('+xml') || type.endsWith('+json')) return true // image/svg+xml, application/ld+json, …
  if (type.startsWith('image/') || type.startsWith('audio/') || type.startsWith('video/') || type.startsWith('multipart/')) return false
  return !INCOMPRESSIBLE.has(type)
}

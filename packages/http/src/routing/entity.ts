/**
 * Entity directives: read the request entity as a typed value.
 *
 * `entity(codec, inner)` reads the body as JSON (up to `entityLimit`, 1 MiB by default) and decodes
 * it with an io-ts codec: `inner` gets the typed value, or the route rejects — `malformed-entity`
 * (400) when the body is empty, not JSON, or not the codec's type (with the list of what failed
 * where), `entity-too-large` (413) past the limit, `unsupported-media-type` (415) when the
 * `Content-Type` is not JSON. `entityAs(reader, inner)` takes any {@link EntityReader}: text, bytes,
 * JSON with options, or streams — `asNdjson(codec)` gives a `Source` of decoded values that reads
 * the body as the source is consumed, and `asStream()` the raw bytes.
 *
 * A body read into memory is kept for the request, so alternatives that read it again get the same
 * value; a streamed body (NDJSON, bytes) can be consumed once.
 */
import type * as t from 'io-ts'
import { isLeft } from 'fp-ts/lib/Either.js'
import { Framing, FramingError, type Source } from '@weir/core'
import { HttpError } from '../errors.js'
import { EntityTooLargeError, HttpEntity, type StrictEntity } from '../model/HttpEntity.js'
import { mediaType } from './negotiation.js'
import { describeErrors } from './decodeErrors.js'
import { NDJSON_TYPE, JSON_TYPE } from './basicDirectives.js'
import { rejected, runInner, type Inner, type RequestContext, type Route } from './Route.js'
import { Rejections, type EntityFieldError, type Rejection } from './rejections.js'

/** The outcome of reading an entity. */
export type EntityRead<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection }

/** Reads the request entity as a `T`. */
export interface EntityReader<T> {
  /** The media types it reads, for the 415 rejection. */
  readonly supported: readonly string[]
  /** Whether it reads a body of this media type (`undefined`: no Content-Type). */
  accepts(mediaType: string | undefined): boolean
  /** Whether an empty body is a `malformed-entity` rejection (reason `empty`). */
  readonly requiresContent: boolean
  read(ctx: RequestContext): Promise<EntityRead<T>>
}

/** A streamed entity could not be decoded (NDJSON): which line, why, and what failed where. */
export class EntityDecodingError extends HttpError {
  constructor(
    readonly reason: 'invalid-json' | 'invalid-value' | 'line-too-long',
    /** 1-based line number. */
    readonly line: number,
    readonly errors: readonly EntityFieldError[] = [],
    options?: { cause?: unknown },
  ) {
    const what = reason === 'invalid-json' ? 'is not valid JSON' : reason === 'line-too-long' ? 'is longer than the line limit' : `does not have the expected shape (${errors.map((e) => `${e.path}: expected ${e.expected}`).join('; ')})`
    super('WEIR_HTTP_ENTITY_DECODING', `Line ${line} of the request content ${what}`, 400, options)
  }
}

const ok = <T>(value: T): EntityRead<T> => ({ ok: true, value })
const fail = <T>(rejection: Rejection): EntityRead<T> => ({ ok: false, rejection })
const utf8 = new TextDecoder('utf-8', { fatal: true })

const isJsonType = (m: string | undefined): boolean => m === JSON_TYPE || (m !== undefined && m.startsWith('application/') && m.endsWith('+json'))

/** The whole entity in memory (read once per request and entity), or the 413 rejection. */
async function strictEntity(ctx: RequestContext, maxBytes: number): Promise<EntityRead<StrictEntity>> {
  const entity = ctx.request.entity
  const state = ctx._state
  if (state.strict === undefined || state.strict.entity !== entity) state.strict = { entity, read: HttpEntity.toStrict(entity, maxBytes, ctx.materializer) }
  try {
    const strict = await state.strict.read
    if (strict.data.length > maxBytes) return fail(Rejections.entityTooLarge(maxBytes, strict.data.length))
    return ok(strict)
  } catch (e) {
    if (e instanceof EntityTooLargeError) return fail(Rejections.entityTooLarge(maxBytes, e.actual))
    throw e
  }
}

/** Options of the readers that read the body into memory. */
export interface StrictReaderOptions {
  /** Limit in bytes (default: the `entityLimit` routing setting). */
  readonly maxBytes?: number
}

function parseJson(data: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(data)) }
  } catch {
    return { ok: false }
  }
}

/** The body as JSON decoded by `codec` (`application/json` or `application/*+json`). */
export function asJson<A>(codec: t.Decoder<unknown, A>, options: StrictReaderOptions = {}): EntityReader<A> {
  return {
    supported: [JSON_TYPE],
    accepts: isJsonType,
    requiresContent: true,
    async read(ctx) {
      const s = await strictEntity(ctx, options.maxBytes ?? ctx.settings.entityLimit)
      if (!s.ok) return s
      if (s.value.data.length === 0) return fail(Rejections.malformedEntity('empty'))
      const parsed = parseJson(s.value.data)
      if (!parsed.ok) return fail(Rejections.malformedEntity('invalid-json'))
      const decoded = codec.decode(parsed.value)
      return isLeft(decoded) ? fail(Rejections.malformedEntity('invalid-value', describeErrors(decoded.left))) : ok(decoded.right)
    },
  }
}

/** The body as UTF-8 text (any `text/*` type). */
export function asText(options: StrictReaderOptions = {}): EntityReader<string> {
  return {
    supported: ['text/plain'],
    accepts: (m) => m !== undefined && m.startsWith('text/'),
    requiresContent: false,
    async read(ctx) {
      const s = await strictEntity(ctx, options.maxBytes ?? ctx.settings.entityLimit)
      return s.ok ? ok(new TextDecoder().decode(s.value.data)) : s
    },
  }
}

/** The body's bytes, whatever its type. */
export function asBytes(options: StrictReaderOptions = {}): EntityReader<Uint8Array> {
  return {
    supported: ['*/*'],
    accepts: () => true,
    requiresContent: false,
    async read(ctx) {
      const s = await strictEntity(ctx, options.maxBytes ?? ctx.settings.entityLimit)
      return s.ok ? ok(s.value.data) : s
    },
  }
}

/** The body as a stream of bytes, whatever its type (read as it is consumed; consumable once). */
export function asStream(): EntityReader<Source<Uint8Array, unknown>> {
  return {
    supported: ['*/*'],
    accepts: () => true,
    requiresContent: false,
    read: (ctx) => Promise.resolve(ok(HttpEntity.dataBytes(ctx.request.entity))),
  }
}

/**
 * The body as newline-delimited JSON (`application/x-ndjson`): a `Source` of the values decoded by
 * `codec`, read from the connection as the source is consumed. Blank lines are skipped; a line that
 * is not JSON, not the codec's type, or longer than `maxLineBytes` (default: the `ndjsonLineLimit`
 * setting) fails the source with {@link EntityDecodingError} (400 through the default exception handler).
 */
export function asNdjson<A>(codec: t.Decoder<unknown, A>, options: { readonly maxLineBytes?: number } = {}): EntityReader<Source<A, unknown>> {
  return {
    supported: [NDJSON_TYPE],
    accepts: (m) => m === NDJSON_TYPE || m === 'application/jsonl',
    requiresContent: false,
    read(ctx) {
      const limit = options.maxLineBytes ?? ctx.settings.ndjsonLineLimit
      let line = 0
      const values = HttpEntity.dataBytes(ctx.request.entity)
        .via(Framing.delimiter('\n', limit, { allowTruncation: true }))
        .mapError((e) => (e instanceof FramingError && e.reason === 'frame-too-large' ? new EntityDecodingError('line-too-long', line + 1, [], { cause: e }) : e))
        .map((bytes) => ({ n: ++line, bytes }))
        .filter(({ bytes }) => bytes.some((b) => b !== 0x20 && b !== 0x09 && b !== 0x0d))
        .map(({ n, bytes }) => {
          const parsed = parseJson(bytes)
          if (!parsed.ok) throw new EntityDecodingError('invalid-json', n)
          const decoded = codec.decode(parsed.value)
          if (isLeft(decoded)) throw new EntityDecodingError('invalid-value', n, describeErrors(decoded.left))
          return decoded.right
        })
      return Promise.resolve(ok(values))
    },
  }
}

/** Read the entity with `reader` and give `inner` the value, or reject (400, 413, 415). */
export function entityAs<T>(reader: EntityReader<T>, inner: Inner<[T]>): Route {
  return async (ctx) => {
    const entity = ctx.request.entity
    if (reader.requiresContent && HttpEntity.length(entity) === 0) return rejected([Rejections.malformedEntity('empty')])
    const type = mediaType(entity.contentType ?? ctx.request.headers.get('content-type'))
    if (!reader.accepts(type)) return rejected([Rejections.unsupportedMediaType(type, reader.supported)])
    const r = await reader.read(ctx)
    return r.ok ? runInner(inner, [r.value], ctx) : rejected([r.rejection])
  }
}

/**
 * Read the entity as JSON decoded by an io-ts codec; `inner` gets the codec's type.
 * @example `post(() => entity(NewItem, (item) => complete(201, save(item))))`
 */
export function entity<A>(codec: t.Decoder<unknown, A>, inner: Inner<[A]>): Route {
  return entityAs(asJson(codec), inner)
}

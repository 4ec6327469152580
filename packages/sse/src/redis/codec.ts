/**
 * Codecs: how a Redis topic turns a value into the text of a broker message and back.
 *
 * Contract: `encode` returns the message text or throws {@link TopicCodecError} (`'encode'`);
 * `decode` returns the value or throws {@link TopicCodecError} (`'decode'`). {@link TopicCodec.json}
 * (the default) is `JSON.stringify`/`JSON.parse`, rejecting what JSON cannot represent (undefined,
 * functions, symbols, BigInt, cycles); {@link TopicCodec.fromType} adds an io-ts type, so a message
 * that parses but does not match the type is rejected with the paths that failed.
 */
import type * as t from 'io-ts'
import { isLeft } from 'fp-ts/lib/Either.js'
import { TopicCodecError } from './errors.js'

/** Turns values into message text and back; both directions throw {@link TopicCodecError}. */
export interface TopicCodec<T> {
  encode(value: T): string
  decode(text: string): T
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

function encodeJson(value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (e) {
    throw new TopicCodecError('encode', [messageOf(e)], undefined, e)
  }
  if (text === undefined) throw new TopicCodecError('encode', [`${typeof value} has no JSON representation`])
  return text
}

function decodeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw new TopicCodecError('decode', [messageOf(e)], undefined, e)
  }
}

function pathOf(error: t.ValidationError): string {
  const path = error.context
    .map((c) => c.key)
    .filter((k) => k !== '')
    .join('.')
  const expected = error.context.at(-1)?.type.name ?? 'unknown'
  return error.message ?? `${path === '' ? '<root>' : path}: expected ${expected}, got ${JSON.stringify(error.value)}`
}

export const TopicCodec = {
  /**
   * JSON text: the default codec.
   * @example `TopicCodec.json<Price>().encode({ symbol: 'ACME', price: 12 }) // '{"symbol":"ACME","price":12}'`
   */
  json<T>(): TopicCodec<T> {
    return { encode: encodeJson, decode: (text) => decodeJson(text) as T }
  },
  /**
   * JSON text checked against an io-ts type on both sides: `type.encode` before publishing,
   * `type.decode` after parsing (a mismatch is a `'decode'` error listing the failing paths).
   * @example `TopicCodec.fromType(t.type({ symbol: t.string, price: t.number }))`
   */
  fromType<A, O>(type: t.Type<A, O, unknown>): TopicCodec<A> {
    return {
      encode: (value) => encodeJson(type.encode(value)),
      decode: (text) => {
        const result = type.decode(decodeJson(text))
        if (isLeft(result)) throw new TopicCodecError('decode', result.left.map(pathOf))
        return result.right
      },
    }
  },
} as const

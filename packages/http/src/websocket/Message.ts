/**
 * WebSocket messages (RFC 6455 §5.6): text or binary, each either strict (the whole payload) or
 * streamed (a `Source` of parts, sent as one fragmented message: one frame per part, the last
 * one with FIN).
 *
 * Received messages are always strict: the `ws` parser reassembles fragments and delivers whole
 * messages, bounded by the `maxMessageSize` setting (a larger message closes the connection with
 * 1009). Streamed messages are for sending large or incremental payloads without holding them.
 */
import { Sink, type Materializer, type Source } from '@weir/core'

/** A text message with its whole payload. */
export interface StrictTextMessage {
  readonly type: 'text'
  readonly kind: 'strict'
  readonly text: string
}
/** A text message sent in parts (one frame per part). */
export interface StreamedTextMessage {
  readonly type: 'text'
  readonly kind: 'streamed'
  readonly textStream: Source<string, any>
}
/** A binary message with its whole payload. */
export interface StrictBinaryMessage {
  readonly type: 'binary'
  readonly kind: 'strict'
  readonly data: Uint8Array
}
/** A binary message sent in parts (one frame per part). */
export interface StreamedBinaryMessage {
  readonly type: 'binary'
  readonly kind: 'streamed'
  readonly dataStream: Source<Uint8Array, any>
}

export type TextMessage = StrictTextMessage | StreamedTextMessage
export type BinaryMessage = StrictBinaryMessage | StreamedBinaryMessage
/** A WebSocket data message. */
export type Message = TextMessage | BinaryMessage
/** A message with its whole payload (what a server receives). */
export type StrictMessage = StrictTextMessage | StrictBinaryMessage

/** Constructors and helpers for {@link Message}s. */
export const Message = {
  /** A strict text message. */
  text(text: string): StrictTextMessage {
    return { type: 'text', kind: 'strict', text }
  },
  /** A text message sent as fragments, one per string of `parts`. */
  textStream(parts: Source<string, any>): StreamedTextMessage {
    return { type: 'text', kind: 'streamed', textStream: parts }
  },
  /** A strict binary message. */
  binary(data: Uint8Array): StrictBinaryMessage {
    return { type: 'binary', kind: 'strict', data }
  },
  /** A binary message sent as fragments, one per chunk of `parts`. */
  binaryStream(parts: Source<Uint8Array, any>): StreamedBinaryMessage {
    return { type: 'binary', kind: 'streamed', dataStream: parts }
  },
  /** The whole message: a strict one as it is, a streamed one collected (it is run with `materializer`). */
  async toStrict(message: Message, materializer?: Materializer): Promise<StrictMessage> {
    if (message.kind === 'strict') return message
    if (message.type === 'text') {
      const parts = await message.textStream.runWith(Sink.seq<string>(), materializer)
      return Message.text(parts.join(''))
    }
    const parts = await message.dataStream.runWith(Sink.seq<Uint8Array>(), materializer)
    return Message.binary(Buffer.concat(parts))
  },
} as const

/**
 * Errors of Redis-bridged topics.
 *
 * Contract: a broker failure (connecting, publishing, reading the replay log) is a
 * {@link RedisBrokerError} naming the operation, the topic and the underlying error (`cause`);
 * a value that the topic's codec cannot turn into a message or back is a {@link TopicCodecError};
 * publishing to a closed topic is a {@link TopicClosedError}.
 */
import { WeirError } from '@weir/core'

/** What a Redis topic was doing when the broker failed. */
export type RedisOperation = 'connect' | 'publish' | 'replay' | 'subscribe' | 'catch-up'

/** The broker did not do what a topic asked (connection refused or lost, an error reply). */
export class RedisBrokerError extends WeirError {
  constructor(
    readonly operation: RedisOperation,
    readonly topic: string,
    cause: unknown,
  ) {
    super('WEIR_SSE_REDIS_BROKER', `Redis topic '${topic}': ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

/** Which way a codec failed: a value to publish, or a message read from the broker. */
export type CodecDirection = 'encode' | 'decode'

/** A topic's codec could not encode a value to publish, or decode a message (`id`: the message's stream id). */
export class TopicCodecError extends WeirError {
  constructor(
    readonly direction: CodecDirection,
    readonly problems: readonly string[],
    readonly id: string | undefined = undefined,
    cause: unknown = undefined,
  ) {
    super('WEIR_SSE_TOPIC_CODEC', `Cannot ${direction} a topic message${id === undefined ? '' : ` (id ${id})`}: ${problems.join('; ')}`, { cause })
  }
}

/** A value was published to a topic after `close()`. */
export class TopicClosedError extends WeirError {
  constructor(readonly topic: string) {
    super('WEIR_SSE_TOPIC_CLOSED', `Topic '${topic}' is closed`)
  }
}

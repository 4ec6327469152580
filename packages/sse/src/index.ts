/**
 * @weir/sse — server-sent events: the event model, an exact encoder and parser of the
 * `text/event-stream` format, SSE responses with idle heartbeats, and sessions whose cleanup runs
 * exactly once however the client leaves; topics in one process or shared by several through Redis; and a
 * client that reads an event stream and reconnects as an EventSource does.
 */
export { HEARTBEAT, SseEncodingError, isComment, sseComment, type ServerSentEvent, type SseComment, type SseFrame, type SseEncodingField } from './ServerSentEvent.js'
export { encode, encodeEvent, encodeEventBytes } from './encoder.js'
export { SseParser, type ParsedEvent } from './parser.js'
export { SessionEndStage, SessionRegistry, SseSession, closeReasonOfCancellation, type CloseReason } from './session.js'
export { DEFAULT_HEARTBEAT, sse, sseSession, type SseOptions, type SseSessionOptions } from './sse.js'
export { LocalTopic, MappedTopic, SlowConsumerError, Topic, topicChannels, type TopicElementsDropped, type PublishResult, type SlowConsumerPolicy, type Subscribable, type TopicOptions } from './topic.js'
export { RedisTopic, type RedisTopicOptions, type TopicEvent } from './redis/RedisTopic.js'
export { TopicCodec } from './redis/codec.js'
export { RedisBrokerError, TopicClosedError, TopicCodecError, type CodecDirection, type RedisOperation } from './redis/errors.js'
export { redisChannels, type RedisBrokerEvent, type RedisMessageSkipped } from './redis/diagnostics.js'
export {
  SseClient, SseClientControl, SseAttemptsExhaustedError, SseClientError, SseContentTypeError, SseEventTooLargeError, SseRedirectError, SseStatusError, sseClientChannels,
  type SseBackoff, type SseClientCloseReason, type SseClientOptions, type SseConnect, type SseReadyState, type SseRedirectFailure,
} from './client.js'

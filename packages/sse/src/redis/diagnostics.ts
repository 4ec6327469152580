/**
 * Diagnostics of Redis-bridged topics on `node:diagnostics_channel` (publishers check
 * `hasSubscribers` first, so an idle channel costs one property read).
 *
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel'
 * diagnostics_channel.subscribe('weir:sse:redis:broker', (m) => console.log(m))
 * ```
 */
import diagnostics_channel from 'node:diagnostics_channel'

/** A change of a topic's link to the broker (see {@link redisChannels}). */
export type RedisBrokerEvent =
  | { readonly topic: string; readonly state: 'down'; readonly error: unknown }
  | { readonly topic: string; readonly state: 'up'; readonly caughtUp: number }

/** A message the topic could not deliver to this process's subscribers. */
export interface RedisMessageSkipped {
  readonly topic: string
  readonly id: string
  /** `'codec'`: it did not decode (`error` says why). */
  readonly reason: 'codec'
  readonly error?: unknown
}

export const redisChannels = {
  /** {@link RedisBrokerEvent}: the live link went down (`error`), or is up — on connect, and after each reconnection once it caught up (`caughtUp`: events read from the log). */
  broker: diagnostics_channel.channel('weir:sse:redis:broker'),
  /** {@link RedisMessageSkipped}: a message from the broker was skipped. */
  skipped: diagnostics_channel.channel('weir:sse:redis:skipped'),
} as const

/**
 * The broker side of a Redis topic: two node-redis connections (commands, and a dedicated
 * pub/sub subscriber) and the few operations a topic needs.
 *
 * Contract:
 * - `publish` runs ONE Lua script: `XADD key MAXLEN ~ replay * data <text>` then `PUBLISH channel
 *   "<id> <text>"`. A script runs atomically, so the order of messages on the channel is the order
 *   of ids in the stream, on every instance — which is what lets a subscriber join the live feed
 *   to a replay by comparing ids. The script is sent by SHA (EVALSHA) and loaded on NOSCRIPT.
 * - `range(after, count)` reads up to `count` entries after `after` (exclusive; from the start of
 *   the stream when `after` is undefined), oldest first; `tailId` is the newest id, if any.
 * - Commands fail at once while the command connection is down (no offline queue), so a publish
 *   never waits for a reconnection that may not come. Both connections reconnect on their own
 *   (node-redis's `reconnectStrategy`); the subscriber re-subscribes before it reports `ready`.
 * - `connect` fails with {@link RedisBrokerError} (`'connect'`) on the first connection error,
 *   leaving nothing open; `close` closes both connections (destroys one that is not connected).
 */
import { createHash } from 'node:crypto'
import { createClient, type RedisClientOptions, type RedisClientType } from '@redis/client'
import { RedisBrokerError } from './errors.js'

/** A stream entry: its id and the message text. */
export interface StreamEntry {
  readonly id: string
  readonly text: string
}

/** What the broker link reports to its topic. */
export interface BrokerListener {
  /** A message arrived on the channel. */
  message(id: string, text: string): void
  /** A connection failed (it will retry). */
  down(error: unknown): void
  /** A connection is ready again after a failure (the subscriber has re-subscribed). */
  ready(): void
}

const PUBLISH_SCRIPT = `local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'data', ARGV[3])
redis.call('PUBLISH', ARGV[2], id .. ' ' .. ARGV[3])
return id`
const PUBLISH_SHA1 = createHash('sha1').update(PUBLISH_SCRIPT).digest('hex')

/** The field of a stream entry that holds the message text. */
const DATA = 'data'

type Client = RedisClientType<any, any, any, any, any>

function parseEntries(reply: unknown): StreamEntry[] {
  const entries: StreamEntry[] = []
  for (const raw of reply as [string, string[]][]) {
    const fields = raw[1]
    let text = ''
    for (let i = 0; i + 1 < fields.length; i += 2) if (String(fields[i]) === DATA) text = String(fields[i + 1])
    entries.push({ id: String(raw[0]), text })
  }
  return entries
}

/**
 * Connects `client`, failing on its first error (and destroying it) instead of retrying. (No
 * listener is ever removed from a node-redis client: removing the last listener of an event from
 * the client's facade detaches the facade's listeners from the client's emitter.)
 */
function open(client: Client, topic: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false
    const fail = (e: unknown): void => {
      if (settled) return
      settled = true
      if (client.isOpen) client.destroy()
      reject(new RedisBrokerError('connect', topic, e))
    }
    client.on('error', fail)
    client.connect().then(
      () => {
        if (settled) return
        settled = true
        resolve()
      },
      fail,
    )
  })
}

async function shut(client: Client): Promise<void> {
  if (!client.isOpen) return
  if (client.isReady) {
    try {
      await client.close()
      return
    } catch {
      // fall through: destroy whatever is left
    }
  }
  if (client.isOpen) client.destroy()
}

export class RedisBroker {
  readonly #topic: string
  readonly #key: string
  readonly #channel: string
  readonly #commands: Client
  readonly #subscriber: Client
  readonly #listener: BrokerListener
  /** Subscribed and not closed: connection changes are reported to the listener. */
  #reporting = false
  readonly #onError = (e: unknown): void => {
    if (this.#reporting) this.#listener.down(e)
  }
  readonly #onReady = (): void => {
    if (this.#reporting) this.#listener.ready()
  }

  private constructor(topic: string, key: string, channel: string, commands: Client, subscriber: Client, listener: BrokerListener) {
    this.#topic = topic
    this.#key = key
    this.#channel = channel
    this.#commands = commands
    this.#subscriber = subscriber
    this.#listener = listener
  }

  /** Opens both connections and subscribes to `channel`; on failure nothing stays open. */
  static async connect(topic: string, key: string, channel: string, options: RedisClientOptions, listener: BrokerListener): Promise<RedisBroker> {
    const commands = createClient({ ...options, disableOfflineQueue: true }) as Client
    const subscriber = commands.duplicate() as Client
    const broker = new RedisBroker(topic, key, channel, commands, subscriber, listener)
    for (const client of [commands, subscriber]) {
      client.on('error', broker.#onError)
      // 'ready' fires on every (re)connection; reported from the first reconnection on
      client.on('ready', broker.#onReady)
    }
    try {
      await Promise.all([open(commands, topic), open(subscriber, topic)])
      await subscriber.subscribe(channel, (message: string) => {
        const space = message.indexOf(' ')
        if (space > 0) listener.message(message.slice(0, space), message.slice(space + 1))
      })
    } catch (e) {
      await Promise.all([shut(commands), shut(subscriber)])
      throw e instanceof RedisBrokerError ? e : new RedisBrokerError('subscribe', topic, e)
    }
    broker.#reporting = true
    return broker
  }

  /** Whether both connections are up. */
  get isReady(): boolean {
    return this.#commands.isReady && this.#subscriber.isReady
  }

  /** Appends `text` to the log (trimmed to about `replay` entries) and publishes it; resolves to its id. */
  async publish(text: string, replay: number): Promise<string> {
    const args = ['1', this.#key, String(replay), this.#channel, text]
    try {
      try {
        return String(await this.#commands.sendCommand(['EVALSHA', PUBLISH_SHA1, ...args]))
      } catch (e) {
        if (!(e instanceof Error && e.message.startsWith('NOSCRIPT'))) throw e
        return String(await this.#commands.sendCommand(['EVAL', PUBLISH_SCRIPT, ...args]))
      }
    } catch (e) {
      throw new RedisBrokerError('publish', this.#topic, e)
    }
  }

  /** Up to `count` entries after `after` (exclusive; from the start when undefined), oldest first. */
  async range(after: string | undefined, count: number, operation: 'replay' | 'catch-up'): Promise<StreamEntry[]> {
    try {
      return parseEntries(await this.#commands.sendCommand(['XRANGE', this.#key, after === undefined ? '-' : `(${after}`, '+', 'COUNT', String(count)]))
    } catch (e) {
      throw new RedisBrokerError(operation, this.#topic, e)
    }
  }

  /** The newest entry's id, or undefined when the log is empty. */
  async tailId(): Promise<string | undefined> {
    try {
      return parseEntries(await this.#commands.sendCommand(['XREVRANGE', this.#key, '+', '-', 'COUNT', '1']))[0]?.id
    } catch (e) {
      throw new RedisBrokerError('subscribe', this.#topic, e)
    }
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    this.#reporting = false
    await Promise.all([shut(this.#commands), shut(this.#subscriber)])
  }
}

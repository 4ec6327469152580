/**
 * Settings of one client connection and of a host connection pool, validated by io-ts like the server's: a bad
 * value fails with {@link InvalidSettingError} naming the setting and the value. Durations take ms or strings
 * (`'4s'`, `'infinite'`). Names follow Akka/Pekko HTTP's client and pool settings where they exist.
 *
 * The keep-alive defaults are chosen against the keep-alive race (DESIGN §1 A): an idle pooled connection is
 * closed by the client after `keepAliveTimeout` (shorter than common server timeouts), never reused within
 * `keepAliveSafetyMargin` of the `Keep-Alive: timeout=N` a server advertised, and a request that fails on a reused
 * connection before any response byte is retried on a fresh connection when that is safe.
 */
import * as t from 'io-ts'
import { ByteSizeC, decodeSettings, DurationC, IntC, type Decoded, type Input, type SettingSpec } from '../settings/codecs.js'

export const clientSettingsSpec = {
  connectingTimeout: { codec: DurationC, default: '10s', doc: 'Maximum time to establish a connection (TCP, and TLS when used); then the request fails with ConnectTimeoutError.' },
  responseTimeout: { codec: DurationC, default: '30s', doc: 'Maximum time from the request being written to the response head arriving; then ResponseTimeoutError and the connection is closed (a proxy answers 504).' },
  idleTimeout: { codec: DurationC, default: '60s', doc: 'A connection with a request outstanding (a response body arriving, a request body being sent) and no traffic for this long is aborted.' },
  responseEntitySubscriptionTimeout: {
    codec: DurationC,
    default: '1s',
    doc: 'A streamed response entity nobody starts reading within this time is read and dropped, so the connection goes back to the pool; reading it later fails.',
  },
  maxResponseHeaderSize: { codec: ByteSizeC, default: '64k', doc: 'Largest response header section; larger responses fail with a 502-class parse error.' },
  pipeliningLimit: { codec: IntC(1, 128), default: 1, doc: 'Requests sent on one connection before their responses arrived (1: no pipelining).' },
  userAgent: { codec: t.union([t.string, t.undefined]), default: undefined, doc: 'Value of the User-Agent header added to requests that have none (none by default).' },
} satisfies Record<string, SettingSpec<any>>

export type ClientSettings = Decoded<typeof clientSettingsSpec>
export type ClientSettingsInput = Input<typeof clientSettingsSpec>

/** Validate client connection settings; throws InvalidSettingError naming the setting and the value. */
export function clientSettings(input?: ClientSettingsInput): ClientSettings {
  return decodeSettings(clientSettingsSpec, input)
}

export const poolSettingsSpec = {
  ...clientSettingsSpec,
  maxConnections: { codec: IntC(1, 65_536), default: 32, doc: 'Connections the pool opens to its host at most.' },
  maxOpenRequests: { codec: IntC(1), default: 256, doc: 'Requests the pool holds at once (running and queued); one more fails at once with PoolOverflowError.' },
  maxRetries: { codec: IntC(0, 100), default: 3, doc: 'Times a request that failed on a reused connection before any response byte is retried on a fresh connection (idempotent methods, or requests never written).' },
  keepAliveTimeout: { codec: DurationC, default: '4s', doc: 'An idle pooled connection is closed after this long (keep it below the server\'s and the load balancer\'s idle timeouts).' },
  keepAliveSafetyMargin: {
    codec: DurationC,
    default: '1s',
    doc: 'A connection is not reused later than this before the end of the Keep-Alive: timeout=N the server advertised (a hint of N seconds allows reuse for N s minus the margin).',
  },
  useKeepAliveHint: { codec: t.boolean, default: true, doc: 'Read the server\'s Keep-Alive: timeout=N and stop reusing a connection keepAliveSafetyMargin before it (false: only keepAliveTimeout decides).' },
  maxConnectionLifetime: { codec: DurationC, default: 'infinite', doc: 'A connection older than this is not reused (it is closed once idle); spreads load after a scale-out.' },
  poolIdleTimeout: { codec: DurationC, default: '30s', doc: 'A pool with no request for this long closes all its connections (a shared pool of Http.singleRequest is then dropped); the next request reopens.' },
} satisfies Record<string, SettingSpec<any>>

export type PoolSettings = Decoded<typeof poolSettingsSpec>
export type PoolSettingsInput = Input<typeof poolSettingsSpec>

/** Validate pool settings; throws InvalidSettingError naming the setting and the value. */
export function poolSettings(input?: PoolSettingsInput): PoolSettings {
  return decodeSettings(poolSettingsSpec, input)
}

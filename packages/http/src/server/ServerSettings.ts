/**
 * Server settings: every timeout and limit of a hardened HTTP/1.1 server, with its default and
 * purpose. Names follow Akka/Pekko HTTP where they exist. Durations take a number of ms or a
 * string (`'75s'`, `'infinite'`); sizes a number of bytes or a string (`'64k'`).
 *
 * Defaults are chosen against the failures of a load balancer in front (DESIGN §1 A): the idle
 * timeout is longer than the common 60 s LB idle timeout, and keep-alive responses advertise it,
 * so the LB closes an idle connection before the server would.
 */
import * as t from 'io-ts'
import { ByteSizeC, decodeSettings, DurationC, IntC, type Decoded, type Input, type SettingSpec } from '../settings/codecs.js'

const HalfClosePolicyC = t.keyof({ 'cancel-response': null, 'finish-response': null })

export const serverSettingsSpec = {
  idleTimeout: { codec: DurationC, default: '75s', doc: 'Close a connection with no traffic for this long; a streaming response that makes no progress (e.g. SSE with no heartbeat, or a reader that stopped reading) is aborted. Above common load-balancer idle timeouts (60 s) so the LB closes first; advertised as Keep-Alive: timeout.' },
  requestTimeout: { codec: DurationC, default: '20s', doc: 'Maximum time for a handler to produce a response; then 503 Service Unavailable with an explanatory body, and the connection closes.' },
  bindTimeout: { codec: DurationC, default: '1s', doc: 'Maximum time to bind the listening socket.' },
  lingerTimeout: { codec: DurationC, default: '1m', doc: 'After the server decided to close (FIN sent), keep reading and discarding what the client still sends for this long, so it is not answered with an RST.' },
  headerReadTimeout: { codec: DurationC, default: '10s', doc: 'Maximum time from the first byte of a request to the end of its header section (slowloris guard).' },
  maxConnections: { codec: IntC(1), default: 10_000, doc: 'Connections served at once; further connections are closed at once.' },
  pipeliningLimit: { codec: IntC(1, 1024), default: 16, doc: 'Requests of one connection handled concurrently; responses are always sent in request order.' },
  maxUriLength: { codec: ByteSizeC, default: '8k', doc: 'Longest request-target; longer requests get 414.' },
  maxHeaderCount: { codec: IntC(1, 10_000), default: 100, doc: 'Most header fields in a request; more get 431.' },
  maxHeaderSize: { codec: ByteSizeC, default: '16k', doc: 'Largest header section; larger get 431.' },
  maxContentLength: { codec: ByteSizeC, default: '8m', doc: 'Largest request body (declared or read); larger get 413.' },
  halfClosePolicy: {
    codec: HalfClosePolicyC,
    default: 'cancel-response',
    doc: "What a client FIN means while a streamed response is in flight: 'cancel-response' (the client left: cancel the response stream, which runs its cleanup) or 'finish-response' (a client that half-closes on purpose still gets the response).",
  },
  serverHeader: { codec: t.union([t.string, t.undefined]), default: undefined, doc: 'Value of the Server header (none by default).' },
} satisfies Record<string, SettingSpec<any>>

export type ServerSettings = Decoded<typeof serverSettingsSpec>
export type ServerSettingsInput = Input<typeof serverSettingsSpec>

/** Validate server settings; throws InvalidSettingError naming the setting and the value. */
export function serverSettings(input?: ServerSettingsInput): ServerSettings {
  return decodeSettings(serverSettingsSpec, input)
}

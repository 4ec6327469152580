/**
 * WebSocket settings: keep-alive, the close handshake's deadline and the limits of one connection.
 * Durations take a number of ms or a string (`'30s'`, `'infinite'`); sizes a number of bytes or a
 * string (`'1m'`). Decoded once per `WebSocket.handle` options object.
 */
import { ByteSizeC, decodeSettings, DurationC, type Decoded, type Input, type SettingSpec } from '../settings/codecs.js'

export const webSocketSettingsSpec = {
  keepAliveInterval: { codec: DurationC, default: '30s', doc: "Send a ping this often; a peer that does not answer within `pongTimeout` is gone and the connection is terminated ('infinite': no pings)." },
  pongTimeout: { codec: DurationC, default: '10s', doc: 'How long a ping may wait for its pong before the peer is declared gone (a vanished client, a blackholing proxy).' },
  closeTimeout: { codec: DurationC, default: '5s', doc: "After the server sent its close frame, how long to wait for the peer's before the socket is destroyed." },
  maxMessageSize: { codec: ByteSizeC, default: '1m', doc: 'Largest message received (all fragments together); a larger one closes the connection with 1009.' },
  sendBufferLimit: { codec: ByteSizeC, default: '64k', doc: 'Bytes written but not yet flushed to the socket beyond which the next outgoing message is not pulled (backpressure from a slow client).' },
} satisfies Record<string, SettingSpec<any>>

export type WebSocketSettings = Decoded<typeof webSocketSettingsSpec>
export type WebSocketSettingsInput = Input<typeof webSocketSettingsSpec>

/** Validate WebSocket settings; throws InvalidSettingError naming the setting and the value. */
export function webSocketSettings(input?: WebSocketSettingsInput): WebSocketSettings {
  return decodeSettings(webSocketSettingsSpec, input)
}

/**
 * Routing settings: the limits the entity directives apply. Plain objects validated by io-ts
 * codecs, like the server's; sizes take a number of bytes or a string (`'64k'`, `'1m'`).
 */
import { ByteSizeC, decodeSettings, type Decoded, type Input, type SettingSpec } from '../settings/codecs.js'

export const routeSettingsSpec = {
  entityLimit: { codec: ByteSizeC, default: '1m', doc: 'Largest request entity `entity(codec)` reads into memory; larger ones are rejected with 413 (the server\'s maxContentLength still applies first).' },
  ndjsonLineLimit: { codec: ByteSizeC, default: '64k', doc: 'Longest line of a streamed NDJSON request entity; a longer one fails the stream with WEIR_HTTP_ENTITY_DECODING.' },
} satisfies Record<string, SettingSpec<any>>

export type RouteSettings = Decoded<typeof routeSettingsSpec>
export type RouteSettingsInput = Input<typeof routeSettingsSpec>

const TAG = Symbol.for('weir.http.routeSettings')

/** Validate routing settings; throws InvalidSettingError naming the setting and the value. */
export function routeSettings(input?: RouteSettingsInput): RouteSettings {
  const decoded = decodeSettings(routeSettingsSpec, input)
  Object.defineProperty(decoded, TAG, { value: true, enumerable: false })
  return decoded
}

/** Settings already validated by {@link routeSettings} (not to be decoded again). */
export function isRouteSettings(s: RouteSettingsInput | RouteSettings | undefined): s is RouteSettings {
  return s !== undefined && (s as Record<symbol, unknown>)[TAG] === true
}

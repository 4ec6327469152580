import { describe, expect, it } from 'vitest'
import { webSocketSettings } from './WebSocketSettings.js'

describe('WebSocket settings', () => {
  it('decodes durations and sizes, with defaults for the rest', () => {
    expect(webSocketSettings({ keepAliveInterval: '2s', maxMessageSize: '64k', closeTimeout: 'infinite' })).toEqual({
      keepAliveInterval: 2000,
      pongTimeout: 10_000,
      closeTimeout: Infinity,
      maxMessageSize: 65536,
      sendBufferLimit: 65536,
    })
  })

  it('rejects a bad value or an unknown setting, naming it', () => {
    expect(() => webSocketSettings({ pongTimeout: 'soon' })).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_INVALID_SETTING', setting: 'pongTimeout', value: 'soon' }))
    expect(() => webSocketSettings({ pingEvery: '1s' } as never)).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_INVALID_SETTING', setting: 'pingEvery' }))
  })
})

import { describe, expect, it } from 'vitest'
import { serverSettings } from '../server/ServerSettings.js'
import { InvalidSettingError } from './codecs.js'

describe('server settings', () => {
  it('fills defaults and converts durations and sizes', () => {
    const s = serverSettings({ idleTimeout: '90s', maxHeaderSize: '32k', requestTimeout: 'infinite' })
    expect(s.idleTimeout).toBe(90_000)
    expect(s.requestTimeout).toBe(Infinity)
    expect(s.maxHeaderSize).toBe(32 * 1024)
    expect(s.lingerTimeout).toBe(60_000)
    expect(s.halfClosePolicy).toBe('cancel-response')
  })

  it.each([
    ['idleTimeout', 'soon'],
    ['idleTimeout', -1],
    ['maxConnections', 0],
    ['maxConnections', 1.5],
    ['maxHeaderSize', '12 parsecs'],
    ['halfClosePolicy', 'ignore'],
  ])('rejects %s = %j with an error naming the setting and the value', (setting, value) => {
    let err: unknown
    try {
      serverSettings({ [setting]: value })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InvalidSettingError)
    expect((err as InvalidSettingError).code).toBe('WEIR_HTTP_INVALID_SETTING')
    expect((err as InvalidSettingError).setting).toBe(setting)
    expect((err as InvalidSettingError).value).toEqual(value)
  })

  it('rejects unknown settings (a typo must not be silently ignored)', () => {
    expect(() => serverSettings({ idleTimout: '1s' } as never)).toThrow(expect.objectContaining({ setting: 'idleTimout' }))
  })

  it('reports every wrong setting, not only the first', () => {
    try {
      serverSettings({ idleTimeout: 'x', requestTimeout: 'y' })
    } catch (e) {
      expect((e as InvalidSettingError).others.map((o) => o.setting)).toEqual(['requestTimeout'])
    }
    expect.assertions(1)
  })
})

import { describe, expect, it } from 'vitest'
import { Headers } from '../model/Headers.js'
import { keepAliveHintMs } from './ClientConnectionStage.js'
import { poolSettings } from './ClientSettings.js'
import { InvalidSettingError } from '../settings/codecs.js'
import { originOf } from './outgoing.js'

describe('originOf', () => {
  it('takes scheme, host and port, with the default ports', () => {
    expect(originOf('http://example.test/x')).toEqual({ scheme: 'http', host: 'example.test', port: 80, authority: 'example.test', key: 'http://example.test' })
    expect(originOf('https://example.test:8443')).toMatchObject({ port: 8443, authority: 'example.test:8443' })
    expect(originOf('http://[::1]:9000/')).toMatchObject({ host: '::1', port: 9000, authority: '[::1]:9000' })
  })
  it('rejects relative targets and other schemes with a typed error', () => {
    expect(() => originOf('/relative')).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_CLIENT_INVALID_REQUEST' }))
    expect(() => originOf('ftp://h/')).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_CLIENT_INVALID_REQUEST' }))
  })
})

describe('keepAliveHintMs', () => {
  it.each([
    ['timeout=5', 5000],
    ['timeout=0', 0],
    ['max=100, timeout=75', 75_000],
    ['Timeout = "3"', 3000],
    ['max=5', undefined],
  ])('%s → %s', (value, ms) => {
    expect(keepAliveHintMs(Headers.from([['Keep-Alive', value]]))).toBe(ms)
  })
  it('is undefined without the field', () => {
    expect(keepAliveHintMs(Headers.empty)).toBeUndefined()
  })
})

describe('pool settings', () => {
  it('decode durations and defaults', () => {
    expect(poolSettings({ keepAliveTimeout: '2s', maxConnectionLifetime: 'infinite' })).toMatchObject({ keepAliveTimeout: 2000, maxConnectionLifetime: Infinity, maxConnections: 32, maxRetries: 3 })
  })
  it('name the setting and the value when one is wrong', () => {
    let e: unknown
    try {
      poolSettings({ maxConnections: 0 })
    } catch (x) {
      e = x
    }
    expect(e).toBeInstanceOf(InvalidSettingError)
    expect(e).toMatchObject({ setting: 'maxConnections', value: 0 })
  })
})

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { catalogue, readmeCatalogue } from './catalogue.js'

describe('README operator catalogue', () => {
  it('matches the operators and their doc comments (run `pnpm docs:catalogue` after changing them)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(readmeCatalogue(readme)).toBe(catalogue())
  })
  it('lists every family users look for', () => {
    for (const group of ['Sources', 'Sinks', 'Simple', 'Async', 'Timer', 'Backpressure-aware', 'Nesting', 'Fan-in', 'Fan-out', 'Error handling', 'Interop']) {
      expect(catalogue()).toContain(`**${group}**`)
    }
  })
})

describe('README settings table', async () => {
  const { readmeSettings, settingsTable, readmeRoutingSettings, routingSettingsTable, readmeWebSocketSettings, webSocketSettingsTable, readmeCodingSettings, codingSettingsTable } = await import('./settings.js')
  it('matches the settings codecs (run `pnpm docs:settings` after changing them)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(readmeSettings(readme)).toBe(settingsTable())
    expect(readmeRoutingSettings(readme)).toBe(routingSettingsTable())
    expect(readmeWebSocketSettings(readme)).toBe(webSocketSettingsTable())
    expect(readmeCodingSettings(readme)).toBe(codingSettingsTable())
  })
})

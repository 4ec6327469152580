/**
 * The wall clock for the `Date` response header (RFC 9110 §6.6.1) — the one place the HTTP layer
 * reads the wall clock; it is not used for any timeout (those come from the scheduler). The
 * formatted value is cached for the current second.
 */
let cached = ''
let cachedSecond = -1

export function clockDate(): string {
  const now = Date.now()
  const second = Math.floor(now / 1000)
  if (second !== cachedSecond) {
    cachedSecond = second
    cached = new Date(second * 1000).toUTCString()
  }
  return cached
}

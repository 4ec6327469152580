/**
 * Byte classes of the HTTP/1.1 grammar (RFC 9110 §5.6, RFC 9112), as 256-entry lookup tables.
 *
 * The parser classifies each byte with one indexed load (`TCHAR[b] === 1`): no regex, no string
 * built per byte. Every table is frozen in spirit: built once at module load, never written after.
 */

export const CR = 0x0d
export const LF = 0x0a
export const SP = 0x20
export const HTAB = 0x09
export const COLON = 0x3a
export const SEMICOLON = 0x3b
export const EQUALS = 0x3d
export const DQUOTE = 0x22
export const BACKSLASH = 0x5c

function table(accepts: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256)
  for (let b = 0; b < 256; b++) t[b] = accepts(b) ? 1 : 0
  return t
}

const isAlpha = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39
const isVchar = (b: number): boolean => b >= 0x21 && b <= 0x7e

/** tchar (RFC 9110 §5.6.2): the characters of a token — methods, field names, codings. */
export const TCHAR: Uint8Array = table((b) => isAlpha(b) || isDigit(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)))

/**
 * field-vchar / SP / HTAB (RFC 9110 §5.5): what may appear inside a field value. obs-text (0x80–0xFF)
 * is accepted and decoded as latin1; CTLs (including NUL, bare CR and LF) and DEL are not.
 */
export const FIELD_CONTENT: Uint8Array = table((b) => isVchar(b) || b === SP || b === HTAB || b >= 0x80)

/**
 * The bytes accepted in a request-target (RFC 9112 §3.2, RFC 3986): visible ASCII except `#` (a fragment is
 * never sent). Everything else — whitespace, CTLs, non-ASCII — is rejected rather than guessed at.
 */
export const TARGET_CHAR: Uint8Array = table((b) => isVchar(b) && b !== 0x23)

/**
 * The bytes accepted in a Host field value (RFC 9110 §7.2: uri-host [":" port]): unreserved, sub-delims,
 * pct-encoded, `:` and the IP-literal brackets. `/ ? # @ \` and whitespace are rejected (host injection).
 */
export const HOST_CHAR: Uint8Array = table(
  (b) => isAlpha(b) || isDigit(b) || "-._~!$&'()*+,;=:[]%".includes(String.fromCharCode(b)),
)

/** reason-phrase (RFC 9112 §4): HTAB / SP / VCHAR / obs-text. */
export const REASON_CHAR: Uint8Array = FIELD_CONTENT

/** qdtext (RFC 9110 §5.6.4): HTAB / SP / 0x21 / 0x23–0x5B / 0x5D–0x7E / obs-text. */
export const QDTEXT: Uint8Array = table((b) => b === HTAB || b === SP || b === 0x21 || (b >= 0x23 && b <= 0x5b) || (b >= 0x5d && b <= 0x7e) || b >= 0x80)

/** HEXDIG values: 0–15 for a hex digit, 255 otherwise. */
export const HEX_VALUE: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(255)
  for (let i = 0; i < 10; i++) t[0x30 + i] = i
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i
    t[0x61 + i] = 10 + i
  }
  return t
})()

/** True for SP and HTAB (OWS / BWS, RFC 9110 §5.6.3). */
export function isWhitespace(b: number): boolean {
  return b === SP || b === HTAB
}

/**
 * A small, strict HTTP/1.1 response parser for tests: it reads what a server really put on the
 * wire, so a test can assert status, headers and framing byte for byte.
 *
 * Contract: pure — bytes in, a closed union out, no socket inside. It is re-run on the bytes
 * accumulated so far and answers `incomplete` until one whole response is there, then `complete`
 * with how many bytes it took (the rest belongs to the next response). It is deliberately
 * stricter than a production client: bare LF, obsolete line folding, whitespace before a colon,
 * conflicting `Content-Length`, or `Content-Length` next to `Transfer-Encoding` are `invalid`,
 * because a test should see such rendering bugs rather than have them forgiven.
 */

/** One parsed response, exactly as received. */
export interface RawResponse {
  /** The protocol version of the status line, e.g. `HTTP/1.1`. */
  readonly version: string
  readonly status: number
  /** The reason phrase ('' when absent). */
  readonly reason: string
  /** Header values by lower-cased name, in order; a repeated header keeps every value. */
  readonly headers: Readonly<Record<string, readonly string[]>>
  /** Header lines as received: name in its original case, value without surrounding whitespace. */
  readonly rawHeaders: readonly (readonly [string, string])[]
  /** The body, de-chunked when chunked. */
  readonly body: Buffer
  /** Trailer fields of a chunked body by lower-cased name (empty otherwise). */
  readonly trailers: Readonly<Record<string, readonly string[]>>
  /** How the end of the body was found (RFC 9112 §6.3). */
  readonly framing: ResponseFraming
  /** Every byte of the response: status line, header section and body as framed on the wire. */
  readonly raw: Buffer
}

/** How a response body is delimited. */
export type ResponseFraming = 'none' | 'content-length' | 'chunked' | 'until-close'

/** The outcome of parsing the bytes received so far. */
export type ResponseParse =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'complete'; readonly response: RawResponse; readonly consumed: number }
  | { readonly kind: 'invalid'; readonly reason: string }

/** Options of {@link parseResponse}. */
export interface ParseResponseOptions {
  /** The method of the request answered; a response to `HEAD` has no body (RFC 9110 §9.3.2). */
  readonly requestMethod?: string
  /** The peer has closed its side: a body delimited by the close is complete. */
  readonly atEof?: boolean
}

/** Status line plus header section larger than this is `invalid` (a test guard; RFC 9112 §2.3 leaves the limit to us). */
export const MAX_HEAD_BYTES = 64 * 1024
/** A chunk-size line (size and extensions) longer than this is `invalid` (RFC 9112 §7.1.1 extensions are unbounded; we are not). */
export const MAX_CHUNK_LINE_BYTES = 4 * 1024

const CRLF = Buffer.from('\r\n')
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
const CHUNK_LINE = /^([0-9A-Fa-f]+)(?:[\t ]*;.*)?$/

type Invalid = Extract<ResponseParse, { kind: 'invalid' }>
const INCOMPLETE: ResponseParse = { kind: 'incomplete' }
const invalid = (reason: string): Invalid => ({ kind: 'invalid', reason })

/** Parse one response from the start of `bytes`. */
export function parseResponse(bytes: Buffer, options: ParseResponseOptions = {}): ResponseParse {
  const head = readHead(bytes)
  if (head.kind !== 'head') return head
  const { version, status, reason, rawHeaders, headers, bodyStart } = head
  const framing = framingOf(status, headers, options.requestMethod)
  if (framing.kind === 'invalid') return framing
  const done = (body: Buffer, end: number, trailers: Record<string, string[]> = {}): ResponseParse => ({
    kind: 'complete',
    response: { version, status, reason, headers, rawHeaders, body, trailers, framing: framing.kind, raw: bytes.subarray(0, end) },
    consumed: end,
  })
  switch (framing.kind) {
    case 'none':
      return done(Buffer.alloc(0), bodyStart)
    case 'content-length': {
      const end = bodyStart + framing.length
      return bytes.length < end ? INCOMPLETE : done(Buffer.from(bytes.subarray(bodyStart, end)), end)
    }
    case 'until-close':
      return options.atEof === true ? done(Buffer.from(bytes.subarray(bodyStart)), bytes.length) : INCOMPLETE
    case 'chunked': {
      const chunked = readChunked(bytes, bodyStart)
      if (chunked.kind !== 'chunked') return chunked
      return done(chunked.body, chunked.end, chunked.trailers)
    }
  }
}

interface Head {
  readonly kind: 'head'
  readonly version: string
  readonly status: number
  readonly reason: string
  readonly rawHeaders: [string, string][]
  readonly headers: Record<string, string[]>
  readonly bodyStart: number
}

/** Lines of `bytes` from `start` up to the first empty line; each must end in CRLF. */
function readLines(bytes: Buffer, start: number, limit: number, what: string): { lines: string[]; end: number } | ResponseParse {
  const lines: string[] = []
  let pos = start
  for (;;) {
    const eol = bytes.indexOf(CRLF, pos)
    const lineEnd = eol < 0 ? bytes.length : eol
    const bareLf = bytes.subarray(pos, lineEnd).indexOf(0x0a)
    if (bareLf >= 0) return invalid(`bare LF in the ${what} at byte ${pos + bareLf} (RFC 9112 §2.2)`)
    if (eol < 0) return bytes.length - start > limit ? invalid(`${what} exceeds ${limit} bytes`) : INCOMPLETE
    if (eol + 2 - start > limit) return invalid(`${what} exceeds ${limit} bytes`)
    if (eol === pos) return { lines, end: eol + 2 }
    lines.push(bytes.toString('latin1', pos, eol))
    pos = eol + 2
  }
}

function readHead(bytes: Buffer): Head | ResponseParse {
  const read = readLines(bytes, 0, MAX_HEAD_BYTES, 'response head')
  if ('kind' in read) return read
  const [statusLine, ...fieldLines] = read.lines
  if (statusLine === undefined) return invalid('empty line where the status line was expected')
  const m = STATUS_LINE.exec(statusLine)
  if (m === null) return invalid(`malformed status line ${JSON.stringify(statusLine)} (RFC 9112 §4)`)
  const fields = parseFields(fieldLines)
  if (!Array.isArray(fields)) return fields
  return {
    kind: 'head',
    version: `HTTP/${m[1]}.${m[2]}`,
    status: Number(m[3]),
    reason: m[4] ?? '',
    rawHeaders: fields,
    headers: byName(fields),
    bodyStart: read.end,
  }
}

function parseFields(lines: readonly string[]): [string, string][] | ResponseParse {
  const fields: [string, string][] = []
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) return invalid(`obsolete line folding in ${JSON.stringify(line)} (RFC 9112 §5.2)`)
    const colon = line.indexOf(':')
    const name = colon < 0 ? '' : line.slice(0, colon)
    if (!FIELD_NAME.test(name)) return invalid(`malformed field line ${JSON.stringify(line)} (RFC 9112 §5.1)`)
    const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '')
    if (!FIELD_VALUE.test(value)) return invalid(`invalid characters in field ${name} (RFC 9110 §5.5)`)
    fields.push([name, value])
  }
  return fields
}

function byName(fields: readonly (readonly [string, string])[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null)
  for (const [name, value] of fields) (out[name.toLowerCase()] ??= []).push(value)
  return out
}

type Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'content-length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'until-close' }

/** The body framing of a response, RFC 9112 §6.3 in order. */
function framingOf(status: number, headers: Record<string, string[]>, requestMethod: string | undefined): Framing | Invalid {
  if (requestMethod?.toUpperCase() === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) return { kind: 'none' }
  const te = headers['transfer-encoding']
  const cl = headers['content-length']
  if (te !== undefined) {
    if (cl !== undefined) return invalid('both Transfer-Encoding and Content-Length (RFC 9112 §6.2)')
    const codings = te.join(',').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '')
    return codings[codings.length - 1] === 'chunked' ? { kind: 'chunked' } : { kind: 'until-close' }
  }
  if (cl !== undefined) {
    const values = new Set(cl.join(',').split(',').map((v) => v.trim()))
    const [only] = values
    if (values.size !== 1 || only === undefined || !/^\d+$/.test(only)) return invalid(`bad Content-Length ${JSON.stringify(cl)} (RFC 9110 §8.6)`)
    return { kind: 'content-length', length: Number(only) }
  }
  return { kind: 'until-close' }
}

/** A chunked body from `start`: chunks, last-chunk, trailer section (RFC 9112 §7.1). */
function readChunked(
  bytes: Buffer,
  start: number,
): { kind: 'chunked'; body: Buffer; end: number; trailers: Record<string, string[]> } | ResponseParse {
  const parts: Buffer[] = []
  let pos = start
  for (;;) {
    const eol = bytes.indexOf(CRLF, pos)
    if (eol < 0) return bytes.length - pos > MAX_CHUNK_LINE_BYTES ? invalid(`chunk-size line exceeds ${MAX_CHUNK_LINE_BYTES} bytes`) : INCOMPLETE
    const line = bytes.toString('latin1', pos, eol)
    const m = CHUNK_LINE.exec(line)
    if (m === null || line.includes('\n')) return invalid(`malformed chunk-size line ${JSON.stringify(line)} (RFC 9112 §7.1)`)
    const size = parseInt(m[1] ?? '', 16)
    if (!Number.isSafeInteger(size)) return invalid(`chunk size ${m[1]} is too large`)
    pos = eol + 2
    if (size === 0) break
    if (bytes.length < pos + size + 2) return INCOMPLETE
    if (bytes[pos + size] !== 0x0d || bytes[pos + size + 1] !== 0x0a) return invalid(`chunk data not followed by CRLF at byte ${pos + size}`)
    parts.push(bytes.subarray(pos, pos + size))
    pos += size + 2
  }
  const trailer = readLines(bytes, pos, MAX_HEAD_BYTES, 'trailer section')
  if ('kind' in trailer) return trailer
  const fields = parseFields(trailer.lines)
  if (!Array.isArray(fields)) return fields
  return { kind: 'chunked', body: Buffer.concat(parts), end: trailer.end, trailers: byName(fields) }
}

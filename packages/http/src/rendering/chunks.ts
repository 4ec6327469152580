/**
 * Chunk frames rendered once for bytes that many responses send unchanged (an SSE event broadcast
 * to every subscriber): the bytes are marked with {@link shareChunk}, the first chunked response
 * that sends them renders their frame, and every other one reuses it.
 */

/** Marked bytes → their frame (null until a response first needs it). */
const frames = new WeakMap<Uint8Array, Uint8Array | null>()

const CRLF = Buffer.from('\r\n', 'latin1')

/** One chunk of a chunked body (size line, data, CRLF); empty data renders nothing. */
export function renderChunk(data: Uint8Array): Uint8Array {
  if (data.length === 0) return new Uint8Array(0)
  const shared = frames.get(data)
  if (shared !== undefined) return shared ?? frameOf(data, true)
  return frameOf(data, false)
}

function frameOf(data: Uint8Array, share: boolean): Uint8Array {
  const size = `${data.length.toString(16)}\r\n`
  const out = Buffer.allocUnsafe(size.length + data.length + 2)
  out.write(size, 0, 'latin1')
  out.set(data, size.length)
  out.set(CRLF, size.length + data.length)
  if (share) frames.set(data, out)
  return out
}

/** See {@link HttpEntity.sharedChunk}. */
export function shareChunk(data: Uint8Array): Uint8Array {
  if (!frames.has(data)) frames.set(data, null)
  return data
}

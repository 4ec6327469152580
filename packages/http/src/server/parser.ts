/**
 * The request parser as the server connection drives it, with the server settings' limits.
 */
import { MAX_FIELD_LINE_SIZE, RequestParser } from '../parsing/index.js'
import type { RequestEvent } from '../parsing/events.js'
import type { RequestParserLike } from './ServerConnectionStage.js'
import type { ServerSettings } from './ServerSettings.js'

const NOTHING = new Uint8Array(0)

export function requestParserFactory(s: ServerSettings): () => RequestParserLike {
  const limits = Object.freeze({
    maxRequestTargetLength: s.maxUriLength,
    maxHeaderCount: s.maxHeaderCount,
    maxHeaderSectionSize: s.maxHeaderSize,
    maxFieldLineSize: Math.min(s.maxHeaderSize, MAX_FIELD_LINE_SIZE),
    maxBodySize: s.maxContentLength,
  })
  return () => new ServerRequestParser(new RequestParser(limits))
}

class ServerRequestParser implements RequestParserLike {
  constructor(readonly p: RequestParser) {}
  feed(chunk: Uint8Array): readonly RequestEvent[] {
    return this.p.feed(chunk)
  }
  end(): readonly RequestEvent[] {
    return this.p.feedEnd()
  }
  resume(): readonly RequestEvent[] {
    const p = this.p
    if (p.state !== 'upgrade-pending') return []
    p.resume()
    return p.feed(NOTHING)
  }
  detach(): readonly Uint8Array[] {
    return this.p.detach()
  }
}

/**
 * The HTTP/1.1 message parsers: pure and incremental (bytes in, a closed union of events out), strict per
 * RFC 9112 / RFC 9110, every limit configurable. See Http1Parser.ts for the driving protocol.
 */
export { RequestParser } from './RequestParser.js'
export { ResponseParser } from './ResponseParser.js'
export type { AfterMessage, Http1Parser, ParserState } from './Http1Parser.js'
export { HeaderList, MESSAGE_END } from './events.js'
export type {
  BodyFraming, BodyPart, HttpVersion, MessageEnd, MessageEvent, ParseFailure, RequestEvent, RequestStart, ResponseEvent, ResponseStart,
  TrailerSection,
} from './events.js'
export * from './limits.js'

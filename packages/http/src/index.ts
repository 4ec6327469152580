/**
 * @weir/http — HTTP/1.1 built from weir stages. The TCP edge comes first: `Tcp.bind` and
 * `Tcp.outgoingConnection` turn sockets into streams whose endings say how the peer left; the
 * server (`Http.newServerAt`) is built on them, and routes (`path`, `get`, `entity`, …) are served
 * with `bindRoute`.
 */
export { Tcp, IncomingConnection, type ServerBinding, type BindOptions, type OutgoingConnectionOptions } from './tcp/Tcp.js'
export { TcpConnection, TcpConnectionStage, type CloseInfo, type CloseReason, type TcpConnectionOptions } from './tcp/TcpConnectionStage.js'
export { TcpError, ConnectionResetError, SocketError, ConnectError, ConnectTimeoutError, BindError } from './tcp/errors.js'
export { Http, ServerBuilder, type Handler, type HttpServerBinding } from './server/Http.js'
export { serverSettings, serverSettingsSpec, type ServerSettings, type ServerSettingsInput } from './server/ServerSettings.js'
export { InvalidSettingError } from './settings/codecs.js'
export { setRequestTimeout } from './server/requestControl.js'
export { ClientGone, type ClientGoneReason } from './server/ClientGone.js'
export { LingerTimeoutError } from './server/ServerConnectionStage.js'
export { Headers } from './model/Headers.js'
export { HttpEntity, EntityTooLargeError, type StrictEntity, type StreamedEntity } from './model/HttpEntity.js'
export { HttpRequest, HttpResponse, STATUS_TEXT, type HttpVersion } from './model/HttpMessage.js'
export { channels as diagnosticsChannels, ServerCounters, WireTrace, type ServerCloseReason, type WireTraceEntry } from './diagnostics.js'
export { stripHopByHop, HOP_BY_HOP } from './rendering/hopByHop.js'
export { ResponseRenderingError } from './rendering/errors.js'
export * from './parsing/index.js'
export { HttpError, HttpParseError, IllegalParserStateError, PARSE_FAILURES, HTTP_ERROR_CODES } from './errors.js'
export { ClientConnectionStage, keepAliveHintMs, type ClientConnectionHooks, type ClientConnectionContext } from './client/ClientConnectionStage.js'
export { clientSettings, clientSettingsSpec, poolSettings, poolSettingsSpec, type ClientSettings, type ClientSettingsInput, type PoolSettings, type PoolSettingsInput } from './client/ClientSettings.js'
export { clientChannels, type PoolCloseReason } from './client/diagnostics.js'
export {
  HttpClientError, ResetBeforeResponseError, ClosedBeforeResponseError, ResponseTimeoutError, ClientIdleTimeoutError, ResponseTruncatedError,
  ConnectionAbortedError, PoolOverflowError, PoolShutDownError, InvalidRequestError,
} from './client/errors.js'
export { HttpClient, type ClientOptions } from './client/HttpClient.js'
export { originOf, defaultTransport, clientConnectionFlow, type Origin, type ClientTransport } from './client/outgoing.js'
export { HostConnectionPool, type PoolOptions, type PoolStats } from './pool/HostConnectionPool.js'
export { renderRequestHead, requestFramingOf, originForm, type RequestFraming, type RequestRenderContext } from './rendering/renderRequest.js'
export { Compression, CONTENT_CODINGS, DEFAULT_BROTLI_QUALITY, DEFAULT_ZLIB_LEVEL, type CompressOptions, type DecompressOptions } from './coding/Compression.js'
export { DecodingError, EncodingError, UnsupportedEncodingError, type ContentCoding, type UnsupportedEncodingReason } from './coding/errors.js'
export { parseAcceptEncoding, negotiateEncoding, type AcceptEncodingEntry, type EncodingChoice } from './coding/negotiation.js'
export { isCompressible, type EncodeOptions, type DecodeOptions } from './coding/options.js'
export { encodeResponse } from './coding/encodeResponse.js'
export { decodeRequest, requestCodings, parseContentEncoding, unsupportedEncodingResponse } from './coding/decodeRequest.js'
export { Coding, decodingFailureResponse, type CodingHandlerOptions } from './coding/Coding.js'
export * from './routing/index.js'
export { UpgradeResponse, type UpgradedConnection, type UpgradedControl } from './server/upgrade.js'
export { WebSocket, type WebSocketOptions } from './websocket/WebSocket.js'
export { Message, type TextMessage, type BinaryMessage, type StrictMessage, type StrictTextMessage, type StrictBinaryMessage, type StreamedTextMessage, type StreamedBinaryMessage } from './websocket/Message.js'
export { webSocketSettings, webSocketSettingsSpec, type WebSocketSettings, type WebSocketSettingsInput } from './websocket/WebSocketSettings.js'
export { WebSocketError, PongTimeoutError, WebSocketClosedError, WebSocketProtocolError, WebSocketClosed, type ClosedBy, type WebSocketCloseInfo } from './websocket/errors.js'
export { checkHandshake, isWebSocketUpgrade, WEBSOCKET_VERSION, type HandshakeCheck, type HandshakeProblem } from './websocket/handshake.js'
export { channels as webSocketChannels } from './websocket/diagnostics.js'

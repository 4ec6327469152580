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
export * from './routing/index.js'

/**
 * @weir/http — HTTP/1.1 built from weir stages. The TCP edge comes first: `Tcp.bind` and
 * `Tcp.outgoingConnection` turn sockets into streams whose endings say how the peer left.
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
export { HttpRequest, HttpResponse, STATUS_TEXT, type HttpVersion, type RequestConnection } from './model/HttpMessage.js'
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
export { HostConnectionPool, type PoolOptions, type PoolStats, type PoolRequestOptions } from './pool/HostConnectionPool.js'
export { renderRequestHead, requestFramingOf, originForm, type RequestFraming, type RequestContext } from './rendering/renderRequest.js'
export { Proxy, type ProxyOptions, type ProxyHandler, type ForwardOptions, type ForwardedRequest } from './proxy/Proxy.js'
export { forwardRequestHeaders, forwardResponseHeaders, appendToList, type ForwardedFields, type RequestHeaderContext } from './proxy/headers.js'
export { classifyUpstreamFailure, failureResponse, type UpstreamFailure, type UpstreamFailureKind } from './proxy/failures.js'
export { proxyChannels } from './proxy/diagnostics.js'

/**
 * @weir/http — HTTP/1.1 built from weir stages. The TCP edge comes first: `Tcp.bind` and
 * `Tcp.outgoingConnection` turn sockets into streams whose endings say how the peer left.
 */
export { Tcp, IncomingConnection, type ServerBinding, type BindOptions, type OutgoingConnectionOptions } from './tcp/Tcp.js'
export { TcpConnection, TcpConnectionStage, type CloseInfo, type CloseReason, type TcpConnectionOptions } from './tcp/TcpConnectionStage.js'
export { TcpError, ConnectionResetError, SocketError, ConnectError, ConnectTimeoutError, BindError } from './tcp/errors.js'

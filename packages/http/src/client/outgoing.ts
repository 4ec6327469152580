/**
 * An outgoing HTTP/1.1 connection as one flow: `HttpRequest ~> ClientConnectionStage ⇄ TCP (or TLS) ~> HttpResponse`.
 * `Http.outgoingConnection` and every pooled connection are built here. A custom transport (a Unix socket, a
 * fault-injecting test socket) can replace the TCP flow.
 */
import { BidiFlow, type Flow } from '@weir/core'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import type { HttpRequest, HttpResponse } from '../model/HttpMessage.js'
import { Tcp } from '../tcp/Tcp.js'
import { newConnectionId } from '../tcp/TcpConnectionStage.js'
import { ClientConnectionStage, type ClientConnectionHooks } from './ClientConnectionStage.js'
import type { ClientSettings } from './ClientSettings.js'
import { InvalidRequestError } from './errors.js'

/** Where requests go: scheme, host and port of a server. */
export interface Origin {
  readonly scheme: 'http' | 'https'
  readonly host: string
  readonly port: number
  /** `host[:port]` as the `Host` header says it (the port omitted when it is the scheme's default). */
  readonly authority: string
  /** `scheme://authority`, the key of a shared pool. */
  readonly key: string
}

/** The origin of an absolute URL (`http://host:port/...`); throws InvalidRequestError for anything else. */
export function originOf(url: string): Origin {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new InvalidRequestError(`Not an absolute http(s) URL: ${JSON.stringify(url)}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidRequestError(`Unsupported scheme ${u.protocol} in ${JSON.stringify(url)}`)
  const scheme = u.protocol === 'https:' ? 'https' : 'http'
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  const port = u.port === '' ? (scheme === 'https' ? 443 : 80) : Number(u.port)
  return { scheme, host, port, authority: u.host, key: `${scheme}://${u.host}` }
}

/** A byte transport to an origin: what the client connection runs over. */
export type ClientTransport = (origin: Origin, connectingTimeoutMs: number) => Flow<Uint8Array, Uint8Array, unknown>

/** TCP, or TLS for https (with `tls` options such as `ca`, `rejectUnauthorized`). */
export function defaultTransport(tls: TlsConnectionOptions = {}): ClientTransport {
  return (origin, connectingTimeoutMs) =>
    origin.scheme === 'https'
      ? Tcp.outgoingTlsConnection(origin.host, origin.port, tls, { connectTimeout: connectingTimeoutMs })
      : Tcp.outgoingConnection(origin.host, origin.port, { connectTimeout: connectingTimeoutMs })
}

/** One client connection to `origin` as a flow of requests to responses. */
export function clientConnectionFlow(
  origin: Origin,
  settings: ClientSettings,
  transport: ClientTransport,
  hooks?: ClientConnectionHooks,
  id: number = newConnectionId(),
): Flow<HttpRequest, HttpResponse, unknown> {
  const stage = new ClientConnectionStage({ id, remote: `${origin.host}:${origin.port}`, authority: origin.authority, settings, hooks })
  return BidiFlow.fromGraph(stage).joinMat(transport(origin, settings.connectingTimeout), (_l, r) => r)
}

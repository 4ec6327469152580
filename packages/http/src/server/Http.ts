/**
 * The server entry point:
 *
 * ```ts
 * const binding = await Http.newServerAt('127.0.0.1', 8080)
 *   .withSettings({ idleTimeout: '75s', requestTimeout: '20s' })
 *   .bind(async (req) => HttpResponse.text('Hello, World!'))   // or .bindFlow(flow)
 * await binding.terminate('10s')                                // graceful, with a hard deadline
 * ```
 *
 * A route (see `routing/`) is served with `.bindRoute(route)`.
 *
 * Each accepted connection is one materialized graph:
 * `socket ⇄ TCP stage ⇄ ServerConnectionStage ⇄ handler flow`.
 * A connection that switches protocols (an {@link UpgradeResponse}, e.g. a WebSocket) leaves that
 * graph: its socket is handed to the new protocol, and the server keeps tracking it (counters,
 * termination) until the new protocol reports it closed.
 */
import { BidiFlow, Flow, Sink, defaultMaterializer, toMillis, type Duration, type Materializer } from '@weir/core'
import { ServerCounters, WireTrace, type ServerCloseReason } from '../diagnostics.js'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'
import type { TlsOptions } from 'node:tls'
import { Tcp, type IncomingConnection } from '../tcp/Tcp.js'
import { handlerFailureResponse } from './errorResponses.js'
import { ServerConnectionStage, type RequestParserLike } from './ServerConnectionStage.js'
import { serverSettings, type ServerSettings, type ServerSettingsInput } from './ServerSettings.js'
import { requestParserFactory } from './parser.js'
import { HttpClient } from '../client/HttpClient.js'
import { Route, type RouteHandlerOptions } from '../routing/sealing.js'
import type { UpgradedConnection, UpgradeResponse } from './upgrade.js'

export type Handler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse

interface LiveConnection {
  readonly id: number
  control?: (mode: 'graceful' | 'abort') => void
  readonly trace: WireTrace | undefined
}

/** A running server. */
export interface HttpServerBinding {
  readonly host: string
  readonly port: number
  readonly settings: ServerSettings
  /** Counters: connections accepted/open, requests, closes by reason. */
  counters(): ReturnType<ServerCounters['snapshot']>
  /** Wire traces of connections that had tracing on (`traceConnections` option), by connection id. */
  traces(): ReadonlyMap<number, WireTrace>
  /** Stop accepting new connections; live ones go on. */
  unbind(): Promise<void>
  /**
   * Graceful termination: stop accepting, let in-flight requests finish (their responses say
   * `Connection: close`), close idle connections gracefully, and destroy whatever is left at the
   * hard deadline. Resolves when every connection is closed.
   */
  terminate(hardDeadline: Duration): Promise<void>
}

export class ServerBuilder {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly settingsInput: ServerSettingsInput = {},
    readonly materializer: Materializer | undefined = undefined,
    readonly traceConnections = false,
    readonly tls: TlsOptions | undefined = undefined,
  ) {}

  withSettings(settings: ServerSettingsInput): ServerBuilder {
    return new ServerBuilder(this.host, this.port, { ...this.settingsInput, ...settings }, this.materializer, this.traceConnections, this.tls)
  }
  withMaterializer(materializer: Materializer): ServerBuilder {
    return new ServerBuilder(this.host, this.port, this.settingsInput, materializer, this.traceConnections, this.tls)
  }
  /** Record a wire trace of every connection (bounded; for debugging, not for production load). */
  withWireTrace(enabled = true): ServerBuilder {
    return new ServerBuilder(this.host, this.port, this.settingsInput, this.materializer, enabled, this.tls)
  }
  /** Serve HTTPS: `key`, `cert` and the other options of `node:tls`. The connection graph is the same. */
  enableHttps(tls: TlsOptions): ServerBuilder {
    return new ServerBuilder(this.host, this.port, this.settingsInput, this.materializer, this.traceConnections, tls)
  }

  /** Serve with an async handler; a throwing handler yields a 500 for that request. */
  async bind(handler: Handler): Promise<HttpServerBinding> {
    const settings = serverSettings(this.settingsInput)
    const logger = (this.materializer ?? defaultMaterializer()).logger
    const failed = (req: HttpRequest, e: unknown): HttpResponse => {
      logger.error(`handler failed for ${req.method} ${req.target}`, e)
      return handlerFailureResponse()
    }
    // a handler that answers synchronously costs no promise: mapAsync emits plain values at once
    const safe = (req: HttpRequest): HttpResponse | PromiseLike<HttpResponse> => {
      let r: HttpResponse | PromiseLike<HttpResponse>
      try {
        r = handler(req)
      } catch (e) {
        return failed(req, e)
      }
      return r instanceof HttpResponse ? r : Promise.resolve(r).then(undefined, (e: unknown) => failed(req, e))
    }
    return this.bindFlow(Flow.create<HttpRequest>().mapAsync(settings.pipeliningLimit, safe))
  }

  /**
   * Serve a route: rejections and exceptions become responses through the (replaceable) handlers in
   * `options`; entities are read with this server's materializer.
   */
  async bindRoute(route: Route, options: RouteHandlerOptions = {}): Promise<HttpServerBinding> {
    return this.bind(Route.handler(route, { materializer: this.materializer, ...options }))
  }

  /** Serve with a flow of requests to responses (responses in request order). */
  async bindFlow(handler: Flow<HttpRequest, HttpResponse, any>): Promise<HttpServerBinding> {
    const settings = serverSettings(this.settingsInput) // fails before anything listens
    const mat = this.materializer ?? defaultMaterializer()
    const counters = new ServerCounters()
    const live = new Map<number, LiveConnection>()
    const traces = new Map<number, WireTrace>()
    let terminating = false
    let allClosed: (() => void) | undefined
    const parser: () => RequestParserLike = requestParserFactory(settings)

    const accept = (c: IncomingConnection): void => {
      if (terminating || live.size >= settings.maxConnections) {
        counters.connectionsAccepted++
        counters.connectionsOpen++
        counters.closed('max-connections')
        return c._discard()
      }
      const trace = this.traceConnections ? new WireTrace() : undefined
      if (trace !== undefined) traces.set(c.id, trace)
      const entry: LiveConnection = { id: c.id, trace }
      live.set(c.id, entry)
      const stage = new ServerConnectionStage({
        id: c.id,
        get remote() {
          return c.connection.remote // read only when a diagnostic needs it (two system calls)
        },
        get remoteAddress() {
          return c.connection.remoteAddress // read only when a handler asks (then kept)
        },
        secure: this.tls !== undefined,
        settings,
        counters,
        parser,
        trace,
        registerControl: (control) => {
          entry.control = control
          if (terminating) control('graceful')
        },
        onClosed: (reason: ServerCloseReason) => {
          if (reason !== 'upgraded') release()
        },
        handOver: (upgrade: UpgradeResponse, request: HttpRequest, head: readonly Uint8Array[]) => {
          counters.upgradedOpen++
          let closed = false
          const upgradedClosed = (): void => {
            if (closed) return
            closed = true
            counters.upgradedOpen--
            release()
          }
          entry.control = undefined
          c.connection._handOver((socket, unread) => {
            const conn: UpgradedConnection = {
              id: c.id,
              request,
              socket,
              head: Buffer.concat([...head, ...unread]),
              materializer: mat,
              registerControl: (control) => {
                entry.control = control
                if (terminating) control('graceful')
              },
              closed: upgradedClosed,
            }
            try {
              upgrade.takeOver(conn)
            } catch (e) {
              mat.logger.error(`connection ${c.id}: taking over the upgraded connection failed`, e)
              socket.destroy()
              upgradedClosed()
            }
          })
          // the socket may close before the TCP stage could hand it over: then nobody else reports it
          void c.connection.closed.then((info) => {
            if (info.reason !== 'handed-over') upgradedClosed()
          })
        },
      })
      const release = (): void => {
        live.delete(c.id)
        if (live.size === 0) allClosed?.()
      }
      c.handleWith(BidiFlow.fromGraph(stage).join(handler), mat)
    }

    const bindOptions = {
      bindTimeout: settings.bindTimeout,
      closeTimeoutMs: Number.isFinite(settings.lingerTimeout) ? settings.lingerTimeout + 1000 : 10_000,
    }
    const connections = this.tls === undefined ? Tcp.bind(this.host, this.port, bindOptions) : Tcp.bindTls(this.host, this.port, this.tls, bindOptions)
    const tcp = await connections.to(Sink.foreach(accept)).run(mat)

    return {
      host: tcp.host,
      port: tcp.port,
      settings,
      counters: () => counters.snapshot(),
      traces: () => traces,
      unbind: () => tcp.unbind(),
      terminate: async (hardDeadline: Duration) => {
        const deadline = toMillis(hardDeadline, 'hardDeadline')
        terminating = true
        await tcp.unbind()
        if (live.size === 0) return
        const done = new Promise<void>((resolve) => (allClosed = resolve))
        for (const c of live.values()) c.control?.('graceful')
        // at the hard deadline, whatever did not close gracefully is destroyed
        const hard = mat.scheduler.scheduleOnce(deadline, () => {
          if (live.size > 0) mat.logger.warn(`terminate: destroying ${live.size} connection(s) still open at the hard deadline`)
          for (const c of [...live.values()]) c.control?.('abort')
        })
        await done
        hard.cancel()
      },
    }
  }
}

export const Http = {
  /** A server on `host:port` (port 0: any free port, see the binding). */
  newServerAt(host: string, port: number): ServerBuilder {
    return new ServerBuilder(host, port)
  },
  ...HttpClient,
}

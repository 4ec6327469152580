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
 * `socket ⇄ TCP stage ⇄ ServerConnectionStage ⇄ handler flow`, all from one blueprint per binding.
 * A connection that switches protocols (an {@link UpgradeResponse}, e.g. a WebSocket) leaves that
 * graph: its socket is handed to the new protocol, and the server keeps tracking it (counters,
 * termination) until the new protocol reports it closed.
 */
import { BidiFlow, Flow, Keep, Sink, SlotSet, defaultMaterializer, toMillis, type Duration, type Materializer, type Slotted } from '@weir/core'
import { ServerCounters, WireTrace, type ServerCloseReason } from '../diagnostics.js'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'
import type { TlsOptions } from 'node:tls'
import { Tcp, type IncomingConnection } from '../tcp/Tcp.js'
import { handlerFailureResponse } from './errorResponses.js'
import { SharedServerConnectionStage, type ConnectionContext, type RequestParserLike } from './ServerConnectionStage.js'
import { AdoptingTcpConnectionStage } from '../tcp/TcpConnectionStage.js'
import { ConnectionTimers, firstTimeout } from './connectionTimers.js'
import { serverSettings, type ServerSettings, type ServerSettingsInput } from './ServerSettings.js'
import { requestParserFactory } from './parser.js'
import { HttpClient } from '../client/HttpClient.js'
import { Route, type RouteHandlerOptions } from '../routing/sealing.js'
import type { UpgradedConnection, UpgradeResponse } from './upgrade.js'

export type Handler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse

/** What the connections of one binding share. */
interface BindingState {
  readonly settings: ServerSettings
  readonly counters: ServerCounters
  readonly parser: () => RequestParserLike
  readonly secure: boolean
  readonly materializer: Materializer
  /** The first timer of every connection (see connectionTimers.ts). */
  readonly timers: ConnectionTimers
  /** The connections open (HTTP or upgraded). */
  readonly live: SlotSet<ServedConnection>
  terminating: boolean
  /** Resolves `terminate` once the last connection closed. */
  allClosed: (() => void) | undefined
}

/** One accepted connection: its context in the connection stage, and the binding's handle on it. */
class ServedConnection implements ConnectionContext, Slotted {
  readonly id: number
  /** @internal its index among the binding's live connections */
  _slot = -1
  readonly settings: ServerSettings
  readonly counters: ServerCounters
  readonly parser: () => RequestParserLike
  readonly secure: boolean
  readonly timers: ConnectionTimers
  /** Termination: close gracefully or now (set by the connection, or by the upgraded protocol). */
  control: ((mode: 'graceful' | 'abort') => void) | undefined = undefined
  constructor(
    readonly incoming: IncomingConnection,
    readonly trace: WireTrace | undefined,
    readonly binding: BindingState,
  ) {
    this.id = incoming.id
    this.settings = binding.settings
    this.counters = binding.counters
    this.parser = binding.parser
    this.secure = binding.secure
    this.timers = binding.timers
  }
  get remote(): string {
    return this.incoming.connection.remote // read only when a diagnostic needs it (two system calls)
  }
  get remoteAddress(): string {
    return this.incoming.connection.remoteAddress // read only when a handler asks (then kept)
  }
  registerControl(control: (mode: 'graceful' | 'abort') => void): void {
    this.control = control
    if (this.binding.terminating) control('graceful')
  }
  onClosed(reason: ServerCloseReason): void {
    if (reason !== 'upgraded') this.release()
  }
  release(): void {
    const live = this.binding.live
    live.delete(this)
    if (live.size === 0) this.binding.allClosed?.()
  }
  handOver(upgrade: UpgradeResponse, request: HttpRequest, head: readonly Uint8Array[]): void {
    const counters = this.counters
    const mat = this.binding.materializer
    const connection = this.incoming.connection
    counters.upgradedOpen++
    let closed = false
    const upgradedClosed = (): void => {
      if (closed) return
      closed = true
      counters.upgradedOpen--
      this.release()
    }
    this.control = undefined
    connection._handOver((socket, unread) => {
      const conn: UpgradedConnection = {
        id: this.id,
        request,
        socket,
        head: Buffer.concat([...head, ...unread]),
        materializer: mat,
        registerControl: (control) => this.registerControl(control),
        closed: upgradedClosed,
      }
      try {
        upgrade.takeOver(conn)
      } catch (e) {
        mat.logger.error(`connection ${this.id}: taking over the upgraded connection failed`, e)
        socket.destroy()
        upgradedClosed()
      }
    })
    // the socket may close before the TCP stage could hand it over: then nobody else reports it
    void connection.closed.then((info) => {
      if (info.reason !== 'handed-over') upgradedClosed()
    })
  }
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
    const live = new SlotSet<ServedConnection>()
    const traces = new Map<number, WireTrace>()

    const bindOptions = {
      bindTimeout: settings.bindTimeout,
      closeTimeoutMs: Number.isFinite(settings.lingerTimeout) ? settings.lingerTimeout + 1000 : 10_000,
    }
    // one blueprint for every connection (socket ⇄ TCP stage ⇄ connection stage ⇄ handler): its
    // materialization plan is computed once; each run is given its socket and context before it starts
    const connectionGraph = Flow.fromGraph(new AdoptingTcpConnectionStage(bindOptions)).joinMat(
      BidiFlow.fromGraph(new SharedServerConnectionStage()).join(handler),
      Keep.both,
    )
    const binding: BindingState = {
      settings,
      counters,
      parser: requestParserFactory(settings),
      secure: this.tls !== undefined,
      materializer: mat,
      timers: new ConnectionTimers(mat.scheduler, firstTimeout(settings)),
      live,
      terminating: false,
      allClosed: undefined,
    }

    const accept = (c: IncomingConnection): void => {
      if (binding.terminating || live.size >= settings.maxConnections) {
        counters.connectionsAccepted++
        counters.connectionsOpen++
        counters.closed('max-connections')
        return c._discard()
      }
      const trace = this.traceConnections ? new WireTrace() : undefined
      if (trace !== undefined) traces.set(c.id, trace)
      const entry = new ServedConnection(c, trace, binding)
      live.add(entry)
      const [tcp, server] = connectionGraph.run(mat)
      server.provide(entry)
      c._adoptInto(tcp)
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
        binding.terminating = true
        await tcp.unbind()
        if (live.size === 0) return
        const done = new Promise<void>((resolve) => (binding.allClosed = resolve))
        for (const c of live) c.control?.('graceful')
        // at the hard deadline, whatever did not close gracefully is destroyed
        const hard = mat.scheduler.scheduleOnce(deadline, () => {
          if (live.size > 0) mat.logger.warn(`terminate: destroying ${live.size} connection(s) still open at the hard deadline`)
          for (const c of live) c.control?.('abort')
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

/**
 * Requests and responses: immutable values with headers and an entity. Handlers receive an
 * `HttpRequest` and return an `HttpResponse`; the connection owns the hop-by-hop headers
 * (`Connection`, `Keep-Alive`, `Transfer-Encoding`, …) whatever a handler puts in a response.
 */
import type { Source } from '@weir/core'
import { Headers } from './Headers.js'
import { HttpEntity, type StreamedEntity } from './HttpEntity.js'

export type HttpVersion = '1.0' | '1.1'

/**
 * What the server that received a request knows about where it came from. Requests built by user code have none.
 * A derived request (`withHeaders`, `withEntity`, `withTarget`) shares its original's.
 */
export interface RequestConnection {
  /** The client's IP address, as the socket reports it (`127.0.0.1`, `::1`, `::ffff:10.0.0.7`). */
  readonly remoteAddress: string
  /** The connection was TLS. */
  readonly secure: boolean
  /**
   * Aborted, with a `ClientGone` reason, when the connection ends before the request's response was written:
   * a handler still working on it can stop (a proxy abandons its upstream request).
   */
  readonly signal: AbortSignal
}

export class HttpRequest {
  #path: string | undefined
  #query: URLSearchParams | undefined
  constructor(
    readonly method: string,
    /** The request-target as sent: origin-form `/path?query`, or absolute-form for proxies and clients. */
    readonly target: string,
    readonly headers: Headers = Headers.empty,
    readonly entity: HttpEntity = HttpEntity.empty,
    readonly version: HttpVersion = '1.1',
    /** @internal set by the serving connection: override a request's timeout (ms). */
    readonly _setTimeout: ((req: HttpRequest, ms: number) => void) | undefined = undefined,
    /** Set by the serving connection: the client's address, TLS, and a signal for the client leaving. */
    readonly connection: RequestConnection | undefined = undefined,
  ) {}

  /** The client's IP address, on a request received by a server. */
  get remoteAddress(): string | undefined {
    return this.connection?.remoteAddress
  }
  /** The request arrived over TLS. */
  get secure(): boolean {
    return this.connection?.secure ?? false
  }
  /** On a request received by a server: aborted when the client leaves before the response was written. */
  get signal(): AbortSignal | undefined {
    return this.connection?.signal
  }

  static get(target: string, headers: Headers = Headers.empty): HttpRequest {
    return new HttpRequest('GET', target, headers)
  }
  static head(target: string, headers: Headers = Headers.empty): HttpRequest {
    return new HttpRequest('HEAD', target, headers)
  }
  static delete(target: string, headers: Headers = Headers.empty): HttpRequest {
    return new HttpRequest('DELETE', target, headers)
  }
  static post(target: string, entity: HttpEntity, headers: Headers = Headers.empty): HttpRequest {
    return new HttpRequest('POST', target, headers, entity)
  }
  static put(target: string, entity: HttpEntity, headers: Headers = Headers.empty): HttpRequest {
    return new HttpRequest('PUT', target, headers, entity)
  }

  /** The path of the target (without query), percent-encoding left as sent. */
  get path(): string {
    if (this.#path === undefined) {
      let t = this.target
      if (!t.startsWith('/')) {
        // absolute-form: skip scheme://authority
        const s = t.indexOf('//')
        const p = s < 0 ? -1 : t.indexOf('/', s + 2)
        t = p < 0 ? '/' : t.slice(p)
      }
      const q = t.indexOf('?')
      this.#path = q < 0 ? t : t.slice(0, q)
    }
    return this.#path
  }
  get query(): URLSearchParams {
    if (this.#query === undefined) {
      const q = this.target.indexOf('?')
      this.#query = new URLSearchParams(q < 0 ? '' : this.target.slice(q + 1))
    }
    return this.#query
  }

  withHeaders(headers: Headers): HttpRequest {
    return new HttpRequest(this.method, this.target, headers, this.entity, this.version, this._setTimeout, this.connection)
  }
  withEntity(entity: HttpEntity): HttpRequest {
    return new HttpRequest(this.method, this.target, this.headers, entity, this.version, this._setTimeout, this.connection)
  }
  withTarget(target: string): HttpRequest {
    return new HttpRequest(this.method, target, this.headers, this.entity, this.version, this._setTimeout, this.connection)
  }
}

export class HttpResponse {
  constructor(
    readonly status: number,
    readonly headers: Headers = Headers.empty,
    readonly entity: HttpEntity = HttpEntity.empty,
  ) {}

  /** A `text/plain; charset=utf-8` response. */
  static text(text: string, status = 200, headers: Headers = Headers.empty): HttpResponse {
    return new HttpResponse(status, headers, HttpEntity.text(text))
  }
  /** An `application/json` response. */
  static json(value: unknown, status = 200, headers: Headers = Headers.empty): HttpResponse {
    return new HttpResponse(status, headers, HttpEntity.json(value))
  }
  /** A response with no body. */
  static empty(status = 204, headers: Headers = Headers.empty): HttpResponse {
    return new HttpResponse(status, headers, HttpEntity.empty)
  }
  /** A streamed response (chunked on HTTP/1.1 unless `contentLength` is given). */
  static stream(data: Source<Uint8Array, any>, options: { status?: number; contentType?: string; contentLength?: number; headers?: Headers } = {}): HttpResponse {
    const entity: StreamedEntity = HttpEntity.streamed(data, options)
    return new HttpResponse(options.status ?? 200, options.headers ?? Headers.empty, entity)
  }

  withHeaders(headers: Headers): HttpResponse {
    return new HttpResponse(this.status, headers, this.entity)
  }
  withEntity(entity: HttpEntity): HttpResponse {
    return new HttpResponse(this.status, this.headers, entity)
  }
  withStatus(status: number): HttpResponse {
    return new HttpResponse(status, this.headers, this.entity)
  }
}

/** Reason phrases for the status line. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
  206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict',
  410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 417: 'Expectation Failed', 422: 'Unprocessable Content', 426: 'Upgrade Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
}

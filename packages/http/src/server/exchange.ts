/**
 * One request/response exchange on a server connection, and the state of its request body.
 * Exchanges are created when a request head is parsed and leave the connection's queue when
 * their response was written; responses are written strictly in request order.
 */
import type { SubSourceOutlet } from '@weir/core'
import type { Headers } from '../model/Headers.js'
import type { HttpRequest, HttpResponse, HttpVersion } from '../model/HttpMessage.js'
import type { ServedRequest } from './servedRequest.js'

/** What happens to the bytes of a request body. */
export type BodyState =
  /** no body, or it was read completely */
  | { readonly kind: 'done' }
  /** collected into a strict entity from events already parsed */
  | { readonly kind: 'strict' }
  /** delivered to the handler through a sub-stream */
  | { readonly kind: 'stream'; readonly outlet: SubSourceOutlet<Uint8Array>; readonly trailers: (h: Headers) => void }
  /** read and dropped (nobody reads it, or an early response decided to drain it) */
  | { readonly kind: 'discard' }

export interface Exchange {
  readonly seq: number
  readonly method: string
  readonly target: string
  readonly version: HttpVersion
  /** The request allows the connection to persist (version default and Connection header). */
  readonly keepAlive: boolean
  readonly request: HttpRequest
  /** The request's connection info and client-gone signal (none for the server's own responses). */
  readonly served: ServedRequest | undefined
  /** The request may switch protocols (Upgrade, CONNECT): parsing waits until its response is written. */
  readonly upgrade: boolean
  /** Expect: 100-continue was sent and no 100 has been written yet. */
  expectContinue: boolean
  body: BodyState
  /** Body bytes the parser still has to deliver, when the length is known. */
  remaining: number | undefined
  /** The response from the handler (or the server's own), once it arrived. */
  response: HttpResponse | undefined
  /** The request timeout fired: the server answers 503 and drops the handler's late response. */
  timedOut: boolean
  /** The handler's response for a timed-out exchange still has to be dropped when it arrives. */
  awaitingDiscard: boolean
  /** Request timeout for this exchange in ms (the setting, or a per-request override). */
  timeoutMs: number
  /** When the request started (scheduler ms); its deadline is `startedAt + timeoutMs`. */
  readonly startedAt: number
}

export const BODY_DONE: BodyState = { kind: 'done' }
export const BODY_STRICT: BodyState = { kind: 'strict' }
export const BODY_DISCARD: BodyState = { kind: 'discard' }

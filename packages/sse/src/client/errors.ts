/**
 * Why an SSE client stream failed, each reason its own class with a stable code (WHATWG HTML §9.2.3:
 * these are the cases where a browser's EventSource "fails the connection" instead of reconnecting):
 *
 * - the server answered with a status other than 200 (and other than 204, which ends the stream cleanly):
 *   {@link SseStatusError};
 * - it answered 200 with a content type other than `text/event-stream`: {@link SseContentTypeError};
 * - a redirect could not be followed (too many, or a `Location` that is not an http(s) URL): {@link SseRedirectError};
 * - an event grew past `maxEventSize` characters before it ended: {@link SseEventTooLargeError};
 * - the server could not be reached `maxAttempts` times in a row: {@link SseAttemptsExhaustedError}, whose
 *   `cause` is the last network error.
 *
 * Every one carries `url`: the URL of the request that got the answer (after redirects).
 */
import { WeirError } from '@weir/core'

/** The family of SSE client failures. */
export class SseClientError extends WeirError {
  constructor(
    code: string,
    message: string,
    /** The URL whose answer ended the stream. */
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options)
  }
}

/** The server answered with a status that ends the stream (anything but 200, 204 and followed redirects). */
export class SseStatusError extends SseClientError {
  constructor(
    url: string,
    readonly status: number,
  ) {
    super('WEIR_SSE_CLIENT_STATUS', `Event stream ${url} answered with status ${status}, expected 200`, url)
  }
}

/** The server answered 200 with a content type other than `text/event-stream` (`undefined`: none). */
export class SseContentTypeError extends SseClientError {
  constructor(
    url: string,
    readonly contentType: string | undefined,
  ) {
    super('WEIR_SSE_CLIENT_CONTENT_TYPE', `Event stream ${url} answered with content type ${contentType === undefined ? '(none)' : JSON.stringify(contentType)}, expected text/event-stream`, url)
  }
}

/** Why a redirect was not followed. */
export type SseRedirectFailure = 'too-many' | 'bad-location'

/** A redirect could not be followed: more than `maxRedirects` in a row, or a `Location` that is not an http(s) URL. */
export class SseRedirectError extends SseClientError {
  constructor(
    url: string,
    readonly reason: SseRedirectFailure,
    /** The `Location` of the redirect that was not followed. */
    readonly location: string,
    /** Redirects followed before this one. */
    readonly redirects: number,
  ) {
    super(
      'WEIR_SSE_CLIENT_REDIRECT',
      reason === 'too-many' ? `Event stream ${url}: more than ${redirects} redirects in a row` : `Event stream ${url}: cannot follow a redirect to ${JSON.stringify(location)}`,
      url,
    )
  }
}

/** `attempts` connection attempts in a row failed with a network error; `cause` is the last one. */
export class SseAttemptsExhaustedError extends SseClientError {
  constructor(
    url: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super('WEIR_SSE_CLIENT_ATTEMPTS_EXHAUSTED', `Event stream ${url}: ${attempts} connection attempts in a row failed`, url, { cause })
  }
}

/** The event being received held more than `limit` characters (its data and unfinished line) without ending. */
export class SseEventTooLargeError extends SseClientError {
  constructor(
    url: string,
    readonly limit: number,
    readonly actual: number,
  ) {
    super('WEIR_SSE_CLIENT_EVENT_TOO_LARGE', `Event stream ${url}: an event grew past ${limit} characters (${actual}) without ending`, url)
  }
}

/**
 * The responses the server itself produces: parse errors (400, 413, 414, 431, 501, 505), the
 * request timeout (503), the header-read timeout (408), handler failures (500). Short plain-text
 * bodies that say what happened, never internal details.
 */
import { Headers } from '../model/Headers.js'
import { HttpResponse } from '../model/HttpMessage.js'

export function errorResponse(status: number, message: string): HttpResponse {
  return HttpResponse.text(`${message}\n`, status, Headers.empty)
}

export const requestTimeoutResponse = (ms: number): HttpResponse =>
  errorResponse(503, `The server was not able to produce a timely response to your request within ${ms} ms. Please try again in a short while.`)

export const headerReadTimeoutResponse = (ms: number): HttpResponse => errorResponse(408, `The request header section was not received within ${ms} ms.`)

export const handlerFailureResponse = (): HttpResponse => errorResponse(500, 'There was an internal server error.')

import { WeirError } from '@weir/core'

/** A handler's response cannot be put on the wire (bad status, header injection, …); the server answers 500 instead. */
export class ResponseRenderingError extends WeirError {
  constructor(readonly reason: string) {
    super('WEIR_HTTP_RENDERING', `Cannot render response: ${reason}`)
  }
}

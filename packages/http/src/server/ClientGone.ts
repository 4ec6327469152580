/**
 * The cancellation cause a server gives a response stream when its client went away. It is a
 * non-failure cancellation (the response source did nothing wrong), and it says how the client
 * left — which is what an SSE session reports as its close reason.
 */
import { NonFailureCancellation } from '@weir/core'

export type ClientGoneReason = 'client-fin' | 'client-rst' | 'write-error' | 'idle-timeout' | 'shutdown'

export class ClientGone extends NonFailureCancellation {
  constructor(readonly how: ClientGoneReason) {
    super(how)
  }
}

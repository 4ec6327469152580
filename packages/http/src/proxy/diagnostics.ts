/**
 * Proxy diagnostics on `node:diagnostics_channel` (publishers check `hasSubscribers` first): why a proxied
 * request got a 502/503/504 instead of its upstream's response, and when a response could not be held until the
 * request body had been forwarded — the two things to look at when a load balancer reports errors.
 */
import diagnostics_channel from 'node:diagnostics_channel'

export const proxyChannels = {
  /** `{ upstream, method, target, kind, status, code, error }` — the upstream request failed; the client gets `status` */
  upstreamFailure: diagnostics_channel.channel('weir:http:proxy:upstream-failure'),
  /** `{ upstream, method, target, holdMs }` — the upstream answered and the request body was still not forwarded after `holdMs` */
  holdExpired: diagnostics_channel.channel('weir:http:proxy:hold-expired'),
} as const

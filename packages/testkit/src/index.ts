/**
 * @weir/testkit — test tools for weir streams: virtual time, stream probes, leak checks, raw TCP
 * clients, a fault proxy, and route tests without sockets (`testRoute`, which depends on @weir/http).
 */
export { VirtualTime } from './VirtualTime.js'
export { TestSink, SinkProbe, type SinkProbeOptions, type SinkEvent } from './TestSink.js'
export { TestSource, SourceProbe, type SourceProbeOptions, type SourceProbeEnd } from './TestSource.js'
export { ProbeAssertionError, DEFAULT_PROBE_TIMEOUT_MS, settle, type ProbeFailure } from './expectations.js'
export { assertAllStagesStopped, StagesStillRunningError, activeResources, activeHandles, type LeakCheckOptions } from './leaks.js'
export { RawClient, type RawClientOptions, type RawClientEvent, type RawClientClosed, type ReadResponseOptions, type WaitOptions } from './RawClient.js'
export { parseResponse, type RawResponse, type ResponseFraming, type ResponseParse, type ParseResponseOptions } from './rawResponse.js'
export { FaultProxy, type FaultMode, type FaultProxyOptions, type SetModeOptions, type ProxyConnectionInfo, type ProxySideInfo } from './FaultProxy.js'
export { testRoute, type RouteTestResult, type RouteTestOptions } from './routeTest.js'

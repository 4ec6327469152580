/**
 * @weir/testkit — test tools for weir streams: virtual time, stream probes, leak checks.
 */
export { VirtualTime } from './VirtualTime.js'

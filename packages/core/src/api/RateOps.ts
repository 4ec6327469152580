/**
 * Rate and time operators: throttle, delay, groupedWithin, groupedWeightedWithin, conflate, conflateWithSeed, batch, batchWeighted, expand, extrapolate, initialDelay, dropWithin.
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import type { Duration } from '../duration.js'
import type { OverflowStrategy } from '../ops/buffer.js'
import { BatchStage, batchStage, conflateStage, ExpandStage, extrapolateStage, type IterableOrIterator } from '../ops/conflate.js'
import { DelayStage } from '../ops/delay.js'
import { GroupedWithinStage } from '../ops/groupedWithin.js'
import { ThrottleStage, type ThrottleOptions } from '../ops/throttle.js'
import { DropWithinStage, InitialDelayStage } from '../ops/timed.js'
import { SubstreamOps } from './SubstreamOps.js'
import type { Kind, Repr } from './FlowOpsBase.js'

export abstract class RateOps<K extends Kind, In, Out, Mat> extends SubstreamOps<K, In, Out, Mat> {
  // ---- rate limiting and delays: throttle, delay, initialDelay, dropWithin ----
  /**
   * Limit the rate to `elements` per `per` with a token bucket: tokens arrive evenly (one every
   * `per / elements`), the bucket holds `maximumBurst` of them (default: those of 100 ms, at least 1)
   * and starts full, and an element takes `cost(x)` tokens (default 1). In `shaping` mode (default) an
   * element that finds too few tokens waits for them; in `enforcing` mode the stream fails with `RateExceededError`.
   * - Emits when: upstream emits and enough tokens are available (shaping: once they have arrived)
   * - Backpressures when: downstream backpressures, or an element waits for tokens
   * - Completes when: upstream completes and a waiting element was emitted
   * - Cancels when: downstream cancels
   * @example `Source.range(1, 10).throttle(2, '1s', { maximumBurst: 1 })` emits one element every 500 ms (the first at once)
   */
  throttle(elements: number, per: Duration, options?: ThrottleOptions<Out>): Repr<K, In, Out, Mat> {
    return this.andThen(new ThrottleStage<Out>(elements, per, options))
  }
  /**
   * Shift every element in time by `delay`, holding up to `bufferSize` (default 16) delayed elements;
   * `overflowStrategy` (default `dropTail`, as in Pekko) says what happens when an element arrives and the buffer is full.
   * - Emits when: the oldest held element has been delayed by `delay` and downstream pulls
   * - Backpressures when: the buffer is full and the strategy is `backpressure` (the drop strategies never backpressure; `fail` fails with `BufferOverflowError`)
   * - Completes when: upstream completes and every held element was emitted
   * - Cancels when: downstream cancels
   * @example `Source.from(['a', 'b']).delay('1s', 'backpressure')` emits 'a' and 'b' one second after they arrived
   */
  delay(delay: Duration, overflowStrategy?: OverflowStrategy, bufferSize?: number): Repr<K, In, Out, Mat> {
    return this.andThen(new DelayStage<Out>(delay, overflowStrategy, bufferSize))
  }
  /**
   * Request nothing from upstream until `delay` has elapsed since materialization, then pass elements through.
   * - Emits when: upstream emits (which it cannot do before `delay` elapsed)
   * - Backpressures when: downstream backpressures, or `delay` has not elapsed
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.from([1, 2]).initialDelay('2s')` emits 1 and 2 after two seconds
   */
  initialDelay(delay: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new InitialDelayStage<Out>(delay))
  }
  /**
   * Drop the elements that arrive before `duration` has elapsed since materialization, then pass elements through.
   * - Emits when: `duration` has elapsed and upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.tick(0, '1s', 'beat').dropWithin('2.5s')` emits the beats of 3 s, 4 s, …
   */
  dropWithin(duration: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new DropWithinStage<Out>(duration))
  }

  // ---- time-windowed grouping: groupedWithin, groupedWeightedWithin ----
  /**
   * Chunk the stream into arrays of at most `n` elements, cut when `n` is reached or when the group's
   * window of `interval` ends, whichever comes first; windows follow one another from materialization and a full
   * group starts a new one. Empty groups are never emitted. Upstream is pulled eagerly.
   * - Emits when: `n` elements were collected, or the window ended with at least one element collected (on the next pull if downstream backpressures)
   * - Backpressures when: downstream backpressures and a full group plus one element are held
   * - Completes when: upstream completes (the last group is emitted first)
   * - Cancels when: downstream cancels
   * @example `events.groupedWithin(100, '1s')` emits batches of up to 100 events, at least once a second while events come
   */
  groupedWithin(n: number, interval: Duration): Repr<K, In, Out[], Mat> {
    return this.andThen(new GroupedWithinStage<Out>('groupedWithin', n, Infinity, interval))
  }
  /**
   * Like `groupedWithin`, limiting each group's total `cost` (non-negative; a throw or a negative weight fails the
   * stream) to `maxWeight` instead of counting elements; an element heavier than `maxWeight` forms a group of its own.
   * - Emits when: the group weighs `maxWeight`, the next element does not fit, or the window ended with at least one element collected
   * - Backpressures when: downstream backpressures and a full group plus one element are held
   * - Completes when: upstream completes (the last group is emitted first)
   * - Cancels when: downstream cancels
   * @example `chunks.groupedWeightedWithin(65_536, '50ms', (c) => c.byteLength)` emits batches of up to 64 KiB, at least every 50 ms
   */
  groupedWeightedWithin(maxWeight: number, interval: Duration, cost: (x: Out) => number): Repr<K, In, Out[], Mat> {
    return this.andThen(new GroupedWithinStage<Out>('groupedWeightedWithin', Infinity, maxWeight, interval, cost))
  }

  // ---- rate decoupling: conflate, conflateWithSeed, batch, batchWeighted, expand, extrapolate ----
  /**
   * While downstream is slower, combine the elements that arrive into one with `aggregate` (supervised:
   * `resume` drops the element, `restart` also the aggregate). Upstream is pulled eagerly.
   * - Emits when: downstream pulls and an aggregate is available
   * - Backpressures when: never
   * - Completes when: upstream completes and the last aggregate was emitted
   * - Cancels when: downstream cancels
   * @example `prices.conflate((a, b) => b)` hands a slow consumer only the latest price
   */
  conflate(aggregate: (agg: Out, x: Out) => Out): Repr<K, In, Out, Mat> {
    return this.andThen(conflateStage<Out, Out>('conflate', (x) => x, aggregate))
  }
  /**
   * Like `conflate`, starting each aggregate with `seed(x)` so it may be of another type.
   * - Emits when: downstream pulls and an aggregate is available
   * - Backpressures when: never
   * - Completes when: upstream completes and the last aggregate was emitted
   * - Cancels when: downstream cancels
   * @example `events.conflateWithSeed((e) => [e], (acc, e) => [...acc, e])` hands a slow consumer arrays of what arrived meanwhile
   */
  conflateWithSeed<S>(seed: (x: Out) => S, aggregate: (agg: S, x: Out) => S): Repr<K, In, S, Mat> {
    return this.andThen(conflateStage<Out, S>('conflateWithSeed', seed, aggregate))
  }
  /**
   * Like `conflateWithSeed`, aggregating at most `max` elements (an integer ≥ 1) before backpressuring.
   * - Emits when: downstream pulls and an aggregate is available
   * - Backpressures when: the aggregate holds `max` elements, one more element waits, and downstream backpressures
   * - Completes when: upstream completes and the last aggregate (and a waiting element) was emitted
   * - Cancels when: downstream cancels
   * @example `rows.batch(500, (r) => [r], (acc, r) => (acc.push(r), acc))` writes to a slow database in batches of up to 500
   */
  batch<S>(max: number, seed: (x: Out) => S, aggregate: (agg: S, x: Out) => S): Repr<K, In, S, Mat> {
    return this.andThen(batchStage<Out, S>(max, seed, aggregate))
  }
  /**
   * Like `batch`, limiting the aggregate's total `cost` (non-negative; not supervised) to `max`; an element
   * costlier than `max` forms an aggregate of its own.
   * - Emits when: downstream pulls and an aggregate is available
   * - Backpressures when: the next element does not fit the aggregate's remaining cost and downstream backpressures
   * - Completes when: upstream completes and the last aggregate (and a waiting element) was emitted
   * - Cancels when: downstream cancels
   * @example `chunks.batchWeighted(65_536, (c) => c.byteLength, (c) => [c], (acc, c) => (acc.push(c), acc))` batches up to 64 KiB
   */
  batchWeighted<S>(max: number, cost: (x: Out) => number, seed: (x: Out) => S, aggregate: (agg: S, x: Out) => S): Repr<K, In, S, Mat> {
    return this.andThen(new BatchStage<Out, S>('batchWeighted', max, cost, seed, aggregate))
  }
  /**
   * While downstream is faster, emit the elements of the iterator `f(x)` returned for the last upstream element,
   * one per pull, until upstream brings the next one; `f(x)` may omit `x` itself. Upstream is pulled eagerly; a
   * throw from `f` or its iterator fails the stream (not supervised, as in Pekko).
   * - Emits when: downstream pulls and the current iterator has an element
   * - Backpressures when: downstream backpressures and the current iterator's first element was not emitted yet
   * - Completes when: upstream completes (after the current iterator's first element; the rest is dropped)
   * - Cancels when: downstream cancels
   * @example `readings.expand(function* (r) { yield r; for (;;) yield { ...r, stale: true } })` keeps a fast consumer fed, repeats marked stale
   */
  expand<U>(f: (x: Out) => IterableOrIterator<U>): Repr<K, In, U, Mat> {
    return this.andThen(new ExpandStage<Out, U>('expand', f))
  }
  /**
   * Emit every upstream element unchanged and, while downstream is faster, the elements of `f(x)` for the last
   * one; `initial` (if not undefined) is emitted (and extrapolated) before the first upstream element. Not supervised.
   * - Emits when: downstream pulls, and upstream emitted, `initial` is pending, or the current extrapolation has an element
   * - Backpressures when: downstream backpressures and the last upstream element was not emitted yet
   * - Completes when: upstream completes and its last element was emitted (a pending extrapolation is dropped)
   * - Cancels when: downstream cancels
   * @example `ticks.extrapolate(function* (x) { for (;;) yield x })` repeats the last tick to a consumer faster than the source: 1, 1, 1, 2, 2, …
   */
  extrapolate(f: (x: Out) => IterableOrIterator<Out>, initial?: Out): Repr<K, In, Out, Mat> {
    return this.andThen(extrapolateStage<Out>(f, initial))
  }
}

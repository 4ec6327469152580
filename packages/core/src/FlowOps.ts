/**
 * The operators shared by `Source` and `Flow`. Each method is a one-line delegate that appends a
 * stage (or a small graph) to the blueprint; the stages live in `ops/`. `Source.map` returns a
 * `Source` and `Flow.map` a `Flow`: the return type is looked up in {@link Kinds}.
 *
 * Every operator documents its contract in four lines:
 * *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import type { Flow } from './Flow.js'
import { Module } from './internal/module.js'
import { Keep } from './Keep.js'
import type { Source } from './Source.js'
import { Attributes, type Decider } from './stage/Attributes.js'
import type { GraphStageWithMaterializedValue } from './stage/GraphStage.js'
import type { FlowShape } from './stage/ports.js'
import { CollectStage, FilterStage, MapConcatStage, MapStage, StatefulMapStage, ZipWithIndexStage } from './ops/map.js'
import { FoldStage, ReduceStage, ScanStage } from './ops/fold.js'
import { DropStage, DropWhileStage, TakeStage, TakeWhileStage } from './ops/take.js'
import { MapAsyncStage, MapAsyncUnorderedStage } from './ops/mapAsync.js'
import { BufferStage, type OverflowStrategy } from './ops/buffer.js'
import { GroupedStage, IntersperseStage, SlidingStage, type IntersperseOptions } from './ops/grouped.js'
import { MapErrorStage, RecoverStage } from './ops/recover.js'
import { LogStage, type LogOptions } from './ops/log.js'
import { RecoverWithStage } from './ops/recoverWith.js'
import type { Duration } from './duration.js'
import { BackpressureTimeoutStage, CompletionTimeoutStage, IdleTimeoutStage, InitialTimeoutStage } from './ops/timeouts.js'
import { TakeWithinStage } from './ops/takeWithin.js'
import { KeepAliveStage } from './ops/keepAlive.js'
import { ConcatStage, OrElseStage } from './ops/concat.js'
import { WatchTerminationStage } from './ops/watchTermination.js'
import { fanInFlow } from './internal/fanIn.js'

/** The blueprint type an operator returns, per kind of receiver. */
export interface Kinds<In, Out, Mat> {
  source: Source<Out, Mat>
  flow: Flow<In, Out, Mat>
}
export type Kind = keyof Kinds<unknown, unknown, unknown>
export type Repr<K extends Kind, In, Out, Mat> = Kinds<In, Out, Mat>[K]

export abstract class FlowOps<K extends Kind, In, Out, Mat> {
  /** @internal the immutable graph behind this blueprint. */
  abstract readonly module: Module

  /** @internal the module to transform as a whole (a Flow makes its identity module concrete first). */
  protected concrete(): Module {
    return this.module
  }

  /** @internal a blueprint of the same kind around `module`. */
  protected abstract wrap<O2, M2>(module: Module): Repr<K, In, O2, M2>

  /** @internal append a one-in/one-out stage, keeping this blueprint's materialized value. */
  protected andThen<T>(stage: GraphStageWithMaterializedValue<FlowShape<Out, T>, any>): Repr<K, In, T, Mat> {
    return this.viaModule(Module.atomic(stage), Keep.left)
  }

  /** @internal append a flow-shaped module, combining materialized values with `combine`. */
  protected abstract viaModule<T, M2, M3>(module: Module, combine: (l: Mat, r: M2) => M3): Repr<K, In, T, M3>

  // ---- composition ----

  /** Connect this blueprint's output to `flow`, keeping this blueprint's materialized value. */
  via<T, M2>(flow: Flow<Out, T, M2>): Repr<K, In, T, Mat> {
    return this.viaModule(flow.module, Keep.left)
  }
  /** Like `via`, combining both materialized values with `combine` (see `Keep`). */
  viaMat<T, M2, M3>(flow: Flow<Out, T, M2>, combine: (l: Mat, r: M2) => M3): Repr<K, In, T, M3> {
    return this.viaModule(flow.module, combine)
  }
  /** Transform the materialized value. */
  mapMaterializedValue<M2>(f: (m: Mat) => M2): Repr<K, In, Out, M2> {
    return this.wrap(this.concrete().mapMat(f))
  }
  /** Put this blueprint in its own island: an async boundary with a bounded buffer on each side. */
  async(bufferSize?: number): Repr<K, In, Out, Mat> {
    const m = bufferSize === undefined ? this.concrete() : this.concrete().withAttributes(Attributes.inputBuffer(bufferSize, bufferSize))
    return this.wrap(m.async())
  }
  /** Attributes for every stage in this blueprint (a stage's own attributes still win). */
  withAttributes(attributes: Attributes): Repr<K, In, Out, Mat> {
    return this.wrap(this.concrete().withAttributes(attributes))
  }
  /** Name the stages of this blueprint (in logs and errors). */
  named(name: string): Repr<K, In, Out, Mat> {
    return this.wrap(this.concrete().withAttributes(Attributes.named(name)))
  }
  /** Supervision for the user functions of the operators in this blueprint. */
  withSupervision(decider: Decider): Repr<K, In, Out, Mat> {
    return this.wrap(this.concrete().withAttributes(Attributes.supervisionStrategy(decider)))
  }

  // ---- simple operators ----

  /**
   * Transform each element.
   * - Emits when: the function returned for an element
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.from([1, 2, 3]).map((x) => x * 2)` emits 2, 4, 6
   */
  map<T>(f: (x: Out) => T): Repr<K, In, T, Mat> {
    return this.andThen(new MapStage(f))
  }
  /**
   * Transform each element into zero or more elements, emitted in order.
   * - Emits when: the iterable has an element and downstream pulls
   * - Backpressures when: downstream backpressures, or the iterable has elements left
   * - Completes when: upstream completes and every iterable was emitted
   * - Cancels when: downstream cancels
   * @example `Source.from([1, 2]).mapConcat((x) => [x, x])` emits 1, 1, 2, 2
   */
  mapConcat<T>(f: (x: Out) => Iterable<T>): Repr<K, In, T, Mat> {
    return this.andThen(new MapConcatStage(f))
  }
  /**
   * Pass on the elements that satisfy the predicate.
   * - Emits when: an element satisfies the predicate
   * - Backpressures when: an element satisfies the predicate and downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.range(1, 6).filter((x) => x % 2 === 0)` emits 2, 4, 6
   */
  filter<S extends Out>(p: (x: Out) => x is S): Repr<K, In, S, Mat>
  filter(p: (x: Out) => boolean): Repr<K, In, Out, Mat>
  filter(p: (x: Out) => boolean): Repr<K, In, Out, Mat> {
    return this.andThen(new FilterStage(p))
  }
  /**
   * Drop the elements that satisfy the predicate.
   * - Emits when: an element does not satisfy the predicate
   * - Backpressures when: such an element waits and downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.range(1, 4).filterNot((x) => x === 2)` emits 1, 3, 4
   */
  filterNot(p: (x: Out) => boolean): Repr<K, In, Out, Mat> {
    return this.andThen(new FilterStage(p, false))
  }
  /**
   * Transform and filter in one step: elements mapped to `undefined` are dropped.
   * - Emits when: the function returned a value other than `undefined`
   * - Backpressures when: such a value waits and downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.from(['1', 'x', '3']).collect((s) => (isNaN(+s) ? undefined : +s))` emits 1, 3
   */
  collect<T>(f: (x: Out) => T | undefined): Repr<K, In, T, Mat> {
    return this.andThen(new CollectStage(f))
  }
  /**
   * Map with a state threaded from element to element; `onComplete` may emit a last element.
   * - Emits when: the function returned for an element, and once more at completion if `onComplete` returns a value
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes (after the last element of `onComplete`)
   * - Cancels when: downstream cancels
   * @example `Source.from([1, 2, 3]).statefulMap(() => 0, (s, x) => [s + x, s + x], () => undefined)` emits 1, 3, 6
   */
  statefulMap<S, T>(create: () => S, f: (state: S, x: Out) => readonly [S, T], onComplete: (state: S) => T | undefined): Repr<K, In, T, Mat> {
    return this.andThen(new StatefulMapStage(create, f, onComplete))
  }
  /**
   * Pair each element with its index, from 0.
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.from(['a', 'b']).zipWithIndex()` emits ['a', 0], ['b', 1]
   */
  zipWithIndex(): Repr<K, In, [Out, number], Mat> {
    return this.andThen(new ZipWithIndexStage<Out>())
  }
  /**
   * Emit the seed, then each running result of the function.
   * - Emits when: the seed on the first pull, then each result
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.from([1, 2, 3]).scan(0, (a, x) => a + x)` emits 0, 1, 3, 6
   */
  scan<S>(zero: S, f: (acc: S, x: Out) => S): Repr<K, In, S, Mat> {
    return this.andThen(new ScanStage(zero, f))
  }
  /**
   * Fold all elements into one result, emitted when upstream completes.
   * - Emits when: upstream completes
   * - Backpressures when: downstream backpressures the result
   * - Completes when: the result was emitted
   * - Cancels when: downstream cancels
   * @example `Source.from([1, 2, 3]).fold(0, (a, x) => a + x)` emits 6
   */
  fold<S>(zero: S, f: (acc: S, x: Out) => S): Repr<K, In, S, Mat> {
    return this.andThen(new FoldStage(zero, f))
  }
  /**
   * Like `fold`, seeded with the first element; fails with `EmptyStreamError` on an empty stream.
   * - Emits when: upstream completes
   * - Backpressures when: downstream backpressures the result
   * - Completes when: the result was emitted
   * - Cancels when: downstream cancels
   * @example `Source.from([1, 2, 3]).reduce((a, x) => a + x)` emits 6
   */
  reduce(f: (acc: Out, x: Out) => Out): Repr<K, In, Out, Mat> {
    return this.andThen(new ReduceStage(f))
  }
  /**
   * Pass on the first `n` elements, then complete.
   * - Emits when: upstream emits and fewer than `n` were emitted
   * - Backpressures when: downstream backpressures
   * - Completes when: `n` elements were emitted, or upstream completes
   * - Cancels when: `n` elements were emitted (cause: no more elements needed), or downstream cancels
   * @example `Source.repeat(1).take(3)` emits 1, 1, 1
   */
  take(n: number): Repr<K, In, Out, Mat> {
    return this.andThen(new TakeStage<Out>(n))
  }
  /**
   * Pass on elements while the predicate holds; `inclusive` also emits the first failing one.
   * - Emits when: the predicate holds (or the first failing element, when inclusive)
   * - Backpressures when: downstream backpressures
   * - Completes when: the predicate failed once, or upstream completes
   * - Cancels when: the predicate failed once, or downstream cancels
   * @example `Source.range(1, 10).takeWhile((x) => x < 3)` emits 1, 2
   */
  takeWhile(p: (x: Out) => boolean, inclusive = false): Repr<K, In, Out, Mat> {
    return this.andThen(new TakeWhileStage(p, inclusive))
  }
  /**
   * Skip the first `n` elements.
   * - Emits when: `n` elements were skipped and upstream emits
   * - Backpressures when: `n` elements were skipped and downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.range(1, 4).drop(2)` emits 3, 4
   */
  drop(n: number): Repr<K, In, Out, Mat> {
    return this.andThen(new DropStage<Out>(n))
  }
  /**
   * Skip elements while the predicate holds, then pass on everything.
   * - Emits when: the predicate failed once and upstream emits
   * - Backpressures when: the predicate failed once and downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.from([1, 2, 5, 1]).dropWhile((x) => x < 3)` emits 5, 1
   */
  dropWhile(p: (x: Out) => boolean): Repr<K, In, Out, Mat> {
    return this.andThen(new DropWhileStage(p))
  }

  // ---- async: mapAsync, mapAsyncUnordered ----
  /**
   * Transform each element with an asynchronous function, at most `parallelism` at a time, and
   * emit the results in input order. A rejection is supervised (`stop` fails, `resume`/`restart` drop the element).
   * - Emits when: the result for the oldest pending element is ready and downstream pulls
   * - Backpressures when: `parallelism` elements are pending or waiting for demand
   * - Completes when: upstream completes and every result was emitted
   * - Cancels when: downstream cancels (results still to come are dropped)
   * @example `Source.from(['a', 'b']).mapAsync(4, (id) => fetchUser(id))` emits the users of 'a' then 'b'
   */
  mapAsync<T>(parallelism: number, f: (x: Out) => PromiseLike<T> | T): Repr<K, In, T, Mat> {
    return this.andThen(new MapAsyncStage(parallelism, f))
  }
  /**
   * Like `mapAsync`, emitting each result as soon as it is ready, whatever the input order.
   * - Emits when: any pending result is ready and downstream pulls
   * - Backpressures when: `parallelism` elements are pending or waiting for demand
   * - Completes when: upstream completes and every result was emitted
   * - Cancels when: downstream cancels (results still to come are dropped)
   * @example `Source.from([30, 10]).mapAsyncUnordered(2, (ms) => sleep(ms).then(() => ms))` emits 10, 30
   */
  mapAsyncUnordered<T>(parallelism: number, f: (x: Out) => PromiseLike<T> | T): Repr<K, In, T, Mat> {
    return this.andThen(new MapAsyncUnorderedStage(parallelism, f))
  }

  // ---- buffering: buffer, grouped, sliding, intersperse ----
  /**
   * Buffer up to `size` elements, pulling upstream eagerly; `overflowStrategy` says what happens when full
   * (`backpressure`, drop the oldest `dropHead`, the newest `dropTail`, all `dropBuffer`, the incoming `dropNew`,
   * or `fail` with `BufferOverflowError`).
   * - Emits when: downstream pulls and the buffer is not empty
   * - Backpressures when: the buffer is full and the strategy is `backpressure`
   * - Completes when: upstream completes and the buffer was emptied
   * - Cancels when: downstream cancels
   * @example `Source.range(1, 1000).buffer(64, 'dropHead')` keeps the 64 newest elements for a slow consumer
   */
  buffer(size: number, overflowStrategy: OverflowStrategy): Repr<K, In, Out, Mat> {
    return this.andThen(new BufferStage<Out>(size, overflowStrategy))
  }
  /**
   * Chunk the stream into arrays of `n` elements; the last may be shorter.
   * - Emits when: `n` elements were collected, or upstream completes with a partial group
   * - Backpressures when: a group is complete and downstream backpressures
   * - Completes when: upstream completes (after the last group)
   * - Cancels when: downstream cancels
   * @example `Source.range(1, 5).grouped(2)` emits [1, 2], [3, 4], [5]
   */
  grouped(n: number): Repr<K, In, Out[], Mat> {
    return this.andThen(new GroupedStage<Out>(n))
  }
  /**
   * Windows of `n` elements, each starting `step` elements after the previous one; a last shorter
   * window holds the elements that no full window covered (or the whole stream, if shorter than `n`).
   * - Emits when: a window is full, or upstream completes with such a partial window
   * - Backpressures when: a window is full and downstream backpressures
   * - Completes when: upstream completes (after the last window)
   * - Cancels when: downstream cancels
   * @example `Source.range(1, 6).sliding(3, 2)` emits [1, 2, 3], [3, 4, 5], [5, 6]
   */
  sliding(n: number, step = 1): Repr<K, In, Out[], Mat> {
    return this.andThen(new SlidingStage<Out>(n, step))
  }
  /**
   * Put `inject` between consecutive elements, and optionally `start` before and `end` after them all
   * (both also on an empty stream).
   * - Emits when: upstream emits (the separator first, then the element), or `start`/`end` is due
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes (after `end`)
   * - Cancels when: downstream cancels
   * @example `Source.from(['a', 'b']).intersperse(',', { start: '[', end: ']' })` emits '[', 'a', ',', 'b', ']'
   */
  intersperse(inject: Out, options?: IntersperseOptions<Out>): Repr<K, In, Out, Mat> {
    return this.andThen(new IntersperseStage<Out>(inject, options))
  }

  // ---- errors: recover, recoverWith, mapError, log ----
  /**
   * On upstream failure, emit `f(error)` as a last element and complete; if `f` returns `undefined`, fail as before.
   * - Emits when: upstream emits, or upstream failed and `f` returned an element
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes, or after the recovery element
   * - Cancels when: downstream cancels
   * @example `Source.failed<number>(new Error('x')).recover(() => 0)` emits 0, then completes
   */
  recover(f: (error: unknown) => Out | undefined): Repr<K, In, Out, Mat> {
    return this.andThen(new RecoverStage<Out>(f))
  }
  /**
   * Replace an upstream failure by `f(error)` (or by what `f` throws).
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes (an upstream failure fails with the mapped error)
   * - Cancels when: downstream cancels
   * @example `source.mapError((e) => new ServiceError('catalog unavailable', { cause: e }))`
   */
  mapError(f: (error: unknown) => unknown): Repr<K, In, Out, Mat> {
    return this.andThen(new MapErrorStage<Out>(f))
  }
  /**
   * Log each element (or `extract(element)`), completion, failure and cancellation with its cause, under `[name]`,
   * to `options.logger` (default: the materializer's logger) at `options.level` (default `debug`; failures at `error`).
   * - Emits when: upstream emits (elements pass unchanged)
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `Source.range(1, 3).log('numbers', { level: 'info', logger: pino() })` logs 1, 2, 3 and completion
   */
  log(name: string, options?: LogOptions<Out>): Repr<K, In, Out, Mat> {
    return this.andThen(new LogStage<Out>(name, options))
  }
  /**
   * On upstream failure, continue with the source `f(error)` returns (materialized then, read on demand); if that source
   * fails too, `f` is asked again — at most `attempts` recoveries in all (default unbounded; 0 never recovers).
   * - Emits when: upstream emits, or (after a failure) the current recovery source emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream or the current recovery source completes; fails when `f` returns `undefined` or throws, or the attempts are used up
   * - Cancels when: downstream cancels (the current recovery source too, with the same cause)
   * @example `Source.failed<number>(new Error('x')).recoverWith(() => Source.from([1, 2]))` emits 1, 2, then completes
   */
  recoverWith(f: (error: unknown) => Source<Out, any> | undefined, attempts = Infinity): Repr<K, In, Out, Mat> {
    return this.andThen(new RecoverWithStage<Out>(f, attempts))
  }

  // ---- composition: concat, prepend, orElse, watchTermination ----
  /**
   * Emit all elements of this stream, then all elements of `other`; `other`'s materialized value is dropped.
   * `other` is materialized (started) together with this stream, but pulled only once this stream completed.
   * - Emits when: the current input (this stream, then `other`) emits
   * - Backpressures when: downstream backpressures
   * - Completes when: `other` completes (after this stream completed)
   * - Cancels when: downstream cancels (both inputs, with its cause), or either input fails
   * @example `Source.from([1, 2]).concat(Source.from([3, 4]))` emits 1, 2, 3, 4
   */
  concat(other: Source<Out, any>): Repr<K, In, Out, Mat> {
    return this.viaModule(fanInFlow(new ConcatStage<Out>(), 0, [other.module]), Keep.left)
  }
  /** Like `concat`, combining this blueprint's and `other`'s materialized values with `combine`. */
  concatMat<M2, M3>(other: Source<Out, M2>, combine: (l: Mat, r: M2) => M3): Repr<K, In, Out, M3> {
    return this.viaModule(fanInFlow(new ConcatStage<Out>(), 0, [other.module]), combine)
  }
  /**
   * Emit all elements of `other` first, then those of this stream; `other`'s materialized value is dropped.
   * This stream is materialized together with `other`, but pulled only once `other` completed.
   * - Emits when: the current input (`other`, then this stream) emits
   * - Backpressures when: downstream backpressures
   * - Completes when: this stream completes (after `other` completed)
   * - Cancels when: downstream cancels (both inputs, with its cause), or either input fails
   * @example `Source.from([3, 4]).prepend(Source.from([1, 2]))` emits 1, 2, 3, 4
   */
  prepend(other: Source<Out, any>): Repr<K, In, Out, Mat> {
    return this.viaModule(fanInFlow(new ConcatStage<Out>(), 1, [other.module]), Keep.left)
  }
  /** Like `prepend`, combining this blueprint's and `other`'s materialized values with `combine`. */
  prependMat<M2, M3>(other: Source<Out, M2>, combine: (l: Mat, r: M2) => M3): Repr<K, In, Out, M3> {
    return this.viaModule(fanInFlow(new ConcatStage<Out>(), 1, [other.module]), combine)
  }
  /**
   * Emit this stream's elements; if it completes without any, emit `other`'s instead (its materialized value is dropped).
   * `other` is materialized with this stream and cancelled as soon as this stream emits.
   * - Emits when: this stream emits, or (once it completed empty) `other` emits
   * - Backpressures when: downstream backpressures
   * - Completes when: this stream completes after emitting, or `other` completes after this stream completed empty
   * - Cancels when: downstream cancels (both inputs, with its cause), or either input fails
   * @example `Source.empty<number>().orElse(Source.single(0))` emits 0; `Source.single(1).orElse(Source.single(0))` emits 1
   */
  orElse(other: Source<Out, any>): Repr<K, In, Out, Mat> {
    return this.viaModule(fanInFlow(new OrElseStage<Out>(), 0, [other.module]), Keep.left)
  }
  /** Like `orElse`, combining this blueprint's and `other`'s materialized values with `combine`. */
  orElseMat<M2, M3>(other: Source<Out, M2>, combine: (l: Mat, r: M2) => M3): Repr<K, In, Out, M3> {
    return this.viaModule(fanInFlow(new OrElseStage<Out>(), 0, [other.module]), combine)
  }
  /**
   * Pass elements through and materialize a promise of how the stream ended at this point, combined with this blueprint's value.
   * The promise resolves on completion or a non-failure cancellation, rejects with the error on failure or with
   * the cause of a failure cancellation, and rejects with `AbruptTerminationError` if the stream is torn down otherwise.
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `const [kill, done] = Source.never().viaMat(KillSwitches.single(), Keep.right).watchTermination(Keep.both).to(Sink.ignore()).run()`
   */
  watchTermination<M2>(combine: (mat: Mat, done: Promise<void>) => M2): Repr<K, In, Out, M2> {
    return this.viaModule(Module.atomic(new WatchTerminationStage<Out>()), combine)
  }

  // ---- timers: takeWithin, idleTimeout, initialTimeout, completionTimeout, backpressureTimeout, keepAlive ----
  /**
   * Pass on elements until `duration` has elapsed since materialization, then complete.
   * - Emits when: upstream emits and the duration has not elapsed
   * - Backpressures when: downstream backpressures
   * - Completes when: the duration elapsed, or upstream completes
   * - Cancels when: the duration elapsed (cause: no more elements needed), or downstream cancels
   * @example `Source.tick(0, '1s', 'beat').takeWithin('3.5s')` emits 'beat' at 0, 1, 2 and 3 s, then completes
   */
  takeWithin(duration: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new TakeWithinStage<Out>(duration))
  }
  /**
   * Fail with `IdleTimeoutError` when no element passed for `timeout` (measured from materialization, then from each element).
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes; fails when no element passed for `timeout`
   * - Cancels when: downstream cancels, or the timeout fired
   * @example `Source.never().idleTimeout('30s')` fails with code `WEIR_CORE_IDLE_TIMEOUT` after 30 s
   */
  idleTimeout(timeout: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new IdleTimeoutStage<Out>(timeout))
  }
  /**
   * Fail with `InitialTimeoutError` when the first element has not passed within `timeout` of materialization.
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes; fails when the first element did not pass within `timeout`
   * - Cancels when: downstream cancels, or the timeout fired
   * @example `Source.fromPromise(slowCall).initialTimeout('5s')` fails with code `WEIR_CORE_INITIAL_TIMEOUT` if the call takes longer than 5 s
   */
  initialTimeout(timeout: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new InitialTimeoutStage<Out>(timeout))
  }
  /**
   * Fail with `CompletionTimeoutError` when the stream has not completed within `timeout` of materialization.
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes; fails when it did not complete within `timeout`
   * - Cancels when: downstream cancels, or the timeout fired
   * @example `Source.tick(0, '1s', 1).completionTimeout('10s')` fails with code `WEIR_CORE_COMPLETION_TIMEOUT` after 10 s
   */
  completionTimeout(timeout: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new CompletionTimeoutStage<Out>(timeout))
  }
  /**
   * Fail with `BackpressureTimeoutError` when downstream did not pull for `timeout` after an element was emitted.
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes; fails when downstream did not pull within `timeout` of an element
   * - Cancels when: downstream cancels, or the timeout fired
   * @example `events.backpressureTimeout('10s').to(slowClient)` fails with code `WEIR_CORE_BACKPRESSURE_TIMEOUT` when the client stalls for 10 s
   */
  backpressureTimeout(timeout: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new BackpressureTimeoutStage<Out>(timeout))
  }
  /**
   * Emit `inject()` when downstream has waited `maxIdle` (positive) for an element and upstream gave none; injections never exceed demand.
   * - Emits when: upstream emits, or downstream has been pulling for `maxIdle` without an upstream element
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `events.keepAlive('15s', () => ':heartbeat')` emits ':heartbeat' whenever no event came for 15 s
   */
  keepAlive<U = Out>(maxIdle: Duration, inject: () => U): Repr<K, In, Out | U, Mat> {
    return this.andThen(new KeepAliveStage<Out, U>(maxIdle, inject))
  }
}

/**
 * Asynchronous, buffering and error-handling operators.
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import type { Source } from '../Source.js'
import { MapAsyncStage, MapAsyncUnorderedStage } from '../ops/mapAsync.js'
import { BufferStage, type OverflowStrategy } from '../ops/buffer.js'
import { GroupedStage, IntersperseStage, SlidingStage, type IntersperseOptions } from '../ops/grouped.js'
import { MapErrorStage, RecoverStage } from '../ops/recover.js'
import { LogStage, type LogOptions } from '../ops/log.js'
import { RecoverWithStage } from '../ops/recoverWith.js'
import { SimpleOps } from './SimpleOps.js'
import type { Kind, Repr } from './FlowOpsBase.js'

export abstract class ElementOps<K extends Kind, In, Out, Mat> extends SimpleOps<K, In, Out, Mat> {
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
}

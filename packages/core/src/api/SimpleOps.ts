/**
 * Simple operators: element-wise, accumulating and prefix operators.
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import { CollectStage, FilterStage, MapConcatStage, MapStage, StatefulMapStage, ZipWithIndexStage } from '../ops/map.js'
import { FoldStage, ReduceStage, ScanStage } from '../ops/fold.js'
import { DropStage, DropWhileStage, TakeStage, TakeWhileStage } from '../ops/take.js'
import { FlowOpsBase } from './FlowOpsBase.js'
import type { Kind, Repr } from './FlowOpsBase.js'

export abstract class SimpleOps<K extends Kind, In, Out, Mat> extends FlowOpsBase<K, In, Out, Mat> {
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
}

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
    return this.wrap(this.module.mapMat(f))
  }
  /** Put this blueprint in its own island: an async boundary with a bounded buffer on each side. */
  async(bufferSize?: number): Repr<K, In, Out, Mat> {
    const m = bufferSize === undefined ? this.module : this.module.withAttributes(Attributes.inputBuffer(bufferSize, bufferSize))
    return this.wrap(m.async())
  }
  /** Attributes for every stage in this blueprint (a stage's own attributes still win). */
  withAttributes(attributes: Attributes): Repr<K, In, Out, Mat> {
    return this.wrap(this.module.withAttributes(attributes))
  }
  /** Name the stages of this blueprint (in logs and errors). */
  named(name: string): Repr<K, In, Out, Mat> {
    return this.wrap(this.module.withAttributes(Attributes.named(name)))
  }
  /** Supervision for the user functions of the operators in this blueprint. */
  withSupervision(decider: Decider): Repr<K, In, Out, Mat> {
    return this.wrap(this.module.withAttributes(Attributes.supervisionStrategy(decider)))
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
    return this.andThen(new FilterStage((x: Out) => !p(x), 'filterNot'))
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

  // @@section async (mapAsync, mapAsyncUnordered)
  // @@end async

  // @@section buffering (buffer, grouped, sliding, intersperse)
  // @@end buffering

  // @@section errors (recover, recoverWith, mapError, log)
  // @@end errors

  // @@section composition (concat, prepend, orElse, watchTermination)
  // @@end composition

  // @@section timers (takeWithin, idleTimeout, initialTimeout, completionTimeout, backpressureTimeout, keepAlive)
  // @@end timers
}

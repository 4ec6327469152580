/**
 * Nesting operators: flatMapConcat, flatMapMerge, switchMap, prefixAndTail, flatMapPrefix, and sub-flows (groupBy, splitWhen, splitAfter).
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 *
 * Inner streams run on the materializer of the stage that starts them, each in its own island;
 * cancellation causes travel between outer and inner streams in both directions.
 */
import type { Flow } from '../Flow.js'
import type { Source } from '../Source.js'
import type { SubFlow } from '../SubFlow.js'
import type { NotUsed } from '../stage/GraphStage.js'
import { FlattenStage, SwitchMapStage } from '../ops/flatMap.js'
import { GroupByStage, type GroupByOptions } from '../ops/groupBy.js'
import { FlatMapPrefixStage, PrefixAndTailStage, type PrefixAndTailOptions } from '../ops/prefixAndTail.js'
import { SplitStage } from '../ops/split.js'
import { FanOps } from './FanOps.js'
import type { Kind, Repr } from './FlowOpsBase.js'

// SubFlow extends FlowOps, which extends this class: SubFlow.ts cannot be imported here at run
// time (the module would extend a class not defined yet). It registers its constructor instead,
// when '@weir/core' (index.ts) is loaded.
let subFlowFactory: ((parent: unknown) => SubFlow<any, any, any, any>) | undefined

/** @internal called once by SubFlow.ts. */
export function _registerSubFlowFactory(factory: (parent: unknown) => SubFlow<any, any, any, any>): void {
  subFlowFactory = factory
}

function subFlow<K extends Kind, In, Out, Mat>(parent: unknown): SubFlow<K, In, Out, Mat> {
  if (subFlowFactory === undefined) throw new Error("SubFlow.ts was not loaded: import the stream API from '@weir/core'")
  return subFlowFactory(parent)
}

export abstract class SubstreamOps<K extends Kind, In, Out, Mat> extends FanOps<K, In, Out, Mat> {
  // ---- flattening: flatMapConcat, flatMapMerge, switchMap ----
  /**
   * Turn each element into a source and emit the sources' elements one source after the other, in order;
   * one inner source runs at a time (it is materialized when the previous one completed). `f` is supervised.
   * - Emits when: the current inner source emits
   * - Backpressures when: downstream backpressures (an inner source reads at most one element ahead)
   * - Completes when: upstream completes and the last inner source completed
   * - Cancels when: downstream cancels (the running inner source too, with the same cause); fails when upstream or an inner source fails
   * @example `Source.from([1, 2]).flatMapConcat((x) => Source.from([x, x * 10]))` emits 1, 10, 2, 20
   */
  flatMapConcat<T>(f: (x: Out) => Source<T, any>): Repr<K, In, T, Mat> {
    return this.andThen(new FlattenStage<Out, T>(1, f))
  }
  /**
   * Turn each element into a source and emit the elements of up to `breadth` running sources as they come.
   * Upstream is pulled (and a source materialized) only while fewer than `breadth` run. `f` is supervised.
   * - Emits when: one of the running inner sources emits
   * - Backpressures when: downstream backpressures (each inner source reads at most one element ahead)
   * - Completes when: upstream completes and every inner source completed
   * - Cancels when: downstream cancels (every running inner source too, with the same cause); fails when upstream or an inner source fails
   * @example `Source.from(urls).flatMapMerge(4, (url) => fetchPages(url))` crawls four sites at a time
   */
  flatMapMerge<T>(breadth: number, f: (x: Out) => Source<T, any>): Repr<K, In, T, Mat> {
    return this.andThen(new FlattenStage<Out, T>(breadth, f))
  }
  /**
   * Turn each element into a source and emit its elements until the next element arrives, which cancels
   * that source (cause `SourceSwitched`, not a failure; an element of it waiting for demand is dropped) and switches.
   * - Emits when: the current inner source emits
   * - Backpressures when: never (upstream is always pulled; downstream backpressures only the current inner source)
   * - Completes when: upstream completes and the current inner source completed
   * - Cancels when: downstream cancels (the current inner source too, with the same cause); fails when upstream or the current inner source fails
   * @example `queries.switchMap((q) => Source.fromPromise(() => search(q)))` emits results of the latest query only
   */
  switchMap<T>(f: (x: Out) => Source<T, any>): Repr<K, In, T, Mat> {
    return this.andThen(new SwitchMapStage<Out, T>(f))
  }

  // ---- prefixes: prefixAndTail, flatMapPrefix ----
  /**
   * Emit one pair: the first `n` elements (fewer if upstream completes first) and a source of the rest (the tail).
   * The tail must be materialized within `options.subscriptionTimeout` (default 5 s), else upstream is cancelled.
   * - Emits when: `n` elements were collected (or upstream completed), and downstream pulls
   * - Backpressures when: downstream backpressures (before the pair), or the tail's consumer backpressures (after)
   * - Completes when: the pair was emitted (the tail completes with upstream)
   * - Cancels when: downstream cancels before the pair, or the tail's consumer cancels (with its cause), or the tail was not materialized in time
   * @example `Source.range(1, 5).prefixAndTail(2)` emits [[1, 2], tail], and tail emits 3, 4, 5
   */
  prefixAndTail(n: number, options?: PrefixAndTailOptions): Repr<K, In, [prefix: Out[], tail: Source<Out, NotUsed>], Mat> {
    return this.andThen(new PrefixAndTailStage<Out>(n, options))
  }
  /**
   * Collect the first `n` elements (fewer if upstream completes first), then run the rest of the stream through
   * the flow `f(prefix)` returns (its materialized value is dropped). If `f` throws, the stream fails.
   * - Emits when: the nested flow emits
   * - Backpressures when: downstream backpressures, or the nested flow backpressures
   * - Completes when: the nested flow completes
   * - Cancels when: downstream cancels (before the nested flow exists: at once; after: through the nested flow, with the same cause)
   * @example `lines.flatMapPrefix(1, ([header]) => Flow.create<string>().map((l) => parseRow(header, l)))` parses rows with the CSV header
   */
  flatMapPrefix<T>(n: number, f: (prefix: Out[]) => Flow<Out, T, any>): Repr<K, In, T, Mat> {
    return this.andThen(new FlatMapPrefixStage<Out, T>(n, f))
  }

  // ---- sub-flows: groupBy, splitWhen, splitAfter ----
  /**
   * Open one sub-stream per key; the operators that follow apply to each sub-stream, until `mergeSubstreams()`,
   * `mergeSubstreamsWithParallelism(n)`, `concatSubstreams()` or `to(sink)` (see `SubFlow`). More than
   * `maxSubstreams` open keys fail with `TooManySubstreamsError`. A sub-stream cancelled without failure is closed;
   * later elements of its key are dropped, unless `options.allowClosedSubstreamRecreation` opens a new one.
   * - Emits when: an element with a new key arrives (the new sub-stream is emitted; elements go to their sub-stream)
   * - Backpressures when: an element waits for its sub-stream's demand
   * - Completes when: upstream completes (with every sub-stream)
   * - Cancels when: every consumer (merge and sub-streams) cancelled without failure, or a sub-stream cancelled with a failure
   * @example `Source.range(1, 10).groupBy(2, (x) => x % 2).fold(0, (a, x) => a + x).mergeSubstreams()` emits 25 and 30 (in either order)
   */
  groupBy<Key>(maxSubstreams: number, key: (x: Out) => Key, options?: GroupByOptions): SubFlow<K, In, Out, Mat> {
    return subFlow(this.andThen(new GroupByStage<Out, Key>(maxSubstreams, key, options)))
  }
  /**
   * Cut the stream into consecutive sub-streams, starting a new one with each element that satisfies `p`
   * (the first element always starts the first). Operators that follow apply to each sub-stream (see `groupBy`).
   * A sub-stream cancelled without failure drops its remaining elements up to the next split.
   * - Emits when: an element starts a new sub-stream (elements go to the current sub-stream)
   * - Backpressures when: the current sub-stream backpressures, or a new sub-stream waits for demand
   * - Completes when: upstream completes (with the current sub-stream)
   * - Cancels when: the merge cancelled and the current sub-stream ended, or a sub-stream cancelled with a failure
   * @example `Source.from([1, 2, 0, 3, 0]).splitWhen((x) => x === 0).fold([] as number[], (a, x) => [...a, x]).concatSubstreams()` emits [1, 2], [0, 3], [0]
   */
  splitWhen(p: (x: Out) => boolean): SubFlow<K, In, Out, Mat> {
    return subFlow(this.andThen(new SplitStage<Out>('when', p)))
  }
  /**
   * Cut the stream into consecutive sub-streams, ending the current one with each element that satisfies `p`.
   * Operators that follow apply to each sub-stream (see `groupBy`).
   * - Emits when: an element starts a new sub-stream (elements go to the current sub-stream)
   * - Backpressures when: the current sub-stream backpressures, or a new sub-stream waits for demand
   * - Completes when: upstream completes (with the current sub-stream)
   * - Cancels when: the merge cancelled and the current sub-stream ended, or a sub-stream cancelled with a failure
   * @example `Source.from([1, 2, 0, 3, 0]).splitAfter((x) => x === 0).fold([] as number[], (a, x) => [...a, x]).concatSubstreams()` emits [1, 2, 0], [3, 0]
   */
  splitAfter(p: (x: Out) => boolean): SubFlow<K, In, Out, Mat> {
    return subFlow(this.andThen(new SplitStage<Out>('after', p)))
  }
}

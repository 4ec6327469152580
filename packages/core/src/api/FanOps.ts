/**
 * Fan-in and fan-out operators: merge, zip, zipWith, zipLatest, zipLatestWith, interleave (with
 * another source) and alsoTo, wireTap, divertTo (to another sink), each with a `…Mat` variant
 * that combines the other blueprint's materialized value with this one's. Also the view of a
 * Source or Flow as a {@link Graph} (`shape`, for `GraphDSL`'s `b.add`).
 *
 * The other source or sink is materialized (started) together with this stream. The junctions
 * behind these operators live in `graph/`; their contracts say how completion, failure and
 * cancellation travel between the two sides.
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import { Broadcast, WireTap } from '../graph/broadcast.js'
import { fanOutFlow } from '../graph/compose.js'
import { Interleave, type InterleaveOptions } from '../graph/interleave.js'
import { Merge, type MergeOptions } from '../graph/merge.js'
import { Partition } from '../graph/route.js'
import type { MatMarker } from '../graph/Graph.js'
import { flowShapeOf, sourceShapeOf } from '../graph/shapes.js'
import { Zip, ZipLatest, ZipLatestWith, ZipWith } from '../graph/zip.js'
import { fanInFlow } from '../internal/fanIn.js'
import type { Module } from '../internal/module.js'
import { Keep } from '../Keep.js'
import type { Sink } from '../Sink.js'
import type { Source } from '../Source.js'
import type { FlowShape, SourceShape } from '../stage/ports.js'
import type { Kind, Repr } from './FlowOpsBase.js'
import { TimerOps } from './TimerOps.js'

/** The shape of a Source (`SourceShape`) or a Flow (`FlowShape`) seen as a graph. */
export type BlueprintShape<K extends Kind, In, Out> = K extends 'source' ? SourceShape<Out> : FlowShape<In, Out>

const toTap = (when: (x: any) => boolean) => (x: unknown): number => (when(x) ? 1 : 0)

export abstract class FanOps<K extends Kind, In, Out, Mat> extends TimerOps<K, In, Out, Mat> {
  // ---- as a graph ----
  /** Type-level only: the materialized value (see `Graph`). */
  declare readonly _mat: MatMarker<Mat>
  /** The open ports of this blueprint (fresh ports named after its stages' ports), so it can be used as a `Graph`. */
  get shape(): BlueprintShape<K, In, Out> {
    const m = this.concrete()
    return (m.inlets.length === 0 ? sourceShapeOf(m) : flowShapeOf(m)) as BlueprintShape<K, In, Out>
  }
  /** @internal */
  toModule(): Module {
    return this.concrete()
  }

  // ---- fan-in: merge, zip, zipWith, zipLatest, zipLatestWith, interleave ----
  /**
   * Emit the elements of this stream and of `other` as they arrive; `other`'s materialized value is dropped.
   * - Emits when: either input has an element available
   * - Backpressures when: downstream backpressures
   * - Completes when: both inputs completed (`eagerComplete`: either completed)
   * - Cancels when: downstream cancels (both inputs, with its cause), or either input fails
   * @example `Source.from([1, 2]).merge(Source.from([10, 20]))` emits 1, 2, 10, 20 in some interleaving
   */
  merge(other: Source<Out, any>, options?: MergeOptions): Repr<K, In, Out, Mat> {
    return this.viaModule(fanInFlow(new Merge<Out>(2, options), 0, [other.module]), Keep.left)
  }
  /** Like `merge`, combining this blueprint's and `other`'s materialized values with `combine`. */
  mergeMat<M2, M3>(other: Source<Out, M2>, combine: (l: Mat, r: M2) => M3, options?: MergeOptions): Repr<K, In, Out, M3> {
    return this.viaModule(fanInFlow(new Merge<Out>(2, options), 0, [other.module]), combine)
  }
  /**
   * Pair each element of this stream with the element of `other` at the same position: `[mine, other's]`.
   * - Emits when: both inputs have an element available
   * - Backpressures when: downstream backpressures
   * - Completes when: either input completes (after its last element was paired)
   * - Cancels when: downstream cancels (both inputs, with its cause), or either input fails
   * @example `Source.from([1, 2, 3]).zip(Source.from(['a', 'b']))` emits [1, 'a'], [2, 'b']
   */
  zip<U>(other: Source<U, any>): Repr<K, In, [Out, U], Mat> {
    return this.viaModule(fanInFlow(Zip.create<Out, U>(), 0, [other.module]), Keep.left)
  }
  /** Like `zip`, combining this blueprint's and `other`'s materialized values with `combine`. */
  zipMat<U, M2, M3>(other: Source<U, M2>, combine: (l: Mat, r: M2) => M3): Repr<K, In, [Out, U], M3> {
    return this.viaModule(fanInFlow(Zip.create<Out, U>(), 0, [other.module]), combine)
  }
  /**
   * Combine each element of this stream with the element of `other` at the same position using `f` (supervised).
   * - Emits when: both inputs have an element available
   * - Backpressures when: downstream backpressures
   * - Completes when: either input completes (after its last element was combined)
   * - Cancels when: downstream cancels (both inputs, with its cause), or either input fails
   * @example `Source.from([1, 2]).zipWith(Source.from([10, 20]), (a, b) => a + b)` emits 11, 22
   */
  zipWith<U, R>(other: Source<U, any>, f: (mine: Out, theirs: U) => R): Repr<K, In, R, Mat> {
    return this.viaModule(fanInFlow(new ZipWith<[Out, U], R>(f, 2), 0, [other.module]), Keep.left)
  }
  /** Like `zipWith`, combining this blueprint's and `other`'s materialized values with `combine`. */
  zipWithMat<U, R, M2, M3>(other: Source<U, M2>, f: (mine: Out, theirs: U) => R, combine: (l: Mat, r: M2) => M3): Repr<K, In, R, M3> {
    return this.viaModule(fanInFlow(new ZipWith<[Out, U], R>(f, 2), 0, [other.module]), combine)
  }
  /**
   * Pair the latest element of this stream with the latest of `other`, each time either has a new one.
   * - Emits when: both inputs have emitted once, and then each time either has a new element
   * - Backpressures when: downstream backpressures
   * - Completes when: either input completes (at once if it completes before both have emitted)
   * - Cancels when: downstream cancels (both inputs, with its cause), or either input fails
   * @example `prices.zipLatest(rates)` emits [price, rate] whenever a price or a rate changes
   */
  zipLatest<U>(other: Source<U, any>): Repr<K, In, [Out, U], Mat> {
    return this.viaModule(fanInFlow(ZipLatest.create<Out, U>(), 0, [other.module]), Keep.left)
  }
  /** Like `zipLatest`, combining this blueprint's and `other`'s materialized values with `combine`. */
  zipLatestMat<U, M2, M3>(other: Source<U, M2>, combine: (l: Mat, r: M2) => M3): Repr<K, In, [Out, U], M3> {
    return this.viaModule(fanInFlow(ZipLatest.create<Out, U>(), 0, [other.module]), combine)
  }
  /**
   * Combine the latest element of this stream and of `other` with `f` (supervised), each time either has a new one.
   * - Emits when: both inputs have emitted once, and then each time either has a new element
   * - Backpressures when: downstream backpressures
   * - Completes when: either input completes (at once if it completes before both have emitted)
   * - Cancels when: downstream cancels (both inputs, with its cause), or either input fails
   * @example `prices.zipLatestWith(rates, (p, r) => p * r)` emits the converted price whenever either changes
   */
  zipLatestWith<U, R>(other: Source<U, any>, f: (mine: Out, theirs: U) => R): Repr<K, In, R, Mat> {
    return this.viaModule(fanInFlow(new ZipLatestWith<[Out, U], R>(f, {}, 2), 0, [other.module]), Keep.left)
  }
  /** Like `zipLatestWith`, combining this blueprint's and `other`'s materialized values with `combine`. */
  zipLatestWithMat<U, R, M2, M3>(other: Source<U, M2>, f: (mine: Out, theirs: U) => R, combine: (l: Mat, r: M2) => M3): Repr<K, In, R, M3> {
    return this.viaModule(fanInFlow(new ZipLatestWith<[Out, U], R>(f, {}, 2), 0, [other.module]), combine)
  }
  /**
   * Emit `segmentSize` elements of this stream, then `segmentSize` of `other`, and so on; once one input
   * completed, the rest of the other (unless `eagerClose`).
   * - Emits when: the input whose turn it is emits
   * - Backpressures when: downstream backpressures (only the input whose turn it is is pulled)
   * - Completes when: both inputs completed (`eagerClose`: either completed)
   * - Cancels when: downstream cancels (both inputs, with its cause), or either input fails
   * @example `Source.from([1, 2, 3, 4]).interleave(Source.from([10, 20]), 2)` emits 1, 2, 10, 20, 3, 4
   */
  interleave(other: Source<Out, any>, segmentSize: number, options?: InterleaveOptions): Repr<K, In, Out, Mat> {
    return this.viaModule(fanInFlow(new Interleave<Out>(2, segmentSize, options), 0, [other.module]), Keep.left)
  }
  /** Like `interleave`, combining this blueprint's and `other`'s materialized values with `combine`. */
  interleaveMat<M2, M3>(other: Source<Out, M2>, segmentSize: number, combine: (l: Mat, r: M2) => M3, options?: InterleaveOptions): Repr<K, In, Out, M3> {
    return this.viaModule(fanInFlow(new Interleave<Out>(2, segmentSize, options), 0, [other.module]), combine)
  }

  // ---- fan-out: alsoTo, wireTap, divertTo ----
  /**
   * Send every element to `sink` as well as downstream; the slower of the two sets the pace. `sink`'s materialized value is dropped.
   * - Emits when: an element is available and both downstream and `sink` pulled
   * - Backpressures when: downstream or `sink` backpressures
   * - Completes when: upstream completes (`sink` completes too)
   * - Cancels when: downstream or `sink` cancels (with its cause; the other one completes)
   * @example `orders.alsoTo(auditLog).to(billing)` — every order reaches both
   */
  alsoTo(sink: Sink<Out, any>): Repr<K, In, Out, Mat> {
    return this.viaModule(fanOutFlow(new Broadcast<Out>(2, { eagerCancel: true }), 0, [sink.module]), Keep.left)
  }
  /** Like `alsoTo`, combining this blueprint's and `sink`'s materialized values with `combine`. */
  alsoToMat<M2, M3>(sink: Sink<Out, M2>, combine: (l: Mat, r: M2) => M3): Repr<K, In, Out, M3> {
    return this.viaModule(fanOutFlow(new Broadcast<Out>(2, { eagerCancel: true }), 0, [sink.module]), combine)
  }
  /**
   * Pass every element downstream, and also to `sink` when `sink` has pulled — it never backpressures:
   * elements arriving while `sink` is busy are not delivered to it. `sink`'s materialized value is dropped.
   * - Emits when: an element is available and downstream pulled (`sink` gets it too if it pulled)
   * - Backpressures when: downstream backpressures (never because of `sink`)
   * - Completes when: upstream completes (`sink` completes too)
   * - Cancels when: downstream cancels (a cancelled `sink` is simply left out)
   * @example `requests.wireTap(Sink.foreach((r) => metrics.observe(r)))` samples requests without slowing them
   */
  wireTap(sink: Sink<Out, any>): Repr<K, In, Out, Mat> {
    return this.viaModule(fanOutFlow(new WireTap<Out>(), 0, [sink.module]), Keep.left)
  }
  /** Like `wireTap`, combining this blueprint's and `sink`'s materialized values with `combine`. */
  wireTapMat<M2, M3>(sink: Sink<Out, M2>, combine: (l: Mat, r: M2) => M3): Repr<K, In, Out, M3> {
    return this.viaModule(fanOutFlow(new WireTap<Out>(), 0, [sink.module]), combine)
  }
  /**
   * Send the elements for which `when` holds to `sink` instead of downstream (`when` is supervised:
   * `resume`/`restart` drop the element). `sink`'s materialized value is dropped.
   * - Emits when: an element is available, `when` chose downstream, and downstream pulled
   * - Backpressures when: the chosen destination (downstream or `sink`) backpressures
   * - Completes when: upstream completes and the element in hand was delivered (`sink` completes too)
   * - Cancels when: downstream or `sink` cancels (with its cause; the other one completes)
   * @example `events.divertTo(deadLetters, (e) => e.invalid).to(handler)` — invalid events go to `deadLetters` only
   */
  divertTo(sink: Sink<Out, any>, when: (x: Out) => boolean): Repr<K, In, Out, Mat> {
    return this.viaModule(fanOutFlow(new Partition<Out>(2, toTap(when), { eagerCancel: true }), 0, [sink.module]), Keep.left)
  }
  /** Like `divertTo`, combining this blueprint's and `sink`'s materialized values with `combine`. */
  divertToMat<M2, M3>(sink: Sink<Out, M2>, when: (x: Out) => boolean, combine: (l: Mat, r: M2) => M3): Repr<K, In, Out, M3> {
    return this.viaModule(fanOutFlow(new Partition<Out>(2, toTap(when), { eagerCancel: true }), 0, [sink.module]), combine)
  }
}

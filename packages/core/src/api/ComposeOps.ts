/**
 * Combining with other sources (concat, prepend, orElse) and watching termination.
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import { Module } from '../internal/module.js'
import { Keep } from '../Keep.js'
import type { Source } from '../Source.js'
import { ConcatStage, OrElseStage } from '../ops/concat.js'
import { WatchTerminationStage } from '../ops/watchTermination.js'
import { fanInFlow } from '../internal/fanIn.js'
import { ElementOps } from './ElementOps.js'
import type { Kind, Repr } from './FlowOpsBase.js'

export abstract class ComposeOps<K extends Kind, In, Out, Mat> extends ElementOps<K, In, Out, Mat> {
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
}

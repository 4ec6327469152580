/**
 * Nesting operators: flatMapConcat, flatMapMerge, switchMap, prefixAndTail, flatMapPrefix, and sub-flows (groupBy, splitWhen, splitAfter).
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import { FanOps } from './FanOps.js'
import type { Kind } from './FlowOpsBase.js'

export abstract class SubstreamOps<K extends Kind, In, Out, Mat> extends FanOps<K, In, Out, Mat> {}

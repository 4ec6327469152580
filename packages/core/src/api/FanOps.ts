/**
 * Fan-in and fan-out with other graphs: merge, zip, zipWith, zipLatest, interleave, alsoTo, wireTap, divertTo.
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import { TimerOps } from './TimerOps.js'
import type { Kind } from './FlowOpsBase.js'

export abstract class FanOps<K extends Kind, In, Out, Mat> extends TimerOps<K, In, Out, Mat> {}

/**
 * Rate and time operators: throttle, delay, groupedWithin, groupedWeightedWithin, conflate, conflateWithSeed, batch, expand, extrapolate, initialDelay, dropWithin.
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import { SubstreamOps } from './SubstreamOps.js'
import type { Kind } from './FlowOpsBase.js'

export abstract class RateOps<K extends Kind, In, Out, Mat> extends SubstreamOps<K, In, Out, Mat> {}

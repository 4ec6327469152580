/**
 * The operators shared by `Source` and `Flow`. Each method is a one-line delegate that appends a
 * stage (or a small graph) to the blueprint; the stages live in `ops/`. `Source.map` returns a
 * `Source` and `Flow.map` a `Flow`: the return type is looked up in {@link Kinds}.
 *
 * The operators are declared in families, one file each under `api/`, chained by inheritance:
 * FlowOpsBase ← SimpleOps ← ElementOps ← ComposeOps ← TimerOps ← FanOps ← SubstreamOps ← RateOps ← FlowOps.
 */
import { RateOps } from './api/RateOps.js'
import type { Kind } from './api/FlowOpsBase.js'

export type { Kinds, Kind, Repr } from './api/FlowOpsBase.js'

export abstract class FlowOps<K extends Kind, In, Out, Mat> extends RateOps<K, In, Out, Mat> {}

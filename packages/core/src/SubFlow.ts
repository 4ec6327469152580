/**
 * SubFlow: the operators between a `groupBy` / `splitWhen` / `splitAfter` and the point where its
 * sub-streams are merged back. Every operator applied to a SubFlow applies to each sub-stream
 * separately (`groupBy(...).fold(...)` folds each group); the SubFlow is closed by
 * `mergeSubstreams()`, `mergeSubstreamsWithParallelism(n)` or `concatSubstreams()` — which return
 * the parent kind (a `Source` stays a `Source`, a `Flow` a `Flow`) — or by `to(sink)`, which runs
 * each sub-stream into its own materialization of `sink`.
 *
 * A SubFlow holds the parent blueprint (emitting one `Source` per sub-stream) and the flow that is
 * applied to each sub-stream, and it keeps its parent's materialized value. Inside, each
 * sub-stream has its own materialized values, which are dropped: the `combine` function of a
 * `…Mat` operator and `mapMaterializedValue` run once per sub-stream with `NotUsed` on the left
 * (e.g. `watchTermination((_, done) => …)` watches each sub-stream); map the parent's value after
 * merging.
 *
 * Merging: `concatSubstreams()` runs one sub-stream at a time, so with `groupBy` it stalls as soon
 * as a second key appears while the first sub-stream is still open (the second sub-stream's
 * elements hold upstream until it is consumed — as in Pekko); use it with `splitWhen`/`splitAfter`,
 * or with sub-flows that complete by themselves. Likewise `mergeSubstreamsWithParallelism(n)`
 * stalls when more than `n` sub-streams are open at once.
 *
 * @example
 * ```ts
 * const sums = await Source.range(1, 10)
 *   .groupBy(2, (x) => x % 2)
 *   .map((x) => x * 10)
 *   .fold(0, (a, x) => a + x)
 *   .mergeSubstreams()
 *   .runWith(Sink.seq()) // [250, 300] in either order
 * ```
 */
import type { Kind, Repr } from './api/FlowOpsBase.js'
import { _registerSubFlowFactory } from './api/SubstreamOps.js'
import { InvalidArgumentError } from './errors.js'
import { concreteFlowModule, Flow } from './Flow.js'
import { FlowOps } from './FlowOps.js'
import { Module } from './internal/module.js'
import { Keep } from './Keep.js'
import { FlattenStage } from './ops/flatMap.js'
import { RunSubstreamsStage } from './ops/runSubstreams.js'
import type { RunnableGraph } from './RunnableGraph.js'
import { Sink } from './Sink.js'
import type { Source } from './Source.js'
import type { NotUsed } from './stage/GraphStage.js'

/**
 * What a sub-flow merges back into — the parent's kind, input and materialized value — carried in
 * the `In` type parameter of its operators (a type only: no value has it).
 */
export interface SubFlowParent<PK extends Kind, In, Mat> {
  // a method: its parameters are compared both ways, so the sub-flow's input position does not make `Mat` invariant
  _subFlowParent(kind: PK, input: In, mat: Mat): void
}

/** The sub-flow an operator returns, from the `In` it was given (see `Kinds.subflow`). */
export type SubFlowOf<P, Out> = P extends SubFlowParent<infer PK extends Kind, infer In, infer Mat> ? SubFlow<PK, In, Out, Mat> : never

/** What `to(sink)` closes a sub-flow into: a `RunnableGraph` for a Source, a `Sink` for a Flow (and so on, for nested sub-flows). */
export type SubFlowClosed<PK extends Kind, In, Mat> = PK extends 'source'
  ? RunnableGraph<Mat>
  : PK extends 'flow'
    ? Sink<In, Mat>
    : In extends SubFlowParent<infer PK2 extends Kind, infer In2, infer Mat2>
      ? SubFlowClosed<PK2, In2, Mat2>
      : never

/** The parent blueprint (Source, Flow or SubFlow of sources), as a SubFlow uses it at run time. */
interface Parent {
  via(flow: Flow<Source<any, NotUsed>, any, any>): unknown
  to(sink: Sink<Source<any, NotUsed>, any>): unknown
}

type Self<PK extends Kind, In, Mat> = SubFlowParent<PK, In, Mat>

const toNotUsed = (): NotUsed => undefined

export class SubFlow<PK extends Kind, In, Out, Mat> extends FlowOps<'subflow', Self<PK, In, Mat>, Out, NotUsed> {
  declare readonly _out: () => Out
  /** @internal the flow applied to each sub-stream. */
  readonly module: Module
  readonly #parent: Parent

  /** @internal created by `groupBy`, `splitWhen` and `splitAfter`. */
  constructor(parent: Parent, module: Module) {
    super()
    this.#parent = parent
    this.module = module
  }

  protected override concrete(): Module {
    return concreteFlowModule(this.module)
  }
  protected wrap<O2, M2>(module: Module): Repr<'subflow', Self<PK, In, Mat>, O2, M2> {
    // each sub-stream's own materialized value stays NotUsed (callers pass a concrete module)
    return new SubFlow<PK, In, O2, Mat>(this.#parent, module.mapMat(toNotUsed)) as never
  }
  protected viaModule<T, M2, M3>(module: Module, combine: (l: NotUsed, r: M2) => M3): Repr<'subflow', Self<PK, In, Mat>, T, M3> {
    const linked =
      combine === Keep.left ? Module.linear(this.module, module, Keep.left) : Module.linear(this.concrete(), module, combine).mapMat(toNotUsed)
    return new SubFlow<PK, In, T, Mat>(this.#parent, linked) as never
  }

  /** A sub-flow is no graph of its own (only the flow applied to each sub-stream): merge or close it first. */
  override toModule(): Module {
    throw new InvalidArgumentError('graph', 'a SubFlow', 'a complete blueprint: merge the sub-flow (mergeSubstreams, concatSubstreams) or close it with to(sink) first')
  }

  /**
   * Merge the sub-streams back into one stream, emitting elements as they come; every sub-stream runs at once.
   * - Emits when: a sub-stream emits
   * - Backpressures when: downstream backpressures (each sub-stream reads at most one element ahead)
   * - Completes when: the parent completes and every sub-stream completed
   * - Cancels when: downstream cancels (every sub-stream too, with the same cause)
   * @example `Source.range(1, 6).groupBy(3, (x) => x % 3).map((x) => x * 2).mergeSubstreams()` emits 2 … 12 in some order
   */
  mergeSubstreams(): Repr<PK, In, Out, Mat> {
    return this.#flatten(Infinity, 'mergeSubstreams')
  }
  /**
   * Like `mergeSubstreams`, running at most `parallelism` sub-streams at once (a further sub-stream waits, and holds its parent).
   * - Emits when: a running sub-stream emits
   * - Backpressures when: downstream backpressures, or `parallelism` sub-streams run
   * - Completes when: the parent completes and every sub-stream completed
   * - Cancels when: downstream cancels (every running sub-stream too, with the same cause)
   * @example `Source.from(lines).splitAfter((l) => l === '').take(100).mergeSubstreamsWithParallelism(4)` handles four paragraphs at a time
   */
  mergeSubstreamsWithParallelism(parallelism: number): Repr<PK, In, Out, Mat> {
    if (!(parallelism >= 1) || (Number.isFinite(parallelism) && !Number.isInteger(parallelism))) {
      throw new InvalidArgumentError('parallelism', parallelism, 'a positive integer or Infinity')
    }
    return this.#flatten(parallelism, 'mergeSubstreams')
  }
  /**
   * Concatenate the sub-streams: one runs at a time, in the order they opened (with `groupBy`, see the file header).
   * - Emits when: the current sub-stream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: the parent completes and the last sub-stream completed
   * - Cancels when: downstream cancels (the current sub-stream too, with the same cause)
   * @example `Source.from([1, 2, 0, 3]).splitWhen((x) => x === 0).reduce((a, x) => a + x).concatSubstreams()` emits 3, 3
   */
  concatSubstreams(): Repr<PK, In, Out, Mat> {
    return this.#flatten(1, 'concatSubstreams')
  }
  /**
   * Run each sub-stream into its own materialization of `sink` (its materialized values are dropped), closing
   * the sub-flow: a `RunnableGraph` for a Source, a `Sink` for a Flow. Each sub-stream starts when it opens.
   * @example `Source.from(events).groupBy(64, (e) => e.user).to(Sink.foreach(store))` stores each user's events through its own sink
   */
  to(sink: Sink<Out, any>): SubFlowClosed<PK, In, Mat> {
    const flow = new Flow<any, Out, unknown>(this.module)
    const runEach = new RunSubstreamsStage<any>((source) => source.via(flow).to(sink))
    return this.#parent.to(Sink.fromGraph(runEach)) as SubFlowClosed<PK, In, Mat>
  }

  #flatten(breadth: number, name: string): Repr<PK, In, Out, Mat> {
    const flow = new Flow<any, Out, unknown>(this.module)
    const stage = new FlattenStage<Source<any, NotUsed>, Out>(breadth, (source) => source.via(flow), name)
    return this.#parent.via(Flow.fromGraph(stage)) as Repr<PK, In, Out, Mat>
  }

  static {
    _registerSubFlowFactory((parent) => new SubFlow(parent as Parent, Module.identity))
  }
}

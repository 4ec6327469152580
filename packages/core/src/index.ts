/**
 * @weir/core — the stream engine: blueprints (Source, Flow, Sink, BidiFlow, RunnableGraph),
 * materialized values, the GraphStage API, the materializer and its scheduler.
 */
export { Source } from './Source.js'
export { Flow } from './Flow.js'
export { Sink } from './Sink.js'
export { BidiFlow } from './BidiFlow.js'
export { RunnableGraph } from './RunnableGraph.js'
export { Keep } from './Keep.js'
export type { Kinds, Kind, Repr } from './FlowOps.js'
export { FlowOps } from './FlowOps.js'
export * from './errors.js'
export { toMillis, type Duration } from './duration.js'
export { Attributes, Supervision, type Decider, type Directive, type AttributeValues } from './stage/Attributes.js'
export { GraphStage, GraphStageWithMaterializedValue, NotUsed, type AnyStage } from './stage/GraphStage.js'
export { GraphStageLogic, AsyncCallback, type InHandler, type OutHandler } from './stage/GraphStageLogic.js'
export { Inlet, Outlet, Shape, SourceShape, FlowShape, SinkShape, BidiShape, FanInShape, FanOutShape } from './stage/ports.js'
export { LinearStage, SourceStage } from './stage/linear.js'
export { FusableStage, Op, SyncSourceStage, SyncSinkStage, SKIP, DONE, PENDING, type SyncSource, type SyncSink, type Skip, type Done, type Pending } from './stage/fusion.js'
export { Materializer, defaultMaterializer, consoleLogger, type Logger, type MaterializerSettings } from './internal/materializer.js'
export type { Scheduler, Cancellable } from './internal/scheduler.js'
export { SlotSet, type Slotted } from './internal/SlotSet.js'
// ---- operators, kill switches and sub-stream ports ----
export { KillSwitches, SharedKillSwitch, UniqueKillSwitch, type KillSwitch } from './KillSwitch.js'
export type { OverflowStrategy } from './ops/buffer.js'
export type { IntersperseOptions } from './ops/grouped.js'
export type { LogLevel, LogOptions } from './ops/log.js'
export { SubSinkInlet, SubSourceOutlet, type SubSinkInletHandler, type SubSourceOutletHandler } from './stage/substreams.js'
// @@section graphs
export type { Graph, ShapeOf, MatOf } from './graph/Graph.js'
export { GraphDSL, GraphBuilder, GraphBlueprint, PortOps } from './graph/GraphDSL.js'
export { GraphBuildError, PartitionOutOfBoundsError, type GraphBuildProblems } from './graph/errors.js'
export { ClosedShape, FanInShapeN, FanOutShapeN, MergePreferredShape, type UniformFanInShape, type UniformFanOutShape } from './graph/shapes.js'
export { Merge, MergePreferred, MergePrioritized, type MergeOptions } from './graph/merge.js'
export { Interleave, Concat, type InterleaveOptions } from './graph/interleave.js'
export { ZipWith, Zip, ZipN, ZipLatestWith, ZipLatest, type ZipLatestOptions } from './graph/zip.js'
export { Broadcast, UnzipWith, Unzip, WireTap, type FanOutOptions } from './graph/broadcast.js'
export { Balance, Partition, type BalanceOptions } from './graph/route.js'
export type { BlueprintShape } from './api/FanOps.js'
// @@end graphs
// @@section substreams
export { SubFlow, type SubFlowParent, type SubFlowOf, type SubFlowClosed } from './SubFlow.js'
export { SourceSwitched } from './ops/flatMap.js'
export type { GroupByOptions } from './ops/groupBy.js'
export type { PrefixAndTailOptions } from './ops/prefixAndTail.js'
export type { SplitMode } from './ops/split.js'
// @@end substreams
// @@section rate
export type { ThrottleMode, ThrottleOptions } from './ops/throttle.js'
export type { IterableOrIterator } from './ops/conflate.js'
// @@end rate
// @@section hubs
export { MergeHub, type DrainingControl } from './hubs/MergeHub.js'
export { BroadcastHub, type BroadcastHubOptions } from './hubs/BroadcastHub.js'
export { PartitionHub, type ConsumerInfo, type StatefulPartitioner } from './hubs/PartitionHub.js'
export { SourceQueue, BackpressuredSourceQueue, type QueueOfferResult, type QueueOfferFailure, type BackpressuredOfferResult, type QueueOverflowStrategy } from './sources/queue.js'
export { SinkQueue } from './sinks/queue.js'
// @@end hubs
// @@section resilience
export { RestartSource } from './resilience/RestartSource.js'
export { RestartFlow } from './resilience/RestartFlow.js'
export { RestartSink } from './resilience/RestartSink.js'
export { RetryFlow } from './resilience/RetryFlow.js'
export type { BackoffSettings, RestartSettings, RetryFlowSettings } from './resilience/backoff.js'
// @@end resilience
// @@section framing
export { Framing, type DelimiterFramingOptions, type LengthFieldFramingOptions, type ByteOrder, type FrameSizeFunction } from './framing/Framing.js'
export { JsonFraming } from './framing/JsonFraming.js'
// @@end framing
// @@section interop
export { abortOn, AbortStage } from './interop/abort.js'
export type { FromObservableOptions, ObservableLike, ObservableOverflowStrategy } from './interop/observable.js'
export type { ReadableOptions } from './interop/node.js'
export type { ReadableStreamOptions } from './interop/whatwg.js'
// @@end interop

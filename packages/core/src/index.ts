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
// ---- operators, kill switches and sub-stream ports ----
export { KillSwitches, SharedKillSwitch, UniqueKillSwitch, type KillSwitch } from './KillSwitch.js'
export type { OverflowStrategy } from './ops/buffer.js'
export type { IntersperseOptions } from './ops/grouped.js'
export type { LogLevel, LogOptions } from './ops/log.js'
export { SubSinkInlet, SubSourceOutlet, type SubSinkInletHandler, type SubSourceOutletHandler } from './stage/substreams.js'

/**
 * Source: a blueprint with one output. Operators come from {@link FlowOps}; factories are static.
 *
 * @example
 * ```ts
 * const out = await Source.from([1, 2, 3]).map((x) => x * 2).runWith(Sink.seq()) // [2, 4, 6]
 * ```
 */
import { FlowOps } from './FlowOps.js'
import { Keep } from './Keep.js'
import { defaultMaterializer, type Materializer } from './internal/materializer.js'
import { Module } from './internal/module.js'
import { RunnableGraph } from './RunnableGraph.js'
import type { Sink } from './Sink.js'
import { sinks } from './sinks/basic.js'
import { IterableSource, PromiseSource, RangeSource, RepeatSource, TerminalSource } from './sources/basic.js'
import type { GraphStageWithMaterializedValue, NotUsed } from './stage/GraphStage.js'
import type { SourceShape } from './stage/ports.js'

export class Source<Out, Mat = NotUsed> extends FlowOps<'source', unknown, Out, Mat> {
  declare readonly _out: () => Out
  constructor(/** @internal */ readonly module: Module) {
    super()
  }
  protected wrap<O2, M2>(module: Module): Source<O2, M2> {
    return new Source(module)
  }
  protected viaModule<T, M2, M3>(module: Module, combine: (l: Mat, r: M2) => M3): Source<T, M3> {
    return new Source(Module.linear(this.module, module, combine))
  }

  // ---- factories ----

  /** A source from a stage with one outlet. */
  static fromGraph<T, M>(stage: GraphStageWithMaterializedValue<SourceShape<T>, M>): Source<T, M> {
    return new Source(Module.atomic(stage))
  }
  /** The elements of an iterable (arrays are read by index; other iterables afresh per materialization). */
  static from<T>(iterable: Iterable<T>): Source<T> {
    return Source.fromGraph(new IterableSource(iterable))
  }
  /** One element, then complete. */
  static single<T>(elem: T): Source<T> {
    return Source.fromGraph(new IterableSource([elem]))
  }
  /** `start`, `start + step`, … up to and including `end`. */
  static range(start: number, end: number, step = 1): Source<number> {
    return Source.fromGraph(new RangeSource(start, end, step))
  }
  /** The same element forever. */
  static repeat<T>(elem: T): Source<T> {
    return Source.fromGraph(new RepeatSource(elem))
  }
  /** Complete at once. */
  static empty<T = never>(): Source<T> {
    return Source.fromGraph(new TerminalSource<T>('empty'))
  }
  /** Never emit, never complete (until cancelled). */
  static never<T = never>(): Source<T> {
    return Source.fromGraph(new TerminalSource<T>('never'))
  }
  /** Fail at once with `error`. */
  static failed<T = never>(error: unknown): Source<T> {
    return Source.fromGraph(new TerminalSource<T>('failed', error))
  }
  /** The value of a promise (or of a promise factory, called per materialization). */
  static fromPromise<T>(promise: PromiseLike<T> | (() => PromiseLike<T>)): Source<T> {
    return Source.fromGraph(new PromiseSource(typeof promise === 'function' ? promise : () => promise))
  }

  // @@section sources-timers (tick)
  // @@end sources-timers

  // @@section sources-more (lazy, unfold, unfoldAsync, unfoldResource, unfoldResourceAsync)
  // @@end sources-more

  // ---- terminal operations ----

  /** Connect to a sink, keeping this source's materialized value. */
  to<M2>(sink: Sink<Out, M2>): RunnableGraph<Mat> {
    return new RunnableGraph(Module.linear(this.module, sink.module, Keep.left))
  }
  /** Connect to a sink, combining both materialized values. */
  toMat<M2, M3>(sink: Sink<Out, M2>, combine: (l: Mat, r: M2) => M3): RunnableGraph<M3> {
    return new RunnableGraph(Module.linear(this.module, sink.module, combine))
  }
  /** Run into `sink`; returns the sink's materialized value. */
  runWith<M2>(sink: Sink<Out, M2>, materializer: Materializer = defaultMaterializer()): M2 {
    return materializer.materialize<M2>(Module.linear(this.module, sink.module, Keep.right))
  }
  /** Run `f` on every element; resolves on completion. */
  runForeach(f: (x: Out) => void, materializer?: Materializer): Promise<void> {
    return this.#runSink(sinks.foreach(f), materializer)
  }
  /** Fold every element into one result. */
  runFold<S>(zero: S, f: (acc: S, x: Out) => S, materializer?: Materializer): Promise<S> {
    return this.#runSink(sinks.fold(zero, f), materializer)
  }
  /** Fold seeded with the first element. */
  runReduce(f: (acc: Out, x: Out) => Out, materializer?: Materializer): Promise<Out> {
    return this.#runSink(sinks.reduce(f), materializer)
  }
  #runSink<R>(stage: GraphStageWithMaterializedValue<any, Promise<R>>, materializer = defaultMaterializer()): Promise<R> {
    return materializer.materialize<Promise<R>>(Module.linear(this.module, Module.atomic(stage), Keep.right))
  }
}


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
import { EmptySource, IterableSource, PromiseSource, RangeSource, RepeatSource, TerminalSource } from './sources/basic.js'
import type { GraphStageWithMaterializedValue, NotUsed } from './stage/GraphStage.js'
import type { SourceShape } from './stage/ports.js'
import type { Duration } from './duration.js'
import type { Cancellable } from './internal/scheduler.js'
import { TickSource } from './sources/tick.js'
import { LazySource } from './sources/lazy.js'
import { UnfoldAsyncStage, UnfoldResourceAsyncStage, UnfoldResourceStage, UnfoldStage } from './sources/unfold.js'
import { _registerSourceFactory } from './stage/substreams.js'

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
    return Source.fromGraph(new EmptySource<T>())
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

  // ---- sources-timers: tick ----
  /**
   * Emit `elem` at `initialDelay`, then every `interval` (positive) at exact deadlines; the materialized `Cancellable` completes the source.
   * - Emits when: a tick is due and downstream is pulling (a tick without demand is dropped, not buffered)
   * - Backpressures when: never (ticks that find no demand are dropped)
   * - Completes when: the materialized `Cancellable` is cancelled
   * - Cancels when: downstream cancels
   * @example `Source.tick(0, '1s', 'beat')` emits 'beat' at 0, 1, 2 s, …
   */
  static tick<T>(initialDelay: Duration, interval: Duration, elem: T): Source<T, Cancellable> {
    return Source.fromGraph(new TickSource(initialDelay, interval, elem))
  }

  // ---- sources-more: lazy, unfold, unfoldAsync, unfoldResource, unfoldResourceAsync ----
  static {
    // sub-stream ports (stage/substreams.ts) build sources through this, so they need not import this module
    _registerSourceFactory((module) => new Source(module))
  }
  /**
   * Elements generated from a state: `f(state)` returns `[nextState, element]`, or `undefined` to complete.
   * - Emits when: downstream pulls and `f` returns an element
   * - Backpressures when: downstream backpressures (`f` runs once per pull)
   * - Completes when: `f` returns `undefined`; fails when `f` throws
   * - Cancels when: downstream cancels
   * @example `Source.unfold(0, (n) => (n < 3 ? [n + 1, n * 10] : undefined))` emits 0, 10, 20
   */
  static unfold<S, T>(seed: S, f: (state: S) => readonly [S, T] | undefined): Source<T> {
    return Source.fromGraph(new UnfoldStage(seed, f))
  }
  /**
   * Like `unfold` with an asynchronous step: the promise resolves to `[nextState, element]`, or `undefined` to complete.
   * - Emits when: downstream pulled and the promise of `f` resolved with an element
   * - Backpressures when: downstream backpressures (`f` runs once per pull, never ahead of demand)
   * - Completes when: the promise resolves to `undefined`; fails when `f` throws or its promise rejects
   * - Cancels when: downstream cancels (a pending result is dropped)
   * @example `Source.unfoldAsync(1, async (page) => (page <= 3 ? [page + 1, await fetchPage(page)] : undefined))` emits pages 1 to 3
   */
  static unfoldAsync<S, T>(seed: S, f: (state: S) => Promise<readonly [S, T] | undefined>): Source<T> {
    return Source.fromGraph(new UnfoldAsyncStage(seed, f))
  }
  /**
   * Elements read from a resource: `create` opens it at start, `read` returns the next element or `undefined` at the end,
   * and `close` runs exactly once — on completion, failure and cancellation. Read errors follow the supervision decider
   * (`resume` reads again, `restart` closes and re-creates the resource).
   * - Emits when: downstream pulls and `read` returns an element
   * - Backpressures when: downstream backpressures (`read` runs once per pull)
   * - Completes when: `read` returns `undefined` and `close` succeeded; fails when `create`, `read` (decider `stop`) or that `close` throws
   * - Cancels when: downstream cancels (after closing the resource)
   * @example `Source.unfoldResource(() => openSync(path, 'r'), (fd) => readLine(fd), (fd) => closeSync(fd))` emits the file's lines
   */
  static unfoldResource<R, T>(create: () => R, read: (resource: R) => T | undefined, close: (resource: R) => void): Source<T> {
    return Source.fromGraph(new UnfoldResourceStage(create, read, close))
  }
  /**
   * Like `unfoldResource` with asynchronous `create`, `read` and `close`; at most one of them is in flight at a time, and
   * the stage stops only once `close` settled — so a resource is released even when downstream cancels mid-read.
   * - Emits when: downstream pulled and the promise of `read` resolved with an element
   * - Backpressures when: downstream backpressures (`read` runs once per pull, never ahead of demand)
   * - Completes when: `read` resolves to `undefined` and `close` resolved; fails when `create`, `read` (decider `stop`) or that `close` rejects
   * - Cancels when: downstream cancels (the resource is closed once the operation in flight settled)
   * @example `Source.unfoldResourceAsync(() => open(path), (fh) => readChunk(fh), (fh) => fh.close())` emits the file's chunks
   */
  static unfoldResourceAsync<R, T>(
    create: () => Promise<R>,
    read: (resource: R) => Promise<T | undefined>,
    close: (resource: R) => Promise<void>,
  ): Source<T> {
    return Source.fromGraph(new UnfoldResourceAsyncStage(create, read, close))
  }
  /**
   * A source created and materialized on the first demand; the promise resolves with the inner source's materialized
   * value then (it rejects if `create` throws, or with `AbruptTerminationError` if the stream stops before any demand).
   * - Emits when: the inner source emits
   * - Backpressures when: downstream backpressures
   * - Completes when: the inner source completes (fails when it fails, or when `create` throws)
   * - Cancels when: downstream cancels (the inner source too, with the same cause)
   * @example `Source.lazySource(() => Source.from(loadRows()))` calls `loadRows` only when the first row is wanted
   */
  static lazySource<T, M>(create: () => Source<T, M>): Source<T, Promise<M>> {
    return Source.fromGraph(new LazySource(create))
  }
  /** Alias of {@link Source.lazySource}. */
  static lazy<T, M>(create: () => Source<T, M>): Source<T, Promise<M>> {
    return Source.lazySource(create)
  }

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


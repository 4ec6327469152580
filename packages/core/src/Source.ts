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
import { AsyncIterableSource, AsyncIteratorSink } from './interop/asyncIterable.js'
import { coldObservable, ObservableSink, ObservableSource, type FromObservableOptions, type ObservableLike } from './interop/observable.js'
import { ReadableSink, ReadableSource, type ReadableOptions } from './interop/node.js'
import { ReadableStreamSink, ReadableStreamSource, type ReadableStreamOptions } from './interop/whatwg.js'
import type { Observable } from 'rxjs'
import type { Readable } from 'node:stream'
import type { ReadableStream } from 'node:stream/web'
import { graphModule, type Graph } from './graph/Graph.js'
import { combineSources } from './graph/compose.js'
import type { UniformFanInShape } from './graph/shapes.js'
import { BackpressuredQueueSource, QueueSource, type BackpressuredSourceQueue, type QueueOverflowStrategy, type SourceQueue } from './sources/queue.js'

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

  /** A source from any graph with one open outlet: a stage, or a graph built with `GraphDSL`. */
  static fromGraph<T, M>(graph: Graph<SourceShape<T>, M>): Source<T, M> {
    return new Source(graphModule(graph, 'source', 0, 1))
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

  // @@section graphs (Source.combine)
  /**
   * One source fed by several: source i feeds inlet i of the fan-in junction `strategy(n)` (n = the
   * number of sources), e.g. `(n) => Merge.create(n)` or `(n) => Concat.create(n)`. The sources'
   * materialized values are dropped.
   * - Emits when: the junction emits
   * - Backpressures when: downstream backpressures
   * - Completes when: the junction completes (e.g. a `Merge` once every source completed)
   * - Cancels when: downstream cancels (every source, with its cause)
   * @example `Source.combine(Source.from([1, 2]), Source.from([3]), (n) => Concat.create<number>(n))` emits 1, 2, 3
   */
  static combine<T, U>(
    first: Source<T, any>,
    second: Source<T, any>,
    ...rest: [...Source<T, any>[], (n: number) => Graph<UniformFanInShape<T, U>, any>]
  ): Source<U> {
    const strategy = rest[rest.length - 1] as (n: number) => Graph<UniformFanInShape<T, U>, any>
    const sources = [first, second, ...(rest.slice(0, -1) as Source<T, any>[])]
    return new Source(combineSources(sources.map((s) => s.module), strategy(sources.length), Keep.none))
  }
  /** Like `combine` for two sources, keeping `combine(first's, second's)` materialized values. */
  static combineMat<T, U, M1, M2, M3>(
    first: Source<T, M1>,
    second: Source<T, M2>,
    strategy: (n: number) => Graph<UniformFanInShape<T, U>, any>,
    combine: (l: M1, r: M2) => M3,
  ): Source<U, M3> {
    return new Source(combineSources([first.module, second.module], strategy(2), combine))
  }
  // @@end graphs

  // @@section hubs (Source.queue, Source.queueBackpressured)
  /**
   * A source fed through the materialized {@link SourceQueue}, whose synchronous `offer(x)` answers at once:
   * `'enqueued'`, `'dropped'`, `'closed'` or `{ failure }`; a full buffer applies `overflowStrategy` (`dropHead`,
   * `dropTail`, `dropBuffer` make room, `dropNew` drops the offered element, `fail` fails the stream).
   * - Emits when: downstream pulls and an offered element is buffered
   * - Backpressures when: never (offers to a full buffer follow the overflow strategy)
   * - Completes when: the queue's `complete()` was called and the buffered elements were delivered; fails at once
   *   on `fail(error)` or an overflow with the `fail` strategy
   * - Cancels when: downstream cancels (later offers answer `'closed'`)
   * @example
   * ```ts
   * const q = Source.queue<string>(100, 'dropHead').to(Sink.foreach(send)).run()
   * q.offer('hello') // 'enqueued'
   * q.complete()
   * ```
   */
  static queue<T>(bufferSize: number, overflowStrategy: QueueOverflowStrategy): Source<T, SourceQueue<T>> {
    return Source.fromGraph(new QueueSource<T>(bufferSize, overflowStrategy))
  }
  /**
   * A source fed through the materialized {@link BackpressuredSourceQueue}: `offer(x)` returns a promise that resolves
   * with `'enqueued'` once the element was taken into the buffer (with `bufferSize` 0: pushed downstream), or with
   * `'closed'` / `{ failure }` if the stream ended first; at most `maxConcurrentOffers` offers may wait, a further one
   * rejects with `QueueConcurrencyError`.
   * - Emits when: downstream pulls and an offered element is buffered (or an offer waits)
   * - Backpressures when: downstream backpressures — offers then wait for room in the buffer
   * - Completes when: the queue's `complete()` was called and every element offered before it was delivered; fails at
   *   once on `fail(error)`
   * - Cancels when: downstream cancels (waiting and later offers settle with `'closed'`)
   * @example
   * ```ts
   * const q = Source.queueBackpressured<Chunk>(16).to(socketSink).run()
   * for await (const chunk of file) if ((await q.offer(chunk)) !== 'enqueued') break
   * q.complete()
   * ```
   */
  static queueBackpressured<T>(bufferSize: number, maxConcurrentOffers = 1): Source<T, BackpressuredSourceQueue<T>> {
    return Source.fromGraph(new BackpressuredQueueSource<T>(bufferSize, maxConcurrentOffers))
  }
  // @@end hubs

  // @@section interop (fromObservable, fromAsyncIterable, fromReadable, fromReadableStream, …)
  /**
   * The elements of an Observable (subscribed per materialization) through a bounded buffer: an Observable cannot be
   * backpressured, so `bufferSize` and `overflowStrategy` are required (`BufferOverflowError` with 'fail').
   * - Emits when: an element is buffered and downstream pulls
   * - Backpressures when: never (the overflow strategy applies once the buffer is full)
   * - Completes when: the Observable completes and the buffer was emitted; fails at once when it errors or overflows with 'fail'
   * - Cancels when: downstream cancels (the Observable is unsubscribed)
   * @example `Source.fromObservable(interval(100), { bufferSize: 16, overflowStrategy: 'dropHead' })` keeps the 16 newest ticks while downstream is slow
   */
  static fromObservable<T>(observable: ObservableLike<T>, options: FromObservableOptions): Source<T> {
    return Source.fromGraph(new ObservableSource(observable, options))
  }
  /**
   * The values of an async iterable (`iterable[Symbol.asyncIterator]()` per materialization; a generator object can be read once).
   * - Emits when: downstream pulled and the iterator's `next()` resolved with a value
   * - Backpressures when: downstream backpressures (`next()` is called once per pull, never ahead of demand)
   * - Completes when: the iterator is done; fails when `next()` throws or rejects
   * - Cancels when: downstream cancels (the iterator's `return()` is called, so a generator's `finally` runs)
   * @example `Source.fromAsyncIterable(readLines(file))` emits the lines of an async generator
   */
  static fromAsyncIterable<T>(iterable: AsyncIterable<T>): Source<T> {
    return Source.fromGraph(new AsyncIterableSource(iterable))
  }
  /**
   * The chunks (bytes mode) or objects (object mode) of a Node `Readable` made by `create` per materialization.
   * - Emits when: downstream pulls and the Readable has data (`read()` once per pull: it buffers at most its `highWaterMark` ahead)
   * - Backpressures when: downstream backpressures
   * - Completes when: the Readable ends; fails on its 'error' or a premature close
   * - Cancels when: downstream cancels (the Readable is destroyed)
   * @example `Source.fromReadable(() => createReadStream(path))` emits the file's chunks as `Buffer`s
   */
  static fromReadable<T = Buffer>(create: () => Readable): Source<T> {
    return Source.fromGraph(new ReadableSource<T>(create))
  }
  /**
   * The chunks of a WHATWG `ReadableStream` (or of one made by a factory per materialization; a stream can be read once).
   * - Emits when: downstream pulled and `reader.read()` resolved with a chunk
   * - Backpressures when: downstream backpressures (`read()` once per pull)
   * - Completes when: the stream is done; fails when `read()` rejects (the stream errored)
   * - Cancels when: downstream cancels (the reader is cancelled with the cause)
   * @example `Source.fromReadableStream((await fetch(url)).body!)` emits the body's chunks
   */
  static fromReadableStream<T>(stream: ReadableStream<T> | (() => ReadableStream<T>)): Source<T> {
    return Source.fromGraph(new ReadableStreamSource(stream))
  }
  /**
   * A cold Observable: each subscription materializes this source (on `materializer`, default the process-wide one),
   * requests one element per delivered element, and unsubscribing cancels that stream with `NoMoreElementsNeeded`.
   * @example `Source.range(1, 3).toObservable().pipe(map((x) => x * 2)).subscribe(console.log)` logs 2, 4, 6
   */
  toObservable(materializer?: Materializer): Observable<Out> {
    return coldObservable(() => this.#runInto(new ObservableSink<Out>(), materializer))
  }
  /**
   * Run this source into a Node `Readable` (object mode by default) that pulls one element per `_read`;
   * destroying the Readable cancels the stream, a failed stream destroys it with the error.
   * @example `pipeline(Source.from(lines).map((l) => l + '\n').toReadable({ objectMode: false }), createWriteStream(path))`
   */
  toReadable(options: ReadableOptions = {}, materializer?: Materializer): Readable {
    return this.#runInto(new ReadableSink<Out>(options), materializer)
  }
  /**
   * Run this source into a WHATWG `ReadableStream` whose `pull()` requests one element (it pulls only while its
   * `desiredSize` is positive); cancelling it cancels the stream with `NoMoreElementsNeeded`.
   * @example `new Response(Source.from(chunks).toReadableStream())`
   */
  toReadableStream(options: ReadableStreamOptions = {}, materializer?: Materializer): ReadableStream<Out> {
    return this.#runInto(new ReadableStreamSink<Out>(options), materializer)
  }
  /**
   * `for await (const x of source)`: runs this source on the process-wide materializer (use
   * `source.runWith(Sink.asyncIterator(), materializer)` for another) and pulls one element per iteration;
   * `break` cancels the stream with `NoMoreElementsNeeded`, a failure is thrown from the loop.
   * @example `for await (const line of Source.from(['a', 'b'])) console.log(line)`
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Out, undefined, undefined> {
    return this.#runInto(new AsyncIteratorSink<Out>(), undefined)
  }
  #runInto<M>(stage: GraphStageWithMaterializedValue<any, M>, materializer = defaultMaterializer()): M {
    return materializer.materialize<M>(Module.linear(this.module, Module.atomic(stage), Keep.right))
  }
  // @@end interop

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


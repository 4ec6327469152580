/**
 * Sink: a blueprint with one input. Most sinks materialize a promise of the stream's outcome.
 */
import type * as E from 'fp-ts/lib/Either.js'
import type * as O from 'fp-ts/lib/Option.js'
import { Keep } from './Keep.js'
import { defaultMaterializer, type Materializer } from './internal/materializer.js'
import { Module } from './internal/module.js'
import { MapStage } from './ops/map.js'
import { CancelledSink, sinks } from './sinks/basic.js'
import type { Source } from './Source.js'
import { Attributes } from './stage/Attributes.js'
import type { NotUsed } from './stage/GraphStage.js'
import type { SinkShape } from './stage/ports.js'
import { AsyncIteratorSink } from './interop/asyncIterable.js'
import { ObservableSink } from './interop/observable.js'
import { ReadableSink, WritableSink, type ReadableOptions } from './interop/node.js'
import { ReadableStreamSink, WritableStreamSink, type ReadableStreamOptions } from './interop/whatwg.js'
import type { Observable } from 'rxjs'
import type { Readable, Writable } from 'node:stream'
import type { ReadableStream, WritableStream } from 'node:stream/web'
import { graphModule, type Graph, type MatMarker } from './graph/Graph.js'
import { combineSinks } from './graph/compose.js'
import { sinkShapeOf, type UniformFanOutShape } from './graph/shapes.js'
import { QueueSink, type SinkQueue } from './sinks/queue.js'

export class Sink<In, Mat = NotUsed> {
  declare readonly _in: (x: In) => void
  constructor(/** @internal */ readonly module: Module) {}

  /** A sink from any graph with one open inlet: a stage, or a graph built with `GraphDSL`. */
  static fromGraph<T, M>(graph: Graph<SinkShape<T>, M>): Sink<T, M> {
    return new Sink(graphModule(graph, 'sink', 1, 0))
  }
  /** Collect every element into an array. */
  static seq<T>(): Sink<T, Promise<T[]>> {
    return Sink.fromGraph(sinks.seq<T>())
  }
  /** The first element (then cancel upstream); rejects with `EmptyStreamError` on an empty stream. */
  static head<T>(): Sink<T, Promise<T>> {
    return Sink.fromGraph(sinks.head<T>())
  }
  /** The first element as an `Option` (then cancel upstream). */
  static headOption<T>(): Sink<T, Promise<O.Option<T>>> {
    return Sink.fromGraph(sinks.headOption<T>())
  }
  /** The last element; rejects with `EmptyStreamError` on an empty stream. */
  static last<T>(): Sink<T, Promise<T>> {
    return Sink.fromGraph(sinks.last<T>())
  }
  /** The last element as an `Option`. */
  static lastOption<T>(): Sink<T, Promise<O.Option<T>>> {
    return Sink.fromGraph(sinks.lastOption<T>())
  }
  /** Consume and discard everything; resolves on completion. */
  static ignore<T = unknown>(): Sink<T, Promise<void>> {
    return Sink.fromGraph(sinks.ignore<T>())
  }
  /** Run `f` for every element; resolves on completion. */
  static foreach<T>(f: (x: T) => void): Sink<T, Promise<void>> {
    return Sink.fromGraph(sinks.foreach(f))
  }
  /** Fold every element into one result. */
  static fold<T, S>(zero: S, f: (acc: S, x: T) => S): Sink<T, Promise<S>> {
    return Sink.fromGraph(sinks.fold(zero, f))
  }
  /** Fold seeded with the first element; rejects with `EmptyStreamError` on an empty stream. */
  static reduce<T>(f: (acc: T, x: T) => T): Sink<T, Promise<T>> {
    return Sink.fromGraph(sinks.reduce(f))
  }
  /** Cancel upstream at once. */
  static cancelled<T = unknown>(): Sink<T, NotUsed> {
    return Sink.fromGraph(new CancelledSink<T>())
  }
  /** Discard elements; call `callback` with `right` on completion or `left(error)` on failure. */
  static onComplete<T = unknown>(callback: (result: E.Either<unknown, void>) => void): Sink<T, NotUsed> {
    return Sink.ignore<T>().mapMaterializedValue((done): NotUsed => {
      done.then(
        () => callback({ _tag: 'Right', right: undefined }),
        (e: unknown) => callback({ _tag: 'Left', left: e }),
      )
      return undefined
    })
  }

  // @@section graphs (Sink.combine)
  /**
   * One sink feeding several: outlet i of the fan-out junction `strategy(n)` (n = the number of
   * sinks) feeds sink i, e.g. `(n) => Broadcast.create(n)` or `(n) => Balance.create(n)`. The sinks'
   * materialized values are dropped.
   * - Backpressures when: the junction backpressures (a `Broadcast`: any sink backpressures)
   * - Cancels when: the junction cancels (a `Broadcast`: every sink cancelled)
   * @example `Source.range(1, 3).runWith(Sink.combine(Sink.foreach(log), Sink.foreach(store), (n) => Broadcast.create<number>(n)))`
   */
  static combine<T, U>(
    first: Sink<U, any>,
    second: Sink<U, any>,
    ...rest: [...Sink<U, any>[], (n: number) => Graph<UniformFanOutShape<T, U>, any>]
  ): Sink<T> {
    const strategy = rest[rest.length - 1] as (n: number) => Graph<UniformFanOutShape<T, U>, any>
    const all = [first, second, ...(rest.slice(0, -1) as Sink<U, any>[])]
    return new Sink(combineSinks(all.map((s) => s.module), strategy(all.length), Keep.none))
  }
  /** Like `combine` for two sinks, keeping `combine(first's, second's)` materialized values. */
  static combineMat<T, U, M1, M2, M3>(
    first: Sink<U, M1>,
    second: Sink<U, M2>,
    strategy: (n: number) => Graph<UniformFanOutShape<T, U>, any>,
    combine: (l: M1, r: M2) => M3,
  ): Sink<T, M3> {
    return new Sink(combineSinks([first.module, second.module], strategy(2), combine))
  }
  /** Type-level only: the materialized value (a Sink is a `Graph`). */
  declare readonly _mat: MatMarker<Mat>
  /** The open port of this sink (a fresh port named after its stage's), so it can be used as a `Graph`. */
  get shape(): SinkShape<In> {
    return sinkShapeOf(this.module)
  }
  /** @internal */
  toModule(): Module {
    return this.module
  }
  // @@end graphs

  // @@section hubs (Sink.queue)
  /**
   * A sink read through the materialized {@link SinkQueue}: `pull()` resolves with `some(element)`, with `none` once
   * the stream completed (or the queue was cancelled), and rejects with the stream's error once it failed. It
   * prefetches up to the `inputBuffer` attribute's max (default 16) elements; at most `maxConcurrentPulls` pulls may be
   * unsettled, a further one rejects with `QueueConcurrencyError`.
   * - Backpressures when: its buffer is full (nobody pulls)
   * - Completes when: upstream completes (pulls get the buffered elements, then `none`)
   * - Cancels when: the queue's `cancel()` is called
   * @example
   * ```ts
   * const q = Source.from([1, 2]).runWith(Sink.queue<number>())
   * await q.pull() // some(1)
   * await q.pull() // some(2)
   * await q.pull() // none
   * ```
   */
  static queue<T>(maxConcurrentPulls = 1): Sink<T, SinkQueue<T>> {
    return Sink.fromGraph(new QueueSink<T>(maxConcurrentPulls))
  }
  // @@end hubs

  // @@section interop (toWritable, toWritableStream, asyncIterator …)
  /**
   * Write every element into a Node `Writable` made by `create` per materialization; resolves once it finished
   * (everything flushed), rejects with its error. `write()` runs only while the previous one returned true, else after 'drain'.
   * On completion the Writable is ended; on failure it is destroyed with the error.
   * @example `Source.from(lines).map((l) => l + '\n').runWith(Sink.toWritable(() => createWriteStream(path)))`
   */
  static toWritable<T>(create: () => Writable): Sink<T, Promise<void>> {
    return Sink.fromGraph(new WritableSink<T>(create))
  }
  /**
   * Write every element into a WHATWG `WritableStream` (or one made per materialization); pulls while the writer's
   * `desiredSize` is positive, else after `writer.ready`. Resolves once the writer closed; on failure the writer is aborted.
   * @example `await Source.from(chunks).runWith(Sink.toWritableStream(new WritableStream({ write: (c) => save(c) })))`
   */
  static toWritableStream<T>(stream: WritableStream<T> | (() => WritableStream<T>)): Sink<T, Promise<void>> {
    return Sink.fromGraph(new WritableStreamSink<T>(stream))
  }
  /**
   * Materialize a single-use async iterator over the stream: each `next()` pulls one element, `return()` (a `break`)
   * cancels the stream with `NoMoreElementsNeeded`, a failure rejects the pending `next()`.
   * @example `for await (const x of Source.range(1, 3).runWith(Sink.asyncIterator(), materializer)) console.log(x)`
   */
  static asyncIterator<T>(): Sink<T, AsyncIterableIterator<T, undefined, undefined>> {
    return Sink.fromGraph(new AsyncIteratorSink<T>())
  }
  /**
   * Materialize an Observable for one subscriber: elements are pulled one at a time as it receives them; unsubscribing
   * cancels the stream with `NoMoreElementsNeeded`; a second subscriber gets a `StageProtocolError`. For an Observable
   * that runs the stream anew per subscriber use `Source.toObservable`.
   * @example `const obs = Source.range(1, 3).runWith(Sink.asObservable()); obs.subscribe(console.log)`
   */
  static asObservable<T>(): Sink<T, Observable<T>> {
    return Sink.fromGraph(new ObservableSink<T>())
  }
  /**
   * Materialize a Node `Readable` (object mode by default) that pulls one element per `_read`; destroying it cancels
   * the stream (with the destroy error as cause, if any), a failed stream destroys it with the error.
   * @example `Source.from(['a', 'b']).runWith(Sink.asReadable({ objectMode: false })).pipe(process.stdout)`
   */
  static asReadable<T>(options: ReadableOptions = {}): Sink<T, Readable> {
    return Sink.fromGraph(new ReadableSink<T>(options))
  }
  /**
   * Materialize a WHATWG `ReadableStream` whose `pull()` requests one element (only while its `desiredSize` is positive);
   * cancelling it cancels the stream with `NoMoreElementsNeeded`, a failed stream errors it.
   * @example `new Response(Source.from(chunks).runWith(Sink.asReadableStream()))`
   */
  static asReadableStream<T>(options: ReadableStreamOptions = {}): Sink<T, ReadableStream<T>> {
    return Sink.fromGraph(new ReadableStreamSink<T>(options))
  }
  // @@end interop

  /** Run `source` into this sink; returns this sink's materialized value. */
  runWith<M>(source: Source<In, M>, materializer: Materializer = defaultMaterializer()): Mat {
    return materializer.materialize<Mat>(Module.linear(source.module, this.module, Keep.right))
  }
  /** A sink that transforms elements with `f` before this one sees them. */
  contramap<T>(f: (x: T) => In): Sink<T, Mat> {
    return new Sink(Module.linear(Module.atomic(new MapStage(f)), this.module, Keep.right))
  }
  mapMaterializedValue<M2>(f: (m: Mat) => M2): Sink<In, M2> {
    return new Sink(this.module.mapMat(f))
  }
  withAttributes(attributes: Attributes): Sink<In, Mat> {
    return new Sink(this.module.withAttributes(attributes))
  }
  named(name: string): Sink<In, Mat> {
    return this.withAttributes(Attributes.named(name))
  }
  async(): Sink<In, Mat> {
    return new Sink(this.module.async())
  }
}

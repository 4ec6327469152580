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
import type { GraphStageWithMaterializedValue, NotUsed } from './stage/GraphStage.js'
import type { SinkShape } from './stage/ports.js'

export class Sink<In, Mat = NotUsed> {
  declare readonly _in: (x: In) => void
  constructor(/** @internal */ readonly module: Module) {}

  /** A sink from a stage with one inlet. */
  static fromGraph<T, M>(stage: GraphStageWithMaterializedValue<SinkShape<T>, M>): Sink<T, M> {
    return new Sink(Module.atomic(stage))
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

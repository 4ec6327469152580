/**
 * The contenders of the core benchmark: one pipeline, `map(x => x * 2) → filter(x => x % 3 === 0)
 * → fold(sum)` over 1..n, written the way a user of each library would write it. Every `run`
 * resolves with the sum; the harness checks it. Each contender has its own lambdas so no call
 * site is shared between libraries.
 */
import { Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CountQueuingStrategy, ReadableStream, TransformStream, WritableStream } from 'node:stream/web'
import { Materializer, Sink, Source } from '@weir/core'
import { Effect, Stream } from 'effect'
import { filter as rxFilter, lastValueFrom, map as rxMap, range as rxRange, reduce as rxReduce } from 'rxjs'
import type { Contender } from './harness.js'

// ---- weir ----

const weirFused: Contender = {
  key: 'weir-fused',
  name: 'weir fused',
  divisor: 1,
  run: (n) =>
    Source.range(1, n)
      .map((x) => x * 2)
      .filter((x) => x % 3 === 0)
      .fold(0, (a, x) => a + x)
      .runWith(Sink.head()),
}

// Same pipeline with every operator run as its own stage (no operator fusion). The check guards
// against a stale @weir/core build that ignores the setting and would silently measure fusion.
let noFusionMaterializer: Materializer | undefined
function unfusedMaterializer(): Materializer {
  return (noFusionMaterializer ??= Materializer.create({ operatorFusion: false }))
}
function operatorFusionUnsupported(): string | undefined {
  const m: { operatorFusion?: unknown } = unfusedMaterializer()
  return m.operatorFusion === false ? undefined : 'this @weir/core build ignores MaterializerSettings.operatorFusion'
}

const weirUnfused: Contender = {
  key: 'weir-no-fusion',
  name: 'weir, operator fusion off',
  divisor: 1,
  unavailable: operatorFusionUnsupported,
  run: (n) =>
    Source.range(1, n)
      .map((x) => x * 2)
      .filter((x) => x % 3 === 0)
      .fold(0, (a, x) => a + x)
      .runWith(Sink.head(), unfusedMaterializer()),
}

const weirAsync: Contender = {
  key: 'weir-async',
  name: 'weir, one async boundary',
  divisor: 1,
  run: (n) =>
    Source.range(1, n)
      .map((x) => x * 2)
      .async()
      .filter((x) => x % 3 === 0)
      .fold(0, (a, x) => a + x)
      .runWith(Sink.head()),
}

// ---- rxjs ----

const rxjs: Contender = {
  key: 'rxjs',
  name: 'rxjs 7',
  divisor: 1,
  run: (n) =>
    lastValueFrom(
      rxRange(1, n).pipe(
        rxMap((x) => x * 2),
        rxFilter((x) => x % 3 === 0),
        rxReduce((a, x) => a + x, 0),
      ),
    ),
}

// ---- Effect ----

const effectChunked: Contender = {
  key: 'effect-chunked',
  name: 'Effect Stream, chunked',
  divisor: 1,
  run: (n) =>
    Effect.runPromise(
      Stream.range(1, n).pipe(
        Stream.map((x) => x * 2),
        Stream.filter((x) => x % 3 === 0),
        Stream.runFold(0, (a, x) => a + x),
      ),
    ),
}

// `range`'s third argument is the chunk size: 1 makes every element its own chunk.
const effectPerElement: Contender = {
  key: 'effect-per-element',
  name: 'Effect Stream, 1 element per chunk',
  divisor: 10,
  run: (n) =>
    Effect.runPromise(
      Stream.range(1, n, 1).pipe(
        Stream.map((x) => x * 2),
        Stream.filter((x) => x % 3 === 0),
        Stream.runFold(0, (a, x) => a + x),
      ),
    ),
}

// ---- Node object-mode streams ----

function* integers(n: number): Generator<number> {
  for (let i = 1; i <= n; i++) yield i
}

async function nodeStreams(n: number): Promise<number> {
  let sum = 0
  await pipeline(
    Readable.from(integers(n), { objectMode: true }),
    new Transform({
      objectMode: true,
      transform(x: number, _enc, cb) {
        cb(null, x * 2)
      },
    }),
    new Transform({
      objectMode: true,
      transform(x: number, _enc, cb) {
        if (x % 3 === 0) cb(null, x)
        else cb()
      },
    }),
    new Writable({
      objectMode: true,
      write(x: number, _enc, cb) {
        sum += x
        cb()
      },
    }),
  )
  return sum
}

const nodeObjectMode: Contender = {
  key: 'node-object-mode',
  name: 'Node object-mode streams',
  divisor: 1,
  run: nodeStreams,
}

// ---- WHATWG streams ----

async function webStreams(n: number): Promise<number> {
  let next = 1
  let sum = 0
  const source = new ReadableStream<number>(
    {
      pull(controller) {
        while (next <= n && (controller.desiredSize ?? 0) > 0) controller.enqueue(next++)
        if (next > n) controller.close()
      },
    },
    new CountQueuingStrategy({ highWaterMark: 16 }),
  )
  await source
    .pipeThrough(
      new TransformStream<number, number>({
        transform(x, controller) {
          controller.enqueue(x * 2)
        },
      }),
    )
    .pipeThrough(
      new TransformStream<number, number>({
        transform(x, controller) {
          if (x % 3 === 0) controller.enqueue(x)
        },
      }),
    )
    .pipeTo(
      new WritableStream<number>({
        write(x) {
          sum += x
        },
      }),
    )
  return sum
}

const whatwg: Contender = {
  key: 'whatwg',
  name: 'WHATWG streams',
  divisor: 100,
  run: webStreams,
}

/** In table order; "weir fused" first, since ratios are taken against it. */
export const contenders: readonly Contender[] = [
  weirFused,
  weirUnfused,
  weirAsync,
  rxjs,
  effectChunked,
  effectPerElement,
  nodeObjectMode,
  whatwg,
]

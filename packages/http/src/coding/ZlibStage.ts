/**
 * A `node:zlib` stream (gzip, deflate, brotli; either direction) as a `Flow<Uint8Array, Uint8Array>`.
 *
 * Contract:
 * - The zlib stream is created once per materialization and owned by the stage: it is destroyed
 *   (its native handle closed) when the stage stops for any reason — completion, failure, cancellation.
 * - Backpressure in both directions: output is read from zlib only when downstream pulls, and zlib
 *   inflates or deflates only while its readable buffer has room, so a small input that expands
 *   enormously (a zip bomb) produces no more than one buffer ahead of demand; input is written
 *   only while zlib's writable buffer has room (`write()` true, else after 'drain'). In flight at
 *   any time: at most one zlib chunk (16 KiB) plus the two stream buffers (16 KiB each) plus
 *   the last upstream element.
 * - `maxOutputBytes` bounds the total output: the chunk that crosses it fails the stream with
 *   `EntityTooLargeError` (limit = maxOutputBytes) and zlib is closed; nothing past it is produced.
 * - zlib errors (corrupt or truncated input) fail the stream with `mapError(error)`.
 *
 * Emits when zlib has output and downstream pulled.
 * Backpressures when downstream does not pull (zlib's buffers fill, then the upstream is not pulled).
 * Completes when upstream completed and zlib flushed its last bytes.
 * Cancels when downstream cancels (zlib is destroyed).
 */
import type { Transform } from 'node:stream'
import { GraphStageLogic, LinearStage, type AsyncCallback, type FlowShape, type Inlet, type Outlet } from '@weir/core'
import { EntityTooLargeError } from '../model/HttpEntity.js'

const noop = (): void => {}

/** How a {@link ZlibStage} creates its stream and reports its failures. */
export interface ZlibStageSpec {
  /** Stage name (ports are `<name>.in` / `<name>.out`), e.g. `'gzip'`, `'gunzip'`. */
  readonly name: string
  /** A fresh zlib stream per materialization. */
  readonly create: () => Transform
  /** The error the stream fails with when zlib reports `error`. */
  readonly mapError: (error: unknown) => unknown
  /** Total output bytes allowed (Infinity: no limit). */
  readonly maxOutputBytes: number
}

class ZlibLogic extends GraphStageLogic {
  readonly in: Inlet<Uint8Array>
  readonly out: Outlet<Uint8Array>
  #zlib: Transform | undefined = undefined
  /** Downstream pulled and `read()` found nothing: the next 'readable' reads again. */
  #waiting = false
  /** `write()` returned false: 'drain' pulls upstream again. */
  #draining = false
  /** Output bytes pushed so far. */
  #produced = 0
  readonly #readable: AsyncCallback<void>
  readonly #drain: AsyncCallback<void>
  readonly #end: AsyncCallback<void>
  readonly #error: AsyncCallback<unknown>
  readonly #onReadable = (): void => {
    if (this.#waiting) this.#readable.invoke()
  }
  readonly #onDrain = (): void => {
    if (this.#draining) this.#drain.invoke()
  }
  readonly #onEnd = (): void => {
    this.#end.invoke()
  }
  readonly #onError = (e: unknown): void => {
    this.#error.invoke(e)
  }

  constructor(
    shape: FlowShape<Uint8Array, Uint8Array>,
    readonly spec: ZlibStageSpec,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.setHandlers(shape.in, shape.out, this)
    this.#readable = this.getAsyncCallback(() => {
      if (this.#waiting && this.isAvailable(this.out)) this.#read()
    })
    this.#drain = this.getAsyncCallback(() => {
      if (!this.#draining) return
      this.#draining = false
      if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
    })
    this.#end = this.getAsyncCallback(() => this.completeStage())
    this.#error = this.getAsyncCallback((e) => this.failStage(this.spec.mapError(e)))
  }

  override preStart(): void {
    let z: Transform
    try {
      z = this.spec.create()
    } catch (e) {
      return this.failStage(this.spec.mapError(e))
    }
    this.#zlib = z
    z.on('readable', this.#onReadable)
    z.on('drain', this.#onDrain)
    z.on('end', this.#onEnd)
    z.on('error', this.#onError)
    this.pull(this.in)
  }

  onPush(): void {
    const z = this.#zlib!
    const chunk = this.grab(this.in)
    if (z.destroyed) return // zlib failed: its error is on its way to #error
    if (chunk.length === 0 || z.write(chunk)) this.pull(this.in)
    else this.#draining = true
  }

  onUpstreamFinish(): void {
    // the outlet stays open until zlib has emitted its last bytes ('end')
    const z = this.#zlib!
    if (!z.destroyed) z.end()
  }

  onUpstreamFailure(error: unknown): void {
    this.failStage(error)
  }

  onPull(): void {
    this.#read()
  }

  onDownstreamFinish(cause: unknown): void {
    this.cancelStage(cause)
  }

  #read(): void {
    const chunk = this.#zlib!.read() as Uint8Array | null
    if (chunk === null) {
      this.#waiting = true
      return
    }
    this.#waiting = false
    this.#produced += chunk.length
    if (this.#produced > this.spec.maxOutputBytes) return this.failStage(new EntityTooLargeError(this.spec.maxOutputBytes, undefined))
    this.push(this.out, chunk)
  }

  override postStop(): void {
    const z = this.#zlib
    if (z === undefined) return
    z.off('readable', this.#onReadable)
    z.off('drain', this.#onDrain)
    z.off('end', this.#onEnd)
    z.off('error', this.#onError)
    z.on('error', noop) // an error raised while tearing down has nobody left to tell
    if (!z.destroyed) z.destroy()
  }
}

/** See the module contract. */
export class ZlibStage extends LinearStage<Uint8Array, Uint8Array> {
  constructor(readonly spec: ZlibStageSpec) {
    super(spec.name)
  }
  createLogic(): GraphStageLogic {
    return new ZlibLogic(this.shape, this.spec)
  }
}

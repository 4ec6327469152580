/**
 * Junctions that hand every element to all their outputs: Broadcast (the element itself), UnzipWith
 * and Unzip (one part of it to each output), and WireTap (the main output, plus a tap that gets
 * the element only when it happens to be ready).
 *
 * Shared contract (Broadcast, UnzipWith, Unzip): the input is pulled only once every output still
 * running has pulled, so the slowest output sets the pace and nothing is buffered; a cancelled
 * output is left out from then on. The junction completes when its input completes and fails
 * when it fails (every output with the same error). It cancels its input when every output has
 * cancelled (with the last cause) or, with `eagerCancel`, when the first one cancels (with that
 * cause; the other outputs complete).
 */
import { InvalidArgumentError } from '../errors.js'
import { Attributes, type Decider } from '../stage/Attributes.js'
import { GraphStage } from '../stage/GraphStage.js'
import { GraphStageLogic, type InHandler } from '../stage/GraphStageLogic.js'
import { decide } from '../stage/linear.js'
import type { Inlet, Outlet } from '../stage/ports.js'
import { FanOutPort, type FanOutLogic } from './handlers.js'
import { FanOutShapeN, fanOutPorts, type UniformFanOutShape } from './shapes.js'

/** Options of {@link Broadcast}, {@link Balance} and {@link Partition}. */
export interface FanOutOptions {
  /** Cancel the input as soon as one output cancels (default false: when all outputs have cancelled). */
  readonly eagerCancel?: boolean
}

function checkOutputs(n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError('outputs', n, 'an integer of at least 1')
}

class AllOutputsLogic<In> extends GraphStageLogic implements InHandler, FanOutLogic {
  readonly in: Inlet<In>
  readonly outs: readonly Outlet<unknown>[]
  /** The splitting function of an unzip; undefined for a broadcast. */
  readonly split: ((x: In) => readonly unknown[]) | undefined
  readonly eagerCancel: boolean
  readonly decider: Decider
  /** 1 while output i has not pulled since the last element. */
  readonly #pending: Uint8Array
  #pendingCount: number
  #running: number
  constructor(shape: FanOutShapeN<In, any>, split: ((x: In) => readonly unknown[]) | undefined, eagerCancel: boolean, attributes: Attributes) {
    super(shape)
    this.in = shape.in
    this.outs = shape.outs
    this.split = split
    this.eagerCancel = eagerCancel
    this.decider = attributes.decider
    this.#pending = new Uint8Array(shape.outs.length).fill(1)
    this.#pendingCount = shape.outs.length
    this.#running = shape.outs.length
    this.setHandler(shape.in, this)
    for (let i = 0; i < shape.outs.length; i++) this.setHandler(shape.outs[i]!, new FanOutPort(this, i))
  }
  onPush(): void {
    const x = this.grab(this.in)
    const outs = this.outs
    const split = this.split
    let parts: readonly unknown[] | undefined
    if (split !== undefined) {
      try {
        parts = split(x)
      } catch (e) {
        if (decide(this.decider, e) === 'stop') this.failStage(e)
        else this.pull(this.in) // the element is dropped; every output still waits
        return
      }
    }
    this.#pendingCount = this.#running
    for (let i = 0; i < outs.length; i++) {
      const out = outs[i]!
      if (this.isClosed(out)) continue
      this.push(out, parts === undefined ? x : parts[i])
      this.#pending[i] = 1
    }
  }
  onOutputPull(i: number): void {
    this.#pending[i] = 0
    if (--this.#pendingCount === 0 && !this.hasBeenPulled(this.in) && !this.isClosed(this.in)) this.pull(this.in)
  }
  onOutputCancel(i: number, cause: unknown): void {
    if (this.eagerCancel || --this.#running === 0) {
      this.cancelStage(cause)
      return
    }
    if (this.#pending[i] === 1) this.onOutputPull(i) // no longer waited for
  }
}

/**
 * Emit every element to all `outputs` outputs.
 * - Emits when: every output still running has pulled and the input has an element
 * - Backpressures when: any output backpressures
 * - Completes when: the input completes
 * - Cancels when: every output cancelled (`eagerCancel`: any output cancelled)
 *
 * @example
 * ```ts
 * const bcast = b.add(Broadcast.create<Order>(2))
 * b.from(orders).to(bcast.in)
 * b.from(bcast.out(0)).to(audit)
 * b.from(bcast.out(1)).to(billing)
 * ```
 */
export class Broadcast<T> extends GraphStage<UniformFanOutShape<T, T>> {
  readonly shape: UniformFanOutShape<T, T>
  readonly eagerCancel: boolean
  constructor(readonly outputs: number, options: FanOutOptions = {}) {
    super()
    checkOutputs(outputs)
    const [inlet, outs] = fanOutPorts<T>('broadcast', outputs)
    this.shape = new FanOutShapeN(inlet, outs)
    this.eagerCancel = options.eagerCancel ?? false
  }
  static create<T>(outputs: number, options?: FanOutOptions): Broadcast<T> {
    return new Broadcast<T>(outputs, options)
  }
  override get initialAttributes(): Attributes {
    return BROADCAST_ATTRIBUTES
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new AllOutputsLogic<T>(this.shape, undefined, this.eagerCancel, attributes)
  }
}
const BROADCAST_ATTRIBUTES = Attributes.named('broadcast')

/**
 * Split every element with `f` into `outputs` parts (an array, or a tuple for typed outputs) and
 * emit part i to output i. `f` is supervised: `resume`/`restart` drop the element.
 * - Emits when: every output still running has pulled and the input has an element
 * - Backpressures when: any output backpressures
 * - Completes when: the input completes
 * - Cancels when: every output cancelled (the last cause)
 *
 * @example
 * ```ts
 * const split = b.add(UnzipWith.create(2, (u: User) => [u.id, u.name]))
 * b.from(split.out(0)).to(idSink) // Outlet<number>
 * b.from(split.out(1)).to(nameSink) // Outlet<string>
 * ```
 */
export class UnzipWith<In, Outs extends readonly unknown[]> extends GraphStage<FanOutShapeN<In, Outs>> {
  readonly shape: FanOutShapeN<In, Outs>
  constructor(
    readonly outputs: number,
    readonly f: (x: In) => Outs,
  ) {
    super()
    checkOutputs(outputs)
    const [inlet, outs] = fanOutPorts<In>('unzip', outputs)
    this.shape = new FanOutShapeN(inlet, outs)
  }
  static create<In, Outs extends unknown[]>(outputs: Outs['length'], f: (x: In) => [...Outs]): UnzipWith<In, Outs> {
    return new UnzipWith<In, Outs>(outputs, f)
  }
  override get initialAttributes(): Attributes {
    return UNZIP_ATTRIBUTES
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new AllOutputsLogic<In>(this.shape, this.f, false, attributes)
  }
}
const UNZIP_ATTRIBUTES = Attributes.named('unzip')

const identityPair = <A, B>(x: readonly [A, B]): [A, B] => [x[0], x[1]]

/**
 * Split pairs: the first element of each pair to output 0, the second to output 1.
 * - Emits when: both outputs still running have pulled and the input has an element
 * - Backpressures when: any output backpressures
 * - Completes when: the input completes
 * - Cancels when: both outputs cancelled (the last cause)
 *
 * @example `b.add(Unzip.create<number, string>())` — fed [1, 'a'], [2, 'b'], out(0) emits 1, 2 and out(1) 'a', 'b'
 */
export const Unzip = {
  create<A, B>(): UnzipWith<readonly [A, B], [A, B]> {
    return new UnzipWith<readonly [A, B], [A, B]>(2, identityPair)
  },
}

class WireTapLogic<T> extends GraphStageLogic implements InHandler, FanOutLogic {
  readonly in: Inlet<T>
  readonly main: Outlet<T>
  readonly tap: Outlet<T>
  constructor(shape: FanOutShapeN<T, [T, T]>) {
    super(shape)
    this.in = shape.in
    this.main = shape.out(0)
    this.tap = shape.out(1)
    this.setHandler(shape.in, this)
    this.setHandler(this.main, new FanOutPort(this, 0))
    this.setHandler(this.tap, new FanOutPort(this, 1))
  }
  onPush(): void {
    const x = this.grab(this.in)
    this.push(this.main, x)
    if (this.isAvailable(this.tap)) this.push(this.tap, x) // a busy tap misses the element
  }
  onOutputPull(i: number): void {
    if (i === 0) this.pull(this.in)
  }
  onOutputCancel(i: number, cause: unknown): void {
    if (i === 0) this.cancelStage(cause) // a cancelled tap is simply left out
  }
}

/**
 * Pass every element to output 0 (main), and also to output 1 (the tap) when the tap has pulled;
 * the tap never slows the main output down: elements it is not ready for are not delivered to it.
 * - Emits when: the input has an element and main pulled (the tap gets it too if it pulled)
 * - Backpressures when: main backpressures
 * - Completes when: the input completes
 * - Cancels when: main cancels (a cancelled tap is left out)
 *
 * @example `source.wireTap(Sink.foreach(console.log))` uses this junction
 */
export class WireTap<T> extends GraphStage<FanOutShapeN<T, [T, T]>> {
  readonly shape: FanOutShapeN<T, [T, T]>
  constructor() {
    super()
    const [inlet, outs] = fanOutPorts<T>('wireTap', 2)
    this.shape = new FanOutShapeN(inlet, outs)
  }
  static create<T>(): WireTap<T> {
    return new WireTap<T>()
  }
  override get initialAttributes(): Attributes {
    return WIRE_TAP_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new WireTapLogic<T>(this.shape)
  }
}
const WIRE_TAP_ATTRIBUTES = Attributes.named('wireTap')

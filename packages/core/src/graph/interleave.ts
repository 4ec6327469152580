/**
 * Sequencing junctions: Interleave (segments of `segmentSize` elements from each input in turn)
 * and Concat (all of input 0, then all of input 1, … — the stage of ops/concat.ts as a junction).
 *
 * Shared contract: only the input whose turn it is is pulled, and only when downstream pulled, so
 * no element is taken from an input before it is needed; a completed input is skipped. The failure
 * of any input fails the junction at once (cancelling the others with the error); a downstream
 * cancellation cancels every input with the same cause.
 */
import { InvalidArgumentError } from '../errors.js'
import { Module } from '../internal/module.js'
import { ConcatStage } from '../ops/concat.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStage, type NotUsed } from '../stage/GraphStage.js'
import { GraphStageLogic, type OutHandler } from '../stage/GraphStageLogic.js'
import type { Inlet, Outlet } from '../stage/ports.js'
import type { Graph, MatMarker } from './Graph.js'
import { FanInPort, type FanInLogic } from './handlers.js'
import { FanInShapeN, fanInPorts, type UniformFanInShape } from './shapes.js'

/** Options of {@link Interleave}. */
export interface InterleaveOptions {
  /** Complete as soon as one input completes (default false: when all have completed). */
  readonly eagerClose?: boolean
}

class InterleaveLogic<T> extends GraphStageLogic implements FanInLogic, OutHandler {
  readonly ins: readonly Inlet<T>[]
  readonly out: Outlet<T>
  readonly segmentSize: number
  readonly eagerClose: boolean
  /** The input whose turn it is (always an open one while the stage runs). */
  #current = 0
  /** Elements emitted from the current input in this segment. */
  #emitted = 0
  #running: number
  constructor(shape: UniformFanInShape<T, T>, segmentSize: number, eagerClose: boolean) {
    super(shape)
    this.ins = shape.ins
    this.out = shape.out
    this.segmentSize = segmentSize
    this.eagerClose = eagerClose
    this.#running = shape.ins.length
    for (let i = 0; i < shape.ins.length; i++) this.setHandler(shape.ins[i]!, new FanInPort(this, i))
    this.setHandler(shape.out, this)
  }
  onPull(): void {
    this.pull(this.ins[this.#current]!)
  }
  onInputPush(i: number): void {
    this.push(this.out, this.grab(this.ins[i]!))
    if (++this.#emitted === this.segmentSize) this.#next()
  }
  onInputFinish(i: number): void {
    if (this.eagerClose || --this.#running === 0) {
      this.completeStage()
      return
    }
    if (i !== this.#current) return
    // the current input ended mid-segment: the next one takes over (and gets the pending pull)
    this.#next()
    if (this.isAvailable(this.out)) this.pull(this.ins[this.#current]!)
  }
  #next(): void {
    this.#emitted = 0
    const n = this.ins.length
    let i = this.#current
    do i = (i + 1) % n
    while (this.isClosed(this.ins[i]!) && i !== this.#current)
    this.#current = i
  }
}

/**
 * Emit `segmentSize` elements from input 0, then `segmentSize` from input 1, and so on round the
 * inputs; a completed input is skipped (the next one starts a fresh segment).
 * - Emits when: the input whose turn it is emits
 * - Backpressures when: downstream backpressures
 * - Completes when: every input completed (`eagerClose`: one input completed)
 * - Cancels when: downstream cancels
 *
 * @example
 * ```ts
 * const il = b.add(Interleave.create<number>(2, 2))
 * b.from(Source.from([1, 2, 3, 4])).to(il.in(0))
 * b.from(Source.from([10, 20, 30])).to(il.in(1)) // il.out emits 1, 2, 10, 20, 3, 4, 30
 * ```
 */
export class Interleave<T> extends GraphStage<UniformFanInShape<T, T>> {
  readonly shape: UniformFanInShape<T, T>
  readonly eagerClose: boolean
  constructor(
    readonly inputs: number,
    readonly segmentSize: number,
    options: InterleaveOptions = {},
  ) {
    super()
    if (!(Number.isInteger(inputs) && inputs >= 1)) throw new InvalidArgumentError('inputs', inputs, 'an integer of at least 1')
    if (!(Number.isInteger(segmentSize) && segmentSize >= 1)) throw new InvalidArgumentError('segmentSize', segmentSize, 'an integer of at least 1')
    const [ins, out] = fanInPorts<T>('interleave', inputs)
    this.shape = new FanInShapeN(ins, out)
    this.eagerClose = options.eagerClose ?? false
  }
  static create<T>(inputs: number, segmentSize: number, options?: InterleaveOptions): Interleave<T> {
    return new Interleave<T>(inputs, segmentSize, options)
  }
  override get initialAttributes(): Attributes {
    return INTERLEAVE_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new InterleaveLogic<T>(this.shape, this.segmentSize, this.eagerClose)
  }
}
const INTERLEAVE_ATTRIBUTES = Attributes.named('interleave')

/**
 * Emit every element of input 0, then every element of input 1, and so on (all inputs are
 * materialized at once, each is pulled only in its turn). The junction form of `concat`.
 * - Emits when: the input whose turn it is emits
 * - Backpressures when: downstream backpressures
 * - Completes when: the last input completed
 * - Cancels when: downstream cancels
 *
 * @example
 * ```ts
 * Source.combine(Source.from([1, 2]), Source.from([3]), (n) => Concat.create<number>(n)) // emits 1, 2, 3
 * ```
 */
export class Concat<T> implements Graph<UniformFanInShape<T, T>, NotUsed> {
  declare readonly _mat: MatMarker<NotUsed>
  readonly shape: UniformFanInShape<T, T>
  readonly #stage: ConcatStage<T>
  constructor(readonly inputs = 2) {
    this.#stage = new ConcatStage<T>(inputs)
    // the same port names and order as the stage's; the builder and `fromGraph` use the module
    const [ins, out] = fanInPorts<T>('concat', inputs)
    this.shape = new FanInShapeN(ins, out)
  }
  static create<T>(inputs = 2): Concat<T> {
    return new Concat<T>(inputs)
  }
  /** @internal */
  toModule(): Module {
    return Module.atomic(this.#stage)
  }
}

/**
 * Merging junctions: Merge (first come, first served), MergePreferred (one input wins when several
 * have an element) and MergePrioritized (inputs win in proportion to their priorities).
 *
 * Shared contract: every input is pulled at start and again as soon as its element was emitted,
 * so each input has at most one element waiting in the junction; an element is pushed only when
 * downstream pulled. The junction completes when every input completed and the waiting elements
 * were emitted — or, with `eagerComplete`, as soon as one input completes: the other inputs are
 * cancelled (`StageWasCompleted`) except those whose element still waits, which is emitted first.
 * The failure of any input fails the junction at once (the other inputs are cancelled with the
 * error); a downstream cancellation cancels every input with the same cause.
 *
 * - Emits when: one of the inputs has an element available (the choice is per junction, above)
 * - Backpressures when: downstream backpressures
 * - Completes when: all inputs completed (`eagerComplete`: one input completed)
 * - Cancels when: downstream cancels
 */
import { InvalidArgumentError, StageWasCompleted } from '../errors.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStage } from '../stage/GraphStage.js'
import { GraphStageLogic, type OutHandler } from '../stage/GraphStageLogic.js'
import { Inlet, type Outlet } from '../stage/ports.js'
import { FanInPort, IndexQueue, type FanInLogic } from './handlers.js'
import { FanInShapeN, MergePreferredShape, fanInPorts, type UniformFanInShape } from './shapes.js'

/** Options of the merging junctions. */
export interface MergeOptions {
  /** Complete as soon as one input completes (default false: when all have completed). */
  readonly eagerComplete?: boolean
}

function checkCount(what: string, n: number, min: number): void {
  if (!(Number.isInteger(n) && n >= min)) throw new InvalidArgumentError(what, n, `an integer of at least ${min}`)
}

/** The merge algorithm; subclasses say which waiting input is emitted next. */
abstract class MergeLogicBase<T> extends GraphStageLogic implements FanInLogic, OutHandler {
  readonly ins: readonly Inlet<T>[]
  readonly out: Outlet<T>
  readonly eagerComplete: boolean
  /** Inputs not completed; 0 once the junction decided to complete (eagerly or not). */
  #running: number
  constructor(shape: UniformFanInShape<T, T>, eagerComplete: boolean) {
    super(shape)
    this.ins = shape.ins
    this.out = shape.out
    this.eagerComplete = eagerComplete
    this.#running = shape.ins.length
    for (let i = 0; i < shape.ins.length; i++) this.setHandler(shape.ins[i]!, new FanInPort(this, i))
    this.setHandler(shape.out, this)
  }
  /** Record that input `i` has an element waiting. */
  protected abstract enqueue(i: number): void
  /** The waiting input to emit from next (removing it), or -1 when none waits. */
  protected abstract select(): number
  protected abstract get hasWaiting(): boolean

  override preStart(): void {
    for (const i of this.ins) this.tryPull(i)
  }
  onInputPush(i: number): void {
    // downstream waiting implies no element waits here: emit at once
    if (this.isAvailable(this.out)) this.#emitFrom(i)
    else this.enqueue(i)
  }
  onInputFinish(_i: number): void {
    if (this.#running === 0) {
      if (!this.hasWaiting) this.completeStage()
      return
    }
    if (!this.eagerComplete) {
      if (--this.#running === 0 && !this.hasWaiting) this.completeStage()
      return
    }
    this.#running = 0
    if (!this.hasWaiting) {
      this.completeStage()
      return
    }
    // keep the inputs whose element waits until it is emitted
    for (const inlet of this.ins) if (!this.isClosed(inlet) && !this.isAvailable(inlet)) this.cancel(inlet, StageWasCompleted)
  }
  onPull(): void {
    for (;;) {
      const i = this.select()
      if (i === -1) break
      // an input cancelled since it was recorded has lost its element: try the next one
      if (this.isAvailable(this.ins[i]!)) {
        this.#emitFrom(i)
        return
      }
    }
    if (this.#running === 0) this.completeStage()
  }
  #emitFrom(i: number): void {
    const inlet = this.ins[i]!
    this.push(this.out, this.grab(inlet))
    if (this.#running > 0) this.tryPull(inlet)
    else if (!this.hasWaiting) this.completeStage()
  }
}

class MergeLogic<T> extends MergeLogicBase<T> {
  readonly #waiting: IndexQueue
  constructor(shape: UniformFanInShape<T, T>, eagerComplete: boolean) {
    super(shape, eagerComplete)
    this.#waiting = new IndexQueue(shape.ins.length)
  }
  protected enqueue(i: number): void {
    this.#waiting.enqueue(i)
  }
  protected select(): number {
    return this.#waiting.dequeue()
  }
  protected get hasWaiting(): boolean {
    return !this.#waiting.isEmpty
  }
}

/**
 * Merge `inputs` streams into one, emitting elements in the order they arrive (inputs that have
 * an element at the same time take turns).
 * - Emits when: one of the inputs has an element available
 * - Backpressures when: downstream backpressures
 * - Completes when: all inputs completed (`eagerComplete`: one input completed)
 * - Cancels when: downstream cancels
 *
 * @example
 * ```ts
 * GraphDSL.create((b) => {
 *   const merge = b.add(Merge.create<number>(2))
 *   b.from(Source.from([1, 2])).to(merge.in(0))
 *   b.from(Source.from([10, 20])).to(merge.in(1))
 *   return new SourceShape(merge.out) // emits 1, 2, 10, 20 in some interleaving
 * })
 * ```
 */
export class Merge<T> extends GraphStage<UniformFanInShape<T, T>> {
  readonly shape: UniformFanInShape<T, T>
  readonly eagerComplete: boolean
  constructor(readonly inputs: number, options: MergeOptions = {}) {
    super()
    checkCount('inputs', inputs, 1)
    const [ins, out] = fanInPorts<T>('merge', inputs)
    this.shape = new FanInShapeN(ins, out)
    this.eagerComplete = options.eagerComplete ?? false
  }
  static create<T>(inputs: number, options?: MergeOptions): Merge<T> {
    return new Merge<T>(inputs, options)
  }
  override get initialAttributes(): Attributes {
    return MERGE_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new MergeLogic<T>(this.shape, this.eagerComplete)
  }
}
const MERGE_ATTRIBUTES = Attributes.named('merge')

class MergePreferredLogic<T> extends MergeLogicBase<T> {
  readonly #preferred: number
  readonly #waiting: IndexQueue
  constructor(shape: MergePreferredShape<T>, eagerComplete: boolean) {
    super(shape, eagerComplete)
    this.#preferred = shape.ins.length - 1
    this.#waiting = new IndexQueue(shape.ins.length)
  }
  protected enqueue(i: number): void {
    if (i !== this.#preferred) this.#waiting.enqueue(i)
  }
  protected select(): number {
    return this.isAvailable(this.ins[this.#preferred]!) ? this.#preferred : this.#waiting.dequeue()
  }
  protected get hasWaiting(): boolean {
    return !this.#waiting.isEmpty || this.isAvailable(this.ins[this.#preferred]!)
  }
}

/**
 * Merge one preferred input with `secondaries` other inputs: when several have an element, the
 * `preferred` input's is emitted first (the secondary inputs take turns among themselves). The
 * preferred inlet is the last one, so `(n) => MergePreferred.create(n - 1)` works as a combine strategy.
 * - Emits when: one of the inputs has an element available, the preferred one first
 * - Backpressures when: downstream backpressures
 * - Completes when: all inputs completed (`eagerComplete`: one input completed)
 * - Cancels when: downstream cancels
 *
 * @example
 * ```ts
 * const merge = b.add(MergePreferred.create<Job>(1))
 * b.from(urgentJobs).to(merge.preferred)
 * b.from(normalJobs).to(merge.in(0))
 * ```
 */
export class MergePreferred<T> extends GraphStage<MergePreferredShape<T>> {
  readonly shape: MergePreferredShape<T>
  readonly eagerComplete: boolean
  constructor(readonly secondaries: number, options: MergeOptions = {}) {
    super()
    checkCount('secondaries', secondaries, 1)
    const [ins, out] = fanInPorts<T>('mergePreferred', secondaries)
    this.shape = new MergePreferredShape<T>(ins, new Inlet<T>('mergePreferred.preferred'), out)
    this.eagerComplete = options.eagerComplete ?? false
  }
  static create<T>(secondaries: number, options?: MergeOptions): MergePreferred<T> {
    return new MergePreferred<T>(secondaries, options)
  }
  override get initialAttributes(): Attributes {
    return MERGE_PREFERRED_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new MergePreferredLogic<T>(this.shape, this.eagerComplete)
  }
}
const MERGE_PREFERRED_ATTRIBUTES = Attributes.named('mergePreferred')

/**
 * Chooses among the waiting inputs by smooth weighted round robin: each waiting input gains its
 * priority, the richest is chosen and pays the sum of the waiting inputs' priorities. Over a run
 * where all inputs keep an element waiting, input i is chosen in proportion to its priority, in a
 * deterministic, evenly spread order.
 */
class MergePrioritizedLogic<T> extends MergeLogicBase<T> {
  readonly #priorities: readonly number[]
  readonly #credit: Float64Array
  readonly #isWaiting: Uint8Array
  #waitingCount = 0
  constructor(shape: UniformFanInShape<T, T>, priorities: readonly number[], eagerComplete: boolean) {
    super(shape, eagerComplete)
    this.#priorities = priorities
    this.#credit = new Float64Array(priorities.length)
    this.#isWaiting = new Uint8Array(priorities.length)
  }
  protected enqueue(i: number): void {
    this.#isWaiting[i] = 1
    this.#waitingCount++
  }
  protected select(): number {
    if (this.#waitingCount === 0) return -1
    const credit = this.#credit
    const priorities = this.#priorities
    let best = -1
    let total = 0
    for (let i = 0; i < priorities.length; i++) {
      if (this.#isWaiting[i] === 0) continue
      credit[i] = credit[i]! + priorities[i]!
      total += priorities[i]!
      if (best === -1 || credit[i]! > credit[best]!) best = i
    }
    credit[best] = credit[best]! - total
    this.#isWaiting[best] = 0
    this.#waitingCount--
    return best
  }
  protected get hasWaiting(): boolean {
    return this.#waitingCount > 0
  }
}

/**
 * Merge inputs with priorities (positive numbers, one per input): when several inputs have an
 * element, each is chosen in proportion to its priority (deterministically, evenly spread).
 * - Emits when: one of the inputs has an element available, by priority when several have
 * - Backpressures when: downstream backpressures
 * - Completes when: all inputs completed (`eagerComplete`: one input completed)
 * - Cancels when: downstream cancels
 *
 * @example
 * ```ts
 * const merge = b.add(MergePrioritized.create<Msg>([3, 1])) // while both have elements: 3 from in(0) for 1 from in(1)
 * ```
 */
export class MergePrioritized<T> extends GraphStage<UniformFanInShape<T, T>> {
  readonly shape: UniformFanInShape<T, T>
  readonly priorities: readonly number[]
  readonly eagerComplete: boolean
  constructor(priorities: readonly number[], options: MergeOptions = {}) {
    super()
    checkCount('priorities.length', priorities.length, 1)
    for (const p of priorities) {
      if (!(Number.isFinite(p) && p > 0)) throw new InvalidArgumentError('priority', p, 'a positive finite number')
    }
    this.priorities = [...priorities]
    const [ins, out] = fanInPorts<T>('mergePrioritized', priorities.length)
    this.shape = new FanInShapeN(ins, out)
    this.eagerComplete = options.eagerComplete ?? false
  }
  static create<T>(priorities: readonly number[], options?: MergeOptions): MergePrioritized<T> {
    return new MergePrioritized<T>(priorities, options)
  }
  override get initialAttributes(): Attributes {
    return MERGE_PRIORITIZED_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new MergePrioritizedLogic<T>(this.shape, this.priorities, this.eagerComplete)
  }
}
const MERGE_PRIORITIZED_ATTRIBUTES = Attributes.named('mergePrioritized')

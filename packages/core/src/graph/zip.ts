/**
 * Zipping junctions: ZipWith (one element from every input, combined by a function), Zip (pairs),
 * ZipN (arrays), and ZipLatestWith / ZipLatest (the latest element of every input, each time one
 * of them has a new element).
 *
 * Shared contract: every input is pulled at start and pulled again only once its element was used
 * in an emitted combination, so each input has at most one element waiting in the junction; a
 * combination is pushed only when downstream pulled. The combining function is supervised
 * (`attributes.decider`): `stop` fails the stage, `resume`/`restart` drop that combination. The
 * failure of any input fails the junction at once (the other inputs are cancelled with the error);
 * a downstream cancellation cancels every input with the same cause.
 */
import { InvalidArgumentError } from '../errors.js'
import { Attributes, type Decider } from '../stage/Attributes.js'
import { GraphStage } from '../stage/GraphStage.js'
import { GraphStageLogic, type OutHandler } from '../stage/GraphStageLogic.js'
import { decide } from '../stage/linear.js'
import type { Inlet, Outlet } from '../stage/ports.js'
import { FanInPort, type FanInLogic } from './handlers.js'
import { FanInShapeN, fanInPorts } from './shapes.js'

/** The inputs that the combining function `f` takes (at least two), checked against `f.length` unless given. */
function inputCount(f: (...xs: any[]) => unknown, inputs: number | undefined): number {
  const n = inputs ?? f.length
  if (!(Number.isInteger(n) && n >= 2)) {
    throw new InvalidArgumentError('inputs', n, 'an integer of at least 2 (pass it when the function has rest or default parameters)')
  }
  return n
}

class ZipWithLogic<O> extends GraphStageLogic implements FanInLogic, OutHandler {
  readonly ins: readonly Inlet<unknown>[]
  readonly out: Outlet<O>
  readonly f: (...xs: any[]) => O
  readonly decider: Decider
  /** Inputs that have no element waiting. */
  #missing: number
  /** An input completed while its element waited: complete once that element was used. */
  #willComplete = false
  constructor(shape: FanInShapeN<any, O>, f: (...xs: any[]) => O, attributes: Attributes) {
    super(shape)
    this.ins = shape.ins
    this.out = shape.out
    this.f = f
    this.decider = attributes.decider
    this.#missing = shape.ins.length
    for (let i = 0; i < shape.ins.length; i++) this.setHandler(shape.ins[i]!, new FanInPort(this, i))
    this.setHandler(shape.out, this)
  }
  override preStart(): void {
    for (const i of this.ins) this.pull(i)
  }
  onInputPush(_i: number): void {
    if (--this.#missing === 0 && this.isAvailable(this.out)) this.#pushAll()
  }
  onInputFinish(i: number): void {
    if (!this.isAvailable(this.ins[i]!)) this.completeStage()
    else this.#willComplete = true
  }
  onPull(): void {
    if (this.#missing === 0) this.#pushAll()
  }
  #pushAll(): void {
    const ins = this.ins
    let result: O
    let ok = true
    try {
      if (ins.length === 2) result = this.f(this.grab(ins[0]!), this.grab(ins[1]!))
      else {
        const xs = new Array<unknown>(ins.length)
        for (let i = 0; i < ins.length; i++) xs[i] = this.grab(ins[i]!)
        result = this.f(...xs)
      }
    } catch (e) {
      if (decide(this.decider, e) === 'stop') {
        this.failStage(e)
        return
      }
      ok = false
      result = undefined as O
    }
    // the elements were used (grabbed) even when the combination was dropped
    if (ok) this.push(this.out, result)
    if (this.#willComplete) {
      this.completeStage()
      return
    }
    this.#missing = ins.length
    for (const i of ins) this.pull(i)
  }
}

/**
 * Combine one element from every input with `f`; the number of inputs is `f.length` (at least 2)
 * unless `inputs` says otherwise.
 * - Emits when: every input has an element available
 * - Backpressures when: downstream backpressures
 * - Completes when: any input completes (after its last element was combined)
 * - Cancels when: downstream cancels
 *
 * @example
 * ```ts
 * const zip = b.add(ZipWith.create((n: number, s: string) => s.repeat(n)))
 * b.from(Source.from([1, 2])).to(zip.in(0))
 * b.from(Source.from(['a', 'b'])).to(zip.in(1)) // zip.out emits 'a', 'bb'
 * ```
 */
export class ZipWith<Ins extends readonly unknown[], O> extends GraphStage<FanInShapeN<Ins, O>> {
  readonly shape: FanInShapeN<Ins, O>
  constructor(
    readonly f: (...xs: Ins) => O,
    inputs?: number,
  ) {
    super()
    const [ins, out] = fanInPorts<O>('zipWith', inputCount(f as (...xs: any[]) => unknown, inputs))
    this.shape = new FanInShapeN(ins, out)
  }
  static create<Ins extends unknown[], O>(f: (...xs: Ins) => O, inputs?: Ins['length']): ZipWith<Ins, O> {
    return new ZipWith(f, inputs)
  }
  override get initialAttributes(): Attributes {
    return ZIP_WITH_ATTRIBUTES
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new ZipWithLogic<O>(this.shape, this.f as (...xs: any[]) => O, attributes)
  }
}
const ZIP_WITH_ATTRIBUTES = Attributes.named('zipWith')

const pair = <A, B>(a: A, b: B): [A, B] => [a, b]
const array = <T>(...xs: T[]): T[] => xs

/**
 * Pair up the elements of two inputs: `[a, b]`.
 * - Emits when: both inputs have an element available
 * - Backpressures when: downstream backpressures
 * - Completes when: either input completes (after its last element was paired)
 * - Cancels when: downstream cancels
 *
 * @example `b.add(Zip.create<number, string>())` — fed 1, 2 and 'a', 'b', 'c', it emits [1, 'a'], [2, 'b']
 */
export const Zip = {
  create<A, B>(): ZipWith<[A, B], [A, B]> {
    return new ZipWith<[A, B], [A, B]>(pair, 2)
  },
}

/**
 * Combine one element from each of `inputs` inputs into an array.
 * - Emits when: every input has an element available
 * - Backpressures when: downstream backpressures
 * - Completes when: any input completes (after its last element was combined)
 * - Cancels when: downstream cancels
 *
 * @example `b.add(ZipN.create<number>(3))` — fed 1, 2 / 10, 20 / 100, it emits [1, 10, 100]
 */
export const ZipN = {
  create<T>(inputs: number): ZipWith<T[], T[]> {
    return new ZipWith<T[], T[]>(array, inputs)
  },
}

/** Options of {@link ZipLatestWith} and {@link ZipLatest}. */
export interface ZipLatestOptions {
  /**
   * Complete as soon as one input completes (default true); false waits for every input. Either
   * way the junction completes at once when an input completes before it has emitted anything.
   */
  readonly eagerComplete?: boolean
}

class ZipLatestLogic<O> extends GraphStageLogic implements FanInLogic, OutHandler {
  readonly ins: readonly Inlet<unknown>[]
  readonly out: Outlet<O>
  readonly f: (...xs: any[]) => O
  readonly decider: Decider
  readonly eagerComplete: boolean
  readonly #latest: unknown[]
  readonly #has: Uint8Array
  /** Inputs that have not emitted yet. */
  #missing: number
  /** A new element arrived since the last combination was emitted. */
  #fresh = false
  #running: number
  #willComplete = false
  constructor(shape: FanInShapeN<any, O>, f: (...xs: any[]) => O, eagerComplete: boolean, attributes: Attributes) {
    super(shape)
    this.ins = shape.ins
    this.out = shape.out
    this.f = f
    this.decider = attributes.decider
    this.eagerComplete = eagerComplete
    this.#latest = new Array<unknown>(shape.ins.length)
    this.#has = new Uint8Array(shape.ins.length)
    this.#missing = shape.ins.length
    this.#running = shape.ins.length
    for (let i = 0; i < shape.ins.length; i++) this.setHandler(shape.ins[i]!, new FanInPort(this, i))
    this.setHandler(shape.out, this)
  }
  override preStart(): void {
    for (const i of this.ins) this.pull(i)
  }
  onInputPush(i: number): void {
    this.#latest[i] = this.grab(this.ins[i]!)
    if (this.#has[i] === 0) {
      this.#has[i] = 1
      this.#missing--
    }
    this.#fresh = true
    // not pulled again until its element was part of an emitted combination
    if (this.#missing === 0 && this.isAvailable(this.out)) this.#emit()
  }
  onInputFinish(i: number): void {
    if (this.#has[i] === 0 || this.#missing > 0) {
      this.completeStage() // some input can never contribute: nothing more can be emitted
      return
    }
    if (!this.eagerComplete && --this.#running > 0) return
    if (this.#fresh) this.#willComplete = true
    else this.completeStage()
  }
  onPull(): void {
    if (this.#missing === 0 && this.#fresh) this.#emit()
  }
  #emit(): void {
    this.#fresh = false
    let result: O
    let ok = true
    try {
      const l = this.#latest
      result = l.length === 2 ? this.f(l[0], l[1]) : this.f(...l)
    } catch (e) {
      if (decide(this.decider, e) === 'stop') {
        this.failStage(e)
        return
      }
      ok = false
      result = undefined as O
    }
    if (ok) this.push(this.out, result)
    if (this.#willComplete) {
      this.completeStage()
      return
    }
    for (const i of this.ins) this.tryPull(i)
  }
}

/**
 * Combine the latest element of every input with `f`, each time one of them has a new element
 * (several new elements that arrive while downstream backpressures are combined once); the number
 * of inputs is `f.length` (at least 2) unless `inputs` says otherwise.
 * - Emits when: every input has emitted at least once, and then each time one of them has a new element
 * - Backpressures when: downstream backpressures (an input is pulled again once its element was combined)
 * - Completes when: any input completes (`eagerComplete: false`: all inputs completed), after a pending combination was emitted; at once if an input completes without having emitted
 * - Cancels when: downstream cancels
 *
 * @example
 * ```ts
 * const latest = b.add(ZipLatestWith.create((price: number, fx: number) => price * fx))
 * ```
 */
export class ZipLatestWith<Ins extends readonly unknown[], O> extends GraphStage<FanInShapeN<Ins, O>> {
  readonly shape: FanInShapeN<Ins, O>
  readonly eagerComplete: boolean
  constructor(
    readonly f: (...xs: Ins) => O,
    options: ZipLatestOptions = {},
    inputs?: number,
  ) {
    super()
    const [ins, out] = fanInPorts<O>('zipLatest', inputCount(f as (...xs: any[]) => unknown, inputs))
    this.shape = new FanInShapeN(ins, out)
    this.eagerComplete = options.eagerComplete ?? true
  }
  static create<Ins extends unknown[], O>(f: (...xs: Ins) => O, options?: ZipLatestOptions, inputs?: Ins['length']): ZipLatestWith<Ins, O> {
    return new ZipLatestWith(f, options, inputs)
  }
  override get initialAttributes(): Attributes {
    return ZIP_LATEST_ATTRIBUTES
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new ZipLatestLogic<O>(this.shape, this.f as (...xs: any[]) => O, this.eagerComplete, attributes)
  }
}
const ZIP_LATEST_ATTRIBUTES = Attributes.named('zipLatest')

/**
 * Pair the latest elements of two inputs, each time one of them has a new element.
 * - Emits when: both inputs have emitted at least once, and then each time either has a new element
 * - Backpressures when: downstream backpressures
 * - Completes when: either input completes (`eagerComplete: false`: both completed)
 * - Cancels when: downstream cancels
 *
 * @example `b.add(ZipLatest.create<number, string>())` — fed 1 then 'a', 'b', it emits [1, 'a'], [1, 'b']
 */
export const ZipLatest = {
  create<A, B>(options?: ZipLatestOptions): ZipLatestWith<[A, B], [A, B]> {
    return new ZipLatestWith<[A, B], [A, B]>(pair, options, 2)
  },
}

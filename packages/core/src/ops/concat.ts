/**
 * Sequential fan-in junctions: Concat (all of input 0, then all of input 1, …) and OrElse (the
 * primary input, or the secondary one if the primary completes empty).
 *
 * Shared contract: every input is materialized (started) with the stream, eagerly, but an input
 * is pulled only while it is the one being emitted from, and only when downstream pulled; no
 * element is pushed without demand. The failure of any input fails the stage at once, cancelling
 * the other inputs with that error; a downstream cancellation cancels every open input with the
 * same cause. The fluent forms (`concat`, `prepend`, `orElse`) live in FlowOps.
 */
import { InvalidArgumentError, NoMoreElementsNeeded } from '../errors.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStage } from '../stage/GraphStage.js'
import { GraphStageLogic, type InHandler } from '../stage/GraphStageLogic.js'
import { FanInShape, Inlet, Outlet } from '../stage/ports.js'

const CONCAT_ATTRIBUTES = Attributes.named('concat')
const OR_ELSE_ATTRIBUTES = Attributes.named('orElse')

/** The handler of input `index` of a concat: forwards to the logic. */
class ConcatInput implements InHandler {
  constructor(readonly logic: ConcatLogic<any>, readonly index: number) {}
  onPush(): void {
    this.logic.onInputPush(this.index)
  }
  onUpstreamFinish(): void {
    this.logic.onInputFinish(this.index)
  }
}

class ConcatLogic<T> extends GraphStageLogic {
  readonly ins: readonly Inlet<T>[]
  readonly out: Outlet<T>
  /** The input being emitted from; inputs before it have completed. */
  #active = 0
  constructor(shape: FanInShape<T>) {
    super(shape)
    this.ins = shape.ins
    this.out = shape.out
    for (let i = 0; i < shape.ins.length; i++) this.setHandler(shape.ins[i]!, new ConcatInput(this, i))
    this.setHandler(shape.out, this)
  }
  onPull(): void {
    this.pull(this.ins[this.#active]!)
  }
  onInputPush(index: number): void {
    this.push(this.out, this.grab(this.ins[index]!))
  }
  onInputFinish(index: number): void {
    // a later input that completes before its turn is simply skipped when its turn comes
    if (index === this.#active) this.#advance()
  }
  /** Move to the first input still open; pull it if downstream is waiting, or complete if none is left. */
  #advance(): void {
    const ins = this.ins
    let i = this.#active
    while (i < ins.length && this.isClosed(ins[i]!)) i++
    this.#active = i
    if (i === ins.length) this.completeStage()
    else if (this.isAvailable(this.out)) this.pull(ins[i]!)
  }
}

/** Emits all elements of input 0, then of input 1, and so on; later inputs are pulled only in their turn. */
export class ConcatStage<T> extends GraphStage<FanInShape<T>> {
  readonly shape: FanInShape<T>
  constructor(readonly inputs = 2) {
    super()
    if (!(Number.isInteger(inputs) && inputs >= 1)) throw new InvalidArgumentError('inputs', inputs, 'an integer of at least 1')
    const ins: Inlet<T>[] = []
    for (let i = 0; i < inputs; i++) ins.push(new Inlet<T>(`concat.in${i}`))
    this.shape = new FanInShape(ins, new Outlet<T>('concat.out'))
  }
  override get initialAttributes(): Attributes {
    return CONCAT_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new ConcatLogic<T>(this.shape)
  }
}

/** The handler of the secondary input of an orElse. */
class OrElseSecondary implements InHandler {
  constructor(readonly logic: OrElseLogic<any>) {}
  onPush(): void {
    this.logic.onSecondaryPush()
  }
  onUpstreamFinish(): void {
    this.logic.onSecondaryFinish()
  }
}

class OrElseLogic<T> extends GraphStageLogic {
  readonly primary: Inlet<T>
  readonly secondary: Inlet<T>
  readonly out: Outlet<T>
  /** 'undecided' until the primary emits (→ 'primary') or completes empty (→ 'secondary'). */
  #from: 'undecided' | 'primary' | 'secondary' = 'undecided'
  constructor(shape: FanInShape<T>) {
    super(shape)
    this.primary = shape.ins[0]!
    this.secondary = shape.ins[1]!
    this.out = shape.out
    this.setHandler(this.primary, this)
    this.setHandler(this.secondary, new OrElseSecondary(this))
    this.setHandler(shape.out, this)
  }
  onPull(): void {
    this.pull(this.#from === 'secondary' ? this.secondary : this.primary)
  }
  /** Primary input: the first element decides for the primary and cancels the secondary. */
  onPush(): void {
    if (this.#from === 'undecided') {
      this.#from = 'primary'
      if (!this.isClosed(this.secondary)) this.cancel(this.secondary, NoMoreElementsNeeded)
    }
    this.push(this.out, this.grab(this.primary))
  }
  /** Primary input finished: done if it emitted (or the secondary is gone), otherwise switch over. */
  onUpstreamFinish(): void {
    if (this.#from === 'undecided' && !this.isClosed(this.secondary)) {
      this.#from = 'secondary'
      if (this.isAvailable(this.out)) this.pull(this.secondary)
    } else this.completeStage()
  }
  onSecondaryPush(): void {
    this.push(this.out, this.grab(this.secondary))
  }
  onSecondaryFinish(): void {
    // before the switch the empty secondary is not needed yet: wait for the primary
    if (this.#from === 'secondary' || this.isClosed(this.primary)) this.completeStage()
  }
}

/** Emits the primary input (0); if it completes without an element, emits the secondary input (1) instead. */
export class OrElseStage<T> extends GraphStage<FanInShape<T>> {
  readonly shape = new FanInShape<T>([new Inlet<T>('orElse.primary'), new Inlet<T>('orElse.secondary')], new Outlet<T>('orElse.out'))
  override get initialAttributes(): Attributes {
    return OR_ELSE_ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new OrElseLogic<T>(this.shape)
  }
}

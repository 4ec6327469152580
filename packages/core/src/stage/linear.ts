/**
 * Building blocks for one-in/one-out operator stages, so each operator file writes only its logic.
 */
import { Attributes, type Decider } from './Attributes.js'
import { GraphStage } from './GraphStage.js'
import { FlowShape, Inlet, Outlet, SourceShape } from './ports.js'

/** A stage with `FlowShape` whose ports are named after it (`map.in`, `map.out`). */
export abstract class LinearStage<In, Out> extends GraphStage<FlowShape<In, Out>> {
  readonly shape: FlowShape<In, Out>
  readonly #attributes: Attributes
  constructor(readonly name: string) {
    super()
    this.shape = new FlowShape(new Inlet<In>(`${name}.in`), new Outlet<Out>(`${name}.out`))
    this.#attributes = Attributes.named(name)
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
}

/** A stage with `SourceShape`, outlet named `<name>.out`. */
export abstract class SourceStage<Out> extends GraphStage<SourceShape<Out>> {
  readonly shape: SourceShape<Out>
  readonly #attributes: Attributes
  constructor(readonly name: string) {
    super()
    this.shape = new SourceShape(new Outlet<Out>(`${name}.out`))
    this.#attributes = Attributes.named(name)
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
}

/** The supervision directive for `error`, with a decider that itself throws treated as `stop`. */
export function decide(decider: Decider, error: unknown): 'stop' | 'resume' | 'restart' {
  try {
    return decider(error)
  } catch {
    return 'stop'
  }
}


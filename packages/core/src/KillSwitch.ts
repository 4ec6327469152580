/**
 * Kill switches: stop running streams from outside.
 *
 * A kill switch stage passes elements through unchanged until its switch is triggered:
 * `shutdown()` completes downstream and cancels upstream (a normal ending), `abort(error)` fails
 * downstream with `error` and cancels upstream with it as the cause. The switch talks to the
 * running stage through an async callback, so it may be triggered from anywhere — a timer, a
 * request handler, another stream — and before the stream has started (it then stops as soon
 * as it starts). Only the first trigger counts; later ones are ignored.
 *
 * - `KillSwitches.single()` materializes a {@link UniqueKillSwitch} controlling that one stream.
 * - `KillSwitches.shared(name)` is a {@link SharedKillSwitch} created up front; its `flow()` may
 *   be placed in any number of graphs, and triggering it stops all of them, including streams
 *   materialized after it was triggered (they stop at once).
 * - `KillSwitches.singleBidi()` does the same for both directions of a protocol layer.
 *
 * @example
 * ```ts
 * const [kill, done] = Source.tick(0, 100, 'beat').viaMat(KillSwitches.single(), Keep.right).watchTermination(Keep.both).to(Sink.ignore()).run()
 * kill.shutdown()
 * await done // resolves: the stream completed
 * ```
 */
import { BidiFlow } from './BidiFlow.js'
import { Flow } from './Flow.js'
import { Attributes } from './stage/Attributes.js'
import { GraphStageWithMaterializedValue } from './stage/GraphStage.js'
import { GraphStageLogic, type AsyncCallback } from './stage/GraphStageLogic.js'
import { BidiShape, FlowShape, Inlet, Outlet, type Shape } from './stage/ports.js'
import { SlotSet, type Slotted } from './internal/SlotSet.js'

/** A handle that stops the stream(s) it was materialized into. */
export interface KillSwitch {
  /** Complete downstream and cancel upstream (a normal ending). */
  shutdown(): void
  /** Fail downstream with `error` and cancel upstream with it as the cause. */
  abort(error: unknown): void
}

/** @internal What a triggered switch asks its stages to do. */
export type KillSwitchTrigger = { readonly t: 'shutdown' } | { readonly t: 'abort'; readonly error: unknown }
type Trigger = KillSwitchTrigger
const SHUTDOWN: Trigger = { t: 'shutdown' }

// ---- the stage logics ----

/** Pass-through for a flow; stops the whole stage when triggered. */
class KillSwitchFlowLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  readonly out: Outlet<T>
  constructor(shape: FlowShape<T, T>) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.setHandlers(shape.in, shape.out, this)
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
  }
  onPull(): void {
    this.pull(this.in)
  }
  /** Run inside the stage when the switch fires. */
  kill(trigger: Trigger): void {
    if (trigger.t === 'shutdown') this.completeStage()
    else this.failStage(trigger.error)
  }
}

/** Pass-through for both directions of a bidi; each direction ends on its own, the switch ends both. */
class KillSwitchBidiLogic<A, B> extends GraphStageLogic {
  constructor(readonly bidi: BidiShape<A, A, B, B>) {
    super(bidi)
    const { in1, out1, in2, out2 } = bidi
    this.setHandler(in1, {
      onPush: () => this.push(out1, this.grab(in1)),
      onUpstreamFinish: () => this.complete(out1),
      onUpstreamFailure: (e) => this.fail(out1, e),
    })
    this.setHandler(out1, {
      onPull: () => this.pull(in1),
      onDownstreamFinish: (cause) => this.cancel(in1, cause),
    })
    this.setHandler(in2, {
      onPush: () => this.push(out2, this.grab(in2)),
      onUpstreamFinish: () => this.complete(out2),
      onUpstreamFailure: (e) => this.fail(out2, e),
    })
    this.setHandler(out2, {
      onPull: () => this.pull(in2),
      onDownstreamFinish: (cause) => this.cancel(in2, cause),
    })
  }
  kill(trigger: Trigger): void {
    if (trigger.t === 'shutdown') this.completeStage()
    else this.failStage(trigger.error)
  }
}

type KillableLogic = KillSwitchFlowLogic<any> | KillSwitchBidiLogic<any, any>

function killableLogic(shape: Shape): KillableLogic {
  return shape instanceof BidiShape ? new KillSwitchBidiLogic(shape) : new KillSwitchFlowLogic(shape as FlowShape<any, any>)
}

// ---- unique switches ----

/** Controls the one stream it was materialized into (see `KillSwitches.single`). */
export class UniqueKillSwitch implements KillSwitch {
  readonly #callback: AsyncCallback<Trigger>
  #triggered = false
  /** @internal created by the kill switch stage for one materialization. */
  constructor(callback: AsyncCallback<KillSwitchTrigger>) {
    this.#callback = callback
  }
  shutdown(): void {
    this.#trigger(SHUTDOWN)
  }
  abort(error: unknown): void {
    this.#trigger({ t: 'abort', error })
  }
  #trigger(trigger: Trigger): void {
    if (this.#triggered) return
    this.#triggered = true
    this.#callback.invoke(trigger)
  }
  toString(): string {
    return 'UniqueKillSwitch'
  }
}

class UniqueKillSwitchStage<S extends Shape> extends GraphStageWithMaterializedValue<S, UniqueKillSwitch> {
  constructor(
    readonly shape: S,
    readonly attributes: Attributes,
  ) {
    super()
  }
  override get initialAttributes(): Attributes {
    return this.attributes
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, UniqueKillSwitch] {
    const logic = killableLogic(this.shape)
    return [logic, new UniqueKillSwitch(logic.getAsyncCallback(logic.kill))]
  }
}

// ---- shared switches ----

/**
 * A switch created before any stream, controlling every stream its `flow()` is materialized into.
 * Triggering it stops all of them; a stream materialized afterwards stops as soon as it starts.
 */
export class SharedKillSwitch implements KillSwitch {
  #trigger: Trigger | undefined = undefined
  /**
   * A shared switch may live long while the streams it controls come and go: in a `Set` each
   * stage, with its stream, was promoted to the old generation (see SlotSet).
   */
  readonly #running = new SlotSet<SharedKillSwitchLogic<any>>()
  readonly #flow: Flow<any, any, SharedKillSwitch>

  constructor(readonly name: string) {
    this.#flow = Flow.fromGraph(new SharedKillSwitchStage<any>(this))
  }

  /** A pass-through flow controlled by this switch; use it in any number of graphs. */
  flow<T>(): Flow<T, T, SharedKillSwitch> {
    return this.#flow
  }

  shutdown(): void {
    this.#fire(SHUTDOWN)
  }
  abort(error: unknown): void {
    this.#fire({ t: 'abort', error })
  }
  /** True once `shutdown` or `abort` was called. */
  get isTriggered(): boolean {
    return this.#trigger !== undefined
  }

  #fire(trigger: Trigger): void {
    if (this.#trigger !== undefined) return
    this.#trigger = trigger
    for (const logic of this.#running) logic.killed.invoke(trigger)
    this.#running.clear()
  }

  /** @internal a stage starts: stop it at once if triggered, otherwise register it. */
  _register(logic: SharedKillSwitchLogic<any>): Trigger | undefined {
    if (this.#trigger === undefined) this.#running.add(logic)
    return this.#trigger
  }
  /** @internal a stage stopped. */
  _unregister(logic: SharedKillSwitchLogic<any>): void {
    this.#running.delete(logic)
  }

  toString(): string {
    return `SharedKillSwitch(${this.name})`
  }
}

class SharedKillSwitchLogic<T> extends KillSwitchFlowLogic<T> implements Slotted {
  /** @internal its index among its switch's running stages */
  _slot = -1
  /** The switch fired (from outside the stage). */
  readonly killed: AsyncCallback<Trigger>
  constructor(
    shape: FlowShape<T, T>,
    readonly killSwitch: SharedKillSwitch,
  ) {
    super(shape)
    this.killed = this.getAsyncCallback(this.kill)
  }
  override preStart(): void {
    const trigger = this.killSwitch._register(this)
    if (trigger !== undefined) this.kill(trigger)
  }
  override postStop(): void {
    this.killSwitch._unregister(this)
  }
}

class SharedKillSwitchStage<T> extends GraphStageWithMaterializedValue<FlowShape<T, T>, SharedKillSwitch> {
  readonly shape: FlowShape<T, T>
  readonly #attributes: Attributes
  constructor(readonly killSwitch: SharedKillSwitch) {
    super()
    this.shape = new FlowShape(new Inlet<T>(`${killSwitch.name}.in`), new Outlet<T>(`${killSwitch.name}.out`))
    this.#attributes = Attributes.named(killSwitch.name)
  }
  override get initialAttributes(): Attributes {
    return this.#attributes
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, SharedKillSwitch] {
    return [new SharedKillSwitchLogic<T>(this.shape, this.killSwitch), this.killSwitch]
  }
}

// ---- factories ----

const SINGLE_ATTRIBUTES = Attributes.named('killSwitch')
const BIDI_ATTRIBUTES = Attributes.named('bidiKillSwitch')

export const KillSwitches = {
  /**
   * A pass-through flow materializing a switch for this one stream.
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes, or the switch is shut down
   * - Cancels when: downstream cancels, or the switch is shut down or aborted
   * @example `Source.never().viaMat(KillSwitches.single(), Keep.right).to(Sink.ignore()).run().shutdown()`
   */
  single<T>(): Flow<T, T, UniqueKillSwitch> {
    return Flow.fromGraph(new UniqueKillSwitchStage(new FlowShape(new Inlet<T>('killSwitch.in'), new Outlet<T>('killSwitch.out')), SINGLE_ATTRIBUTES))
  },
  /**
   * A pass-through bidi (`in1 → out1`, `in2 → out2`) materializing a switch that stops both directions.
   * Each direction otherwise completes, fails and cancels on its own.
   * @example `BidiFlow.identity<A, B>()` replaced by `KillSwitches.singleBidi<A, B>()` gives a layer that can be cut
   */
  singleBidi<A, B>(): BidiFlow<A, A, B, B, UniqueKillSwitch> {
    const shape = new BidiShape(
      new Inlet<A>('bidiKillSwitch.in1'),
      new Outlet<A>('bidiKillSwitch.out1'),
      new Inlet<B>('bidiKillSwitch.in2'),
      new Outlet<B>('bidiKillSwitch.out2'),
    )
    return BidiFlow.fromGraph(new UniqueKillSwitchStage(shape, BIDI_ATTRIBUTES))
  },
  /**
   * A switch named `name` whose `flow()` can be placed in many graphs; triggering it stops them all.
   * @example `const sw = KillSwitches.shared('ingest'); a.via(sw.flow()).run(); b.via(sw.flow()).run(); sw.shutdown()`
   */
  shared(name: string): SharedKillSwitch {
    return new SharedKillSwitch(name)
  },
} as const

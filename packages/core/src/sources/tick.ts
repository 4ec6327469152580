/**
 * Timer-driven sources: tick.
 *
 * Contract: `tick` emits its element at `initialDelay` after materialization and then every
 * `interval` at exact deadlines (a fixed rate: a late tick does not shift the following ones).
 * A tick that arrives while downstream is not pulling is dropped, never buffered, so a slow
 * consumer sees fewer ticks, not a burst. The materialized {@link Cancellable} completes the
 * source; it returns false once the source was cancelled or has stopped. Downstream cancellation
 * stops the source and its timer.
 */
import { toMillis, type Duration } from '../duration.js'
import { InvalidArgumentError } from '../errors.js'
import type { Cancellable } from '../internal/scheduler.js'
import { Attributes } from '../stage/Attributes.js'
import { GraphStageWithMaterializedValue } from '../stage/GraphStage.js'
import type { AsyncCallback, GraphStageLogic } from '../stage/GraphStageLogic.js'
import { Outlet, SourceShape } from '../stage/ports.js'
import { SourceLogic } from './basic.js'

const TICK = 'tick'
const TICK_ATTRIBUTES = Attributes.named('tick')

/** The materialized handle of a tick source: `cancel()` completes it. */
class TickCancellable implements Cancellable {
  #done = false
  constructor(readonly stop: AsyncCallback<void>) {}
  cancel(): boolean {
    if (this.#done) return false
    this.#done = true
    this.stop.invoke()
    return true
  }
  /** The source stopped: later `cancel()` calls return false. */
  stopped(): void {
    this.#done = true
  }
}

class TickLogic<T> extends SourceLogic<T> {
  readonly cancellable: TickCancellable
  constructor(
    shape: SourceShape<T>,
    readonly stage: TickSource<T>,
  ) {
    super(shape)
    this.cancellable = new TickCancellable(this.getAsyncCallback<void>(() => this.completeStage()))
  }
  override preStart(): void {
    const { initialDelayMs, intervalMs } = this.stage
    if (initialDelayMs === Infinity) return
    if (intervalMs === Infinity) this.scheduleOnce(TICK, initialDelayMs)
    else this.scheduleAtFixedRate(TICK, initialDelayMs, intervalMs)
  }
  onPull(): void {
    // ticks are pushed by the timer, into demand that is already there
  }
  protected override onTimer(): void {
    if (this.isAvailable(this.out)) this.push(this.out, this.stage.elem)
  }
  override postStop(): void {
    this.cancellable.stopped()
  }
}

export class TickSource<T> extends GraphStageWithMaterializedValue<SourceShape<T>, Cancellable> {
  readonly shape: SourceShape<T> = new SourceShape(new Outlet<T>('tick.out'))
  readonly initialDelayMs: number
  readonly intervalMs: number
  constructor(
    initialDelay: Duration,
    interval: Duration,
    readonly elem: T,
  ) {
    super()
    this.initialDelayMs = toMillis(initialDelay, 'initialDelay')
    const ms = toMillis(interval, 'interval')
    if (ms === 0) throw new InvalidArgumentError('interval', ms, 'a positive duration')
    this.intervalMs = ms
  }
  override get initialAttributes(): Attributes {
    return TICK_ATTRIBUTES
  }
  createLogicAndMaterializedValue(): readonly [GraphStageLogic, Cancellable] {
    const logic = new TickLogic(this.shape, this)
    return [logic, logic.cancellable]
  }
}

/**
 * throttle: limit the rate of a stream with a token bucket.
 *
 * Contract: tokens arrive one every `per / elements` ms into a bucket that holds at most
 * `maximumBurst` of them and starts full; an element takes `cost(x)` tokens (1 by default). An
 * element that finds enough tokens passes at once. Otherwise, in `shaping` mode, it is held until
 * the missing tokens have arrived (the bucket goes into debt for them, so the next element waits
 * its turn too) and then pushed — one exact timer per held element, none on the fast path; in
 * `enforcing` mode the stream fails with {@link RateExceededError}. Upstream is pulled only when
 * downstream pulls, so at most one element is held. Upstream completion while an element is held
 * completes after that element was pushed; failure and cancellation stop at once. The cost
 * function is not supervised: a throw or a negative cost fails the stream.
 */
import { toMillis, type Duration } from '../duration.js'
import { InvalidArgumentError, RateExceededError } from '../errors.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

/** How `throttle` treats an element that comes too early: hold it (`shaping`) or fail (`enforcing`). */
export type ThrottleMode = 'shaping' | 'enforcing'

/** Options of `throttle`. */
export interface ThrottleOptions<T> {
  /**
   * Tokens the bucket holds at most, i.e. how many elements (of cost 1) may pass at once after a
   * quiet period. Default: the tokens that arrive in 100 ms, at least 1.
   */
  readonly maximumBurst?: number
  /** `shaping` (default) delays elements that come too early; `enforcing` fails the stream with `RateExceededError`. */
  readonly mode?: ThrottleMode
  /** Tokens an element costs (a non-negative number); default 1 for every element. */
  readonly cost?: (x: T) => number
}

/** The span whose tokens make up the default burst (as in Pekko: rates above 10 per second may burst). */
const AUTOMATIC_BURST_SPAN_MS = 100
/** Tolerance when counting arrived tokens, so float rounding never loses a token that is due. */
const EPSILON = 1e-9
const HELD = 'throttle'

/**
 * A token bucket over the scheduler's clock (ms). `offer` takes tokens and answers how long the
 * element must wait (0: pass now); a positive answer puts the bucket into debt until then.
 */
class TokenBucket {
  #tokens = 0
  /** When the last counted token arrived (in the future while in debt). */
  #last = 0
  constructor(readonly capacity: number, readonly intervalMs: number) {}
  init(now: number): void {
    this.#tokens = this.capacity
    this.#last = now
  }
  offer(cost: number, now: number): number {
    const interval = this.intervalMs
    const elapsed = now - this.#last
    if (elapsed >= interval) {
      const arrived = Math.floor(elapsed / interval + EPSILON)
      this.#last += arrived * interval
      this.#tokens = Math.min(this.#tokens + arrived, this.capacity)
    }
    if (cost <= this.#tokens) {
      this.#tokens -= cost
      return 0
    }
    // tokens arrive at exact multiples of the interval after #last
    const delay = (cost - this.#tokens) * interval - (now - this.#last)
    this.#tokens = 0
    this.#last = now + delay
    return delay
  }
}

class ThrottleLogic<T> extends SupervisedLogic<T, T> {
  readonly #bucket: TokenBucket
  #held: T | undefined = undefined
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly stage: ThrottleStage<T>) {
    super(shape, attributes)
    this.#bucket = new TokenBucket(stage.maximumBurst, stage.perMs / stage.elements)
  }
  override preStart(): void {
    this.#bucket.init(this.now())
  }
  onPush(): void {
    const x = this.grab(this.in)
    const costFn = this.stage.cost
    const cost = costFn === undefined ? 1 : costFn(x)
    if (!(cost >= 0)) return this.failStage(new InvalidArgumentError('cost', cost, 'a non-negative number'))
    const delay = this.#bucket.offer(cost, this.now())
    if (delay <= 0) return this.push(this.out, x)
    const { stage } = this
    if (stage.mode === 'enforcing') return this.failStage(new RateExceededError(stage.elements, stage.perMs, stage.maximumBurst))
    this.#held = x
    this.scheduleOnce(HELD, delay)
  }
  onUpstreamFinish(): void {
    // a held element is pushed first (see onTimer)
    if (!this.isTimerActive(HELD)) this.completeStage()
  }
  protected override onTimer(): void {
    const x = this.#held as T
    this.#held = undefined
    this.push(this.out, x)
    if (this.isClosed(this.in)) this.completeStage()
  }
  override postStop(): void {
    this.#held = undefined
  }
}

export class ThrottleStage<T> extends LinearStage<T, T> {
  readonly perMs: number
  readonly maximumBurst: number
  readonly mode: ThrottleMode
  readonly cost: ((x: T) => number) | undefined
  constructor(readonly elements: number, per: Duration, options: ThrottleOptions<T> = {}) {
    super('throttle')
    if (!(Number.isInteger(elements) && elements >= 1)) throw new InvalidArgumentError('elements', elements, 'an integer of at least 1')
    const perMs = toMillis(per, 'per')
    if (!(perMs > 0 && perMs !== Infinity)) throw new InvalidArgumentError('per', perMs, 'a positive finite duration')
    this.perMs = perMs
    const burst = options.maximumBurst ?? Math.max(1, Math.floor((AUTOMATIC_BURST_SPAN_MS * elements) / perMs))
    if (!(Number.isInteger(burst) && burst >= 0)) throw new InvalidArgumentError('maximumBurst', burst, 'a non-negative integer')
    this.maximumBurst = burst
    const mode = options.mode ?? 'shaping'
    if (mode !== 'shaping' && mode !== 'enforcing') throw new InvalidArgumentError('mode', mode, "'shaping' or 'enforcing'")
    this.mode = mode
    this.cost = options.cost
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new ThrottleLogic<T>(this.shape, attributes, this)
  }
}

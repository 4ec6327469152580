/**
 * Exponential backoff with jitter, shared by the restart operators (`RestartSource`,
 * `RestartFlow`, `RestartSink`) and `RetryFlow`.
 *
 * Contract: the n-th delay (n counted from 0) is
 * `min(maxBackoff, minBackoff · 2ⁿ) · (1 + random() · randomFactor)`, rounded to whole
 * milliseconds — so the jitter may add up to `randomFactor` of the capped delay on top of
 * `maxBackoff`. From n = 30 on the exponential term is taken to be `maxBackoff`. `random` defaults
 * to `Math.random` and may be replaced for tests (a function returning a number in [0, 1)).
 * Settings are validated once, when the operator is created: a bad value is rejected with an
 * {@link InvalidArgumentError} naming the setting.
 */
import { toMillis, type Duration } from '../duration.js'
import { InvalidArgumentError } from '../errors.js'

/** How long to wait before the next attempt. */
export interface BackoffSettings {
  /** The first delay (≥ 0). */
  readonly minBackoff: Duration
  /** The cap of the exponential delay (finite, ≥ `minBackoff`). */
  readonly maxBackoff: Duration
  /** Jitter: up to this fraction of the delay is added at random (0 to 1; e.g. 0.2 adds up to 20 %). */
  readonly randomFactor: number
  /** The random source of the jitter, returning a number in [0, 1); default `Math.random`. */
  readonly random?: () => number
}

/** Settings of `RestartSource`, `RestartFlow` and `RestartSink`. */
export interface RestartSettings extends BackoffSettings {
  /**
   * How many restarts are allowed in a row (integer ≥ 0, default unlimited). The count starts
   * again from 0 — and the backoff from `minBackoff` — when the wrapped stream ended more than
   * `maxRestartsWithin` after its latest (re)start.
   */
  readonly maxRestarts?: number
  /** The window of `maxRestarts` (default `minBackoff`). */
  readonly maxRestartsWithin?: Duration
  /** Which failures of the wrapped stream lead to a restart (default: all); the others fail the stream. */
  readonly restartOn?: (error: unknown) => boolean
}

/** Settings of `RetryFlow.withBackoff`. */
export interface RetryFlowSettings extends BackoffSettings {
  /** How many times one element may be retried (integer ≥ 0). */
  readonly maxRetries: number
}

/** Beyond this many attempts the exponential term is `maxBackoff` (2³⁰ · minBackoff is years). */
const MAX_DOUBLINGS = 30

/** Validated backoff settings in milliseconds. */
export class Backoff {
  constructor(
    readonly minMs: number,
    readonly maxMs: number,
    readonly randomFactor: number,
    readonly random: () => number,
  ) {}

  /** Validate `settings`; `what` prefixes the names in errors (e.g. `RestartSource.settings`). */
  static from(settings: BackoffSettings, what: string): Backoff {
    if (typeof settings !== 'object' || settings === null) throw new InvalidArgumentError(what, settings, 'a settings object')
    const minMs = toMillis(settings.minBackoff, `${what}.minBackoff`)
    if (!Number.isFinite(minMs)) throw new InvalidArgumentError(`${what}.minBackoff`, settings.minBackoff, 'a finite duration')
    const maxMs = toMillis(settings.maxBackoff, `${what}.maxBackoff`)
    if (!Number.isFinite(maxMs) || maxMs < minMs) {
      throw new InvalidArgumentError(`${what}.maxBackoff`, settings.maxBackoff, `a finite duration of at least minBackoff (${minMs} ms)`)
    }
    const rf = settings.randomFactor
    if (typeof rf !== 'number' || !(rf >= 0 && rf <= 1)) throw new InvalidArgumentError(`${what}.randomFactor`, rf, 'a number from 0 to 1')
    const random = settings.random ?? Math.random
    if (typeof random !== 'function') throw new InvalidArgumentError(`${what}.random`, random, 'a function returning a number in [0, 1)')
    return new Backoff(minMs, maxMs, rf, random)
  }

  /** The delay before attempt `n + 1`, after `n` earlier restarts or retries (n ≥ 0). */
  delay(n: number): number {
    const base = n >= MAX_DOUBLINGS ? this.maxMs : Math.min(this.maxMs, this.minMs * 2 ** n)
    const jitter = this.randomFactor === 0 ? 1 : 1 + this.random() * this.randomFactor
    return Math.round(base * jitter)
  }
}

/** Validated {@link RestartSettings}. */
export class RestartPolicy {
  constructor(
    readonly backoff: Backoff,
    readonly maxRestarts: number,
    readonly withinMs: number,
    readonly restartOn: (error: unknown) => boolean,
  ) {}

  static from(settings: RestartSettings, what: string): RestartPolicy {
    const backoff = Backoff.from(settings, what)
    const max = settings.maxRestarts ?? Infinity
    if (typeof max !== 'number' || !(max === Infinity || (Number.isInteger(max) && max >= 0))) {
      throw new InvalidArgumentError(`${what}.maxRestarts`, max, 'an integer ≥ 0 (or Infinity)')
    }
    const withinMs = settings.maxRestartsWithin === undefined ? backoff.minMs : toMillis(settings.maxRestartsWithin, `${what}.maxRestartsWithin`)
    const restartOn = settings.restartOn ?? always
    if (typeof restartOn !== 'function') throw new InvalidArgumentError(`${what}.restartOn`, restartOn, 'a predicate on errors')
    return new RestartPolicy(backoff, max, withinMs, restartOn)
  }
}

const always = (): boolean => true

/** Validated {@link RetryFlowSettings}. */
export function retryBackoff(settings: RetryFlowSettings, what: string): { readonly backoff: Backoff; readonly maxRetries: number } {
  const backoff = Backoff.from(settings, what)
  const max = settings.maxRetries
  if (typeof max !== 'number' || !(max === Infinity || (Number.isInteger(max) && max >= 0))) {
    throw new InvalidArgumentError(`${what}.maxRetries`, max, 'an integer ≥ 0 (or Infinity)')
  }
  return { backoff, maxRetries: max }
}

/**
 * The logic shared by `RestartSource`, `RestartFlow` and `RestartSink`: run a wrapped stream,
 * and when it ends on its own, run a fresh one after an exponential backoff.
 *
 * Shared contract:
 * - The wrapped stream is created by the user's factory when the stage starts and at each
 *   restart, and materialized on the stage's materializer; it talks to the stage through
 *   sub-stream ports (stage/substreams.ts), one fresh pair per attempt. Its materialized value is
 *   ignored.
 * - When the wrapped stream terminates while the outer stream still runs, the stage decides:
 *   restart (after `backoff.delay(restartCount)`, on the logic's keyed timer), or end the same way
 *   the wrapped stream ended. It ends when the outer stream is already finishing, when
 *   `maxRestarts` restarts were made (counted since the count was last reset), for a completion in
 *   the `onFailures…` variants, and for a failure that `restartOn` rejects.
 * - The count is reset to 0 when the wrapped stream ends more than `maxRestartsWithin` after its
 *   latest (re)start: a stream that ran long enough starts again from `minBackoff`.
 * - During backoff the stage backpressures (it neither pulls nor pushes) and holds no wrapped
 *   stream; a termination of the outer stream then stops the stage, and the timer with it.
 * - A factory that throws fails the stage (nothing is restarted).
 */
import { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { Shape } from '../stage/ports.js'
import type { RestartPolicy } from './backoff.js'

const RESTART_TIMER = 'restart'

export abstract class RestartWithBackoffLogic extends GraphStageLogic {
  readonly policy: RestartPolicy
  readonly onlyOnFailures: boolean
  #restartCount = 0
  #resetDeadline = 0
  /** The outer stream is ending (or the stage decided to end): no more restarts. */
  #finishing = false

  constructor(shape: Shape, policy: RestartPolicy, onlyOnFailures: boolean) {
    super(shape)
    this.policy = policy
    this.onlyOnFailures = onlyOnFailures
  }

  /** Create and materialize a fresh wrapped stream. */
  protected abstract startGraph(): void
  /** Enter backoff: close the ports of the current wrapped stream, if still open. */
  protected abstract backoff(): void

  override preStart(): void {
    this.#resetDeadline = this.now() + this.policy.withinMs
    this.startGraph()
  }

  protected override onTimer(_key: unknown): void {
    this.startGraph()
    this.#resetDeadline = this.now() + this.policy.withinMs
  }

  protected get finishing(): boolean {
    return this.#finishing
  }
  protected markFinishing(): void {
    this.#finishing = true
  }

  /**
   * The wrapped stream completed: true when it should be restarted (the caller then calls
   * `scheduleRestart`), false when the stage should complete (it is then marked finishing).
   */
  protected shouldRestartOnCompletion(): boolean {
    if (this.#finishing || this.onlyOnFailures || this.#maxRestartsReached()) {
      this.#finishing = true
      return false
    }
    return true
  }

  /** The wrapped stream failed with `error`: true to restart, false to fail (the stage is then marked finishing). */
  protected shouldRestartOnFailure(error: unknown): boolean {
    if (this.#finishing || this.#maxRestartsReached() || !this.policy.restartOn(error)) {
      this.#finishing = true
      return false
    }
    return true
  }

  /** Enter backoff and start a fresh wrapped stream after the next delay; `why` is logged. */
  protected scheduleRestart(why: 'completion' | 'failure', error?: unknown): void {
    const delay = this.policy.backoff.delay(this.#restartCount)
    this.#restartCount++
    if (why === 'failure') this.log.warn(`${this.toString()}: restarting in ${delay} ms (restart ${this.#restartCount}) after a failure`, error)
    else this.log.debug(`${this.toString()}: restarting in ${delay} ms (restart ${this.#restartCount}) after completion`)
    this.scheduleOnce(RESTART_TIMER, delay)
    this.backoff()
  }

  #maxRestartsReached(): boolean {
    if (this.now() > this.#resetDeadline) this.#restartCount = 0
    return this.#restartCount >= this.policy.maxRestarts
  }
}


/**
 * Timer-driven operators (timeouts, takeWithin, keepAlive).
 *
 * Operators are shared by `Source` and `Flow` (see `FlowOps.ts`); each is a one-line delegate with
 * its four-line contract: *Emits when* · *Backpressures when* · *Completes when* · *Cancels when*.
 */
import type { Duration } from '../duration.js'
import { BackpressureTimeoutStage, CompletionTimeoutStage, IdleTimeoutStage, InitialTimeoutStage } from '../ops/timeouts.js'
import { TakeWithinStage } from '../ops/takeWithin.js'
import { KeepAliveStage } from '../ops/keepAlive.js'
import { ComposeOps } from './ComposeOps.js'
import type { Kind, Repr } from './FlowOpsBase.js'

export abstract class TimerOps<K extends Kind, In, Out, Mat> extends ComposeOps<K, In, Out, Mat> {
  // ---- timers: takeWithin, idleTimeout, initialTimeout, completionTimeout, backpressureTimeout, keepAlive ----
  /**
   * Pass on elements until `duration` has elapsed since materialization, then complete.
   * - Emits when: upstream emits and the duration has not elapsed
   * - Backpressures when: downstream backpressures
   * - Completes when: the duration elapsed, or upstream completes
   * - Cancels when: the duration elapsed (cause: no more elements needed), or downstream cancels
   * @example `Source.tick(0, '1s', 'beat').takeWithin('3.5s')` emits 'beat' at 0, 1, 2 and 3 s, then completes
   */
  takeWithin(duration: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new TakeWithinStage<Out>(duration))
  }
  /**
   * Fail with `IdleTimeoutError` when no element passed for `timeout` (measured from materialization, then from each element).
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes; fails when no element passed for `timeout`
   * - Cancels when: downstream cancels, or the timeout fired
   * @example `Source.never().idleTimeout('30s')` fails with code `WEIR_CORE_IDLE_TIMEOUT` after 30 s
   */
  idleTimeout(timeout: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new IdleTimeoutStage<Out>(timeout))
  }
  /**
   * Fail with `InitialTimeoutError` when the first element has not passed within `timeout` of materialization.
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes; fails when the first element did not pass within `timeout`
   * - Cancels when: downstream cancels, or the timeout fired
   * @example `Source.fromPromise(slowCall).initialTimeout('5s')` fails with code `WEIR_CORE_INITIAL_TIMEOUT` if the call takes longer than 5 s
   */
  initialTimeout(timeout: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new InitialTimeoutStage<Out>(timeout))
  }
  /**
   * Fail with `CompletionTimeoutError` when the stream has not completed within `timeout` of materialization.
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes; fails when it did not complete within `timeout`
   * - Cancels when: downstream cancels, or the timeout fired
   * @example `Source.tick(0, '1s', 1).completionTimeout('10s')` fails with code `WEIR_CORE_COMPLETION_TIMEOUT` after 10 s
   */
  completionTimeout(timeout: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new CompletionTimeoutStage<Out>(timeout))
  }
  /**
   * Fail with `BackpressureTimeoutError` when downstream did not pull for `timeout` after an element was emitted.
   * - Emits when: upstream emits
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes; fails when downstream did not pull within `timeout` of an element
   * - Cancels when: downstream cancels, or the timeout fired
   * @example `events.backpressureTimeout('10s').to(slowClient)` fails with code `WEIR_CORE_BACKPRESSURE_TIMEOUT` when the client stalls for 10 s
   */
  backpressureTimeout(timeout: Duration): Repr<K, In, Out, Mat> {
    return this.andThen(new BackpressureTimeoutStage<Out>(timeout))
  }
  /**
   * Emit `inject()` when downstream has waited `maxIdle` (positive) for an element and upstream gave none; injections never exceed demand.
   * - Emits when: upstream emits, or downstream has been pulling for `maxIdle` without an upstream element
   * - Backpressures when: downstream backpressures
   * - Completes when: upstream completes
   * - Cancels when: downstream cancels
   * @example `events.keepAlive('15s', () => ':heartbeat')` emits ':heartbeat' whenever no event came for 15 s
   */
  keepAlive<U = Out>(maxIdle: Duration, inject: () => U): Repr<K, In, Out | U, Mat> {
    return this.andThen(new KeepAliveStage<Out, U>(maxIdle, inject))
  }
}

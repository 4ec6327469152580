/**
 * The machinery shared by the stream probes: the assertion error they reject with, waiting for a
 * signal behind a real-time safety guard, and letting a materializer settle.
 *
 * Contract: an expectation either finds its signal already recorded, or waits for it; it never
 * waits forever — a real-time guard (default {@link DEFAULT_PROBE_TIMEOUT_MS}) rejects with a
 * `timeout` {@link ProbeAssertionError}. The guard only keeps a broken test from hanging; tests
 * must never rely on it firing. An expectation that can no longer be met because the probed
 * stage has stopped rejects at once with `terminated`.
 */
import { AssertionError } from 'node:assert'
import { inspect } from 'node:util'
import { InvalidArgumentError, type Materializer } from '@weir/core'

/** Real-time milliseconds an expectation waits before giving up (a guard against hanging tests). */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000

/** Why a probe expectation failed. */
export type ProbeFailure =
  /** Another kind of signal arrived (e.g. completion while an element was expected). */
  | 'unexpected-event'
  /** The expected kind of signal arrived, with a different value. */
  | 'mismatch'
  /** Nothing arrived within the probe's real-time guard. */
  | 'timeout'
  /** The probed stage has stopped: the signal can no longer arrive. */
  | 'terminated'
  /** The probe was used against its protocol (e.g. `sendNext` after `sendComplete`). */
  | 'misuse'

/**
 * A failed probe expectation. It is a `node:assert` `AssertionError` (`code` `ERR_ASSERTION`,
 * with `actual`/`expected` for the test runner's diff) that also says which expectation failed
 * and why, so tests can assert `reason` rather than message wording.
 */
export class ProbeAssertionError extends AssertionError {
  /** The probe method whose expectation failed, e.g. `expectNext`. */
  readonly expectation: string
  readonly reason: ProbeFailure
  constructor(expectation: string, reason: ProbeFailure, message: string, actual?: unknown, expected?: unknown) {
    super({ message: `${expectation}: ${message}`, actual, expected, operator: expectation })
    this.name = 'ProbeAssertionError'
    this.expectation = expectation
    this.reason = reason
  }
}

/** A short, one-line rendering of a value for assertion messages. */
export function show(value: unknown): string {
  return inspect(value, { depth: 4, breakLength: Infinity })
}

interface Waiter<V> {
  readonly expectation: string
  readonly awaited: string
  readonly resolve: (value: V) => void
  readonly reject: (error: unknown) => void
  readonly guard: ReturnType<typeof setTimeout>
}

/** Expectations waiting for a signal, served first come first served, each behind a real-time guard. */
export class Waiters<V> {
  #list: Waiter<V>[] = []

  get size(): number {
    return this.#list.length
  }

  /** Wait for the next signal; reject with a `timeout` failure after `timeoutMs` of real time. */
  wait(expectation: string, timeoutMs: number, awaited: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const guard = setTimeout(() => {
        const i = this.#list.indexOf(waiter)
        if (i >= 0) this.#list.splice(i, 1)
        reject(new ProbeAssertionError(expectation, 'timeout', `no ${awaited} within ${timeoutMs} ms`, undefined, awaited))
      }, timeoutMs)
      guard.unref?.()
      const waiter: Waiter<V> = { expectation, awaited, resolve, reject, guard }
      this.#list.push(waiter)
    })
  }

  /** Hand `value` to the longest-waiting expectation; false when none waits. */
  resolveFirst(value: V): boolean {
    const w = this.#list.shift()
    if (w === undefined) return false
    clearTimeout(w.guard)
    w.resolve(value)
    return true
  }

  /** Hand `value` to every waiting expectation. */
  resolveAll(value: V): void {
    while (this.resolveFirst(value)) {
      // each call serves one
    }
  }

  /** Reject every waiting expectation with the error `make` builds from its name and what it awaited. */
  rejectAll(make: (expectation: string, awaited: string) => unknown): void {
    const list = this.#list
    this.#list = []
    for (const w of list) {
      clearTimeout(w.guard)
      w.reject(make(w.expectation, w.awaited))
    }
  }
}

/**
 * Let a materializer's streams run until nothing is left to do right now: pending stream work,
 * microtasks and immediates, several turns over (a reaction may schedule further work). Virtual
 * time does not move.
 */
export async function settle(materializer: Materializer, turns = 4): Promise<void> {
  for (let i = 0; i < turns; i++) {
    await materializer.whenIdle()
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
}

/** Validate a probe's timeout option. */
export function checkTimeout(timeoutMs: number | undefined): number {
  const t = timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS
  if (!(t > 0) || !Number.isFinite(t)) throw new InvalidArgumentError('timeoutMs', timeoutMs, 'a positive finite number of ms')
  return t
}

/**
 * Leak checks for tests: assert that every stage of a materializer has stopped, and count the
 * process's live handles for before/after comparisons around socket tests.
 *
 * Contract: a check first lets the streams settle (pending stream work, microtasks, immediates;
 * virtual time does not move) and retries for a bounded stretch of real time, because teardown
 * may wait on I/O; it fails with a typed error that lists what is still running.
 */
import { WeirError, type Materializer } from '@weir/core'
import { DEFAULT_PROBE_TIMEOUT_MS, settle } from './expectations.js'

/** Stages were still running when a test required every stream to have stopped. */
export class StagesStillRunningError extends WeirError {
  constructor(readonly stages: readonly string[], readonly timeoutMs: number) {
    super('WEIR_TESTKIT_STAGES_RUNNING', `${stages.length} stage(s) still running after ${timeoutMs} ms: ${stages.join(', ')}`)
  }
}

/** Options of {@link assertAllStagesStopped}. */
export interface LeakCheckOptions {
  /** Real-time ms to wait for the stages to stop (default 3000). */
  readonly timeoutMs?: number
}

/** Real-time ms between two checks once the streams have settled (leaves room for I/O). */
const RETRY_INTERVAL_MS = 5

/**
 * Resolve once no stage of `materializer` is running; reject with {@link StagesStillRunningError}
 * (listing them) if some still run after `timeoutMs` of real time. Stages waiting for virtual
 * time never stop on their own: advance the clock (or cancel the stream) first.
 */
export async function assertAllStagesStopped(materializer: Materializer, options: LeakCheckOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS
  const deadline = performance.now() + timeoutMs
  for (;;) {
    await settle(materializer)
    const running = materializer.runningStages()
    if (running.length === 0) return
    if (performance.now() >= deadline) throw new StagesStillRunningError(running, timeoutMs)
    await new Promise<void>((resolve) => setTimeout(resolve, RETRY_INTERVAL_MS))
  }
}

/** Resource kinds that come and go with ordinary scheduling and are not leaks by themselves. */
const TRANSIENT = new Set(['Timeout', 'Immediate'])

/**
 * The process's live resources other than timers and immediates (sockets, servers, pipes, …),
 * by kind, as reported by `process.getActiveResourcesInfo()`. Compare before and after a test.
 */
export function activeResources(): string[] {
  return process.getActiveResourcesInfo().filter((kind) => !TRANSIENT.has(kind))
}

/**
 * How many {@link activeResources} the process holds: compare the count before and after a test.
 * A handle closed in this turn is counted until the event loop's close phase: let the loop turn
 * (e.g. `await settle(materializer)`, or two `setImmediate` turns) before comparing.
 */
export function activeHandles(): number {
  return activeResources().length
}

/**
 * The materialized value of an SSE client: what the stream is doing right now, and a way to stop it.
 *
 * Contract: the readable state mirrors the EventSource attributes — `readyState` is `'connecting'` from the start
 * and while waiting to reconnect, `'open'` while a stream is being read, `'closed'` once the source stopped
 * (however it stopped); `lastEventId` is the ID the client sends as `Last-Event-ID` when it (re)connects;
 * `reconnectionTime` is the delay before the next reconnection, in ms (the server's last `retry:`, else the
 * option). `close()` may be called any time, also before the stream runs and more than once. `done` settles
 * exactly once, when the source stopped: resolved after completion, cancellation or `close()`, rejected with the
 * stream's failure (a rejection nobody awaits is not reported as unhandled).
 */
import type { SseClientSettings } from './options.js'

/** The EventSource ready states. */
export type SseReadyState = 'connecting' | 'open' | 'closed'

/** @internal the stage's side of the control. */
export interface SseControlUpdate {
  attach(close: () => void): void
  update(readyState: SseReadyState, lastEventId: string, reconnectionTime: number): void
  stopped(error: unknown, failed: boolean): void
}

/** The materialized value of {@link SseClient.source}. */
export class SseClientControl {
  #readyState: SseReadyState = 'connecting'
  #lastEventId: string
  #reconnectionTime: number
  #close: (() => void) | undefined = undefined
  #closeRequested = false
  readonly #done: Promise<void>
  #settle!: (error: unknown, failed: boolean) => void

  private constructor(settings: SseClientSettings) {
    this.#lastEventId = settings.lastEventId
    this.#reconnectionTime = settings.reconnectionTimeMs
    this.#done = new Promise<void>((resolve, reject) => {
      this.#settle = (error, failed) => (failed ? reject(error) : resolve())
    })
    this.#done.catch(() => {})
  }

  /** @internal a control and the stage's handle on it. */
  static create(settings: SseClientSettings): readonly [SseClientControl, SseControlUpdate] {
    const c = new SseClientControl(settings)
    const update: SseControlUpdate = {
      attach: (close) => {
        c.#close = close
        if (c.#closeRequested) close()
      },
      update: (readyState, lastEventId, reconnectionTime) => {
        c.#readyState = readyState
        c.#lastEventId = lastEventId
        c.#reconnectionTime = reconnectionTime
      },
      stopped: (error, failed) => {
        c.#readyState = 'closed'
        c.#settle(error, failed)
      },
    }
    return [c, update]
  }

  /** `'connecting'`, `'open'` or `'closed'` (see the module comment). */
  get readyState(): SseReadyState {
    return this.#readyState
  }

  /** The ID sent as `Last-Event-ID` on the next (re)connection (`''`: none). */
  get lastEventId(): string {
    return this.#lastEventId
  }

  /** The delay before the next reconnection, in ms. */
  get reconnectionTime(): number {
    return this.#reconnectionTime
  }

  /** Settles when the source stopped: resolves on completion, cancellation or `close()`, rejects with its failure. */
  get done(): Promise<void> {
    return this.#done
  }

  /** Stop: no more reconnections, the connection closed, the source completes (events not yet delivered are dropped). */
  close(): void {
    this.#closeRequested = true
    this.#close?.()
  }
}

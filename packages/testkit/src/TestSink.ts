/**
 * TestSink.probe: a sink whose materialized value is a {@link SinkProbe} that a test drives by
 * hand — it signals demand and asserts what the stream delivered, in order.
 *
 * Contract: the probe never pulls on its own. Demand comes only from `request(n)`; it
 * accumulates, and the stage pulls one element at a time while demand remains, so a test sees
 * backpressure exactly as a slow consumer would produce it. Elements, completion and failure are
 * recorded in one queue; every `expect*` consumes the next recorded signal (waiting for it if
 * needed) and rejects with a {@link ProbeAssertionError} if it is of another kind, if the stream
 * can no longer produce it, or if nothing arrives within a real-time guard. Commands reach the
 * stage through an async callback, so the probe can be used right after `run()`.
 *
 * ```ts
 * const probe = Source.from([1, 2, 3]).map((x) => x * 10).runWith(TestSink.probe<number>(), time.materializer)
 * await probe.requestNext(10)
 * await probe.request(2).expectNextN(2) // [20, 30]
 * await probe.expectComplete()
 * ```
 */
import { isDeepStrictEqual } from 'node:util'
import {
  AbruptTerminationError,
  Attributes,
  GraphStageLogic,
  GraphStageWithMaterializedValue,
  Inlet,
  InvalidArgumentError,
  NoMoreElementsNeeded,
  Sink,
  SinkShape,
  type AsyncCallback,
  type InHandler,
  type Materializer,
} from '@weir/core'
import { ProbeAssertionError, Waiters, checkTimeout, settle, show } from './expectations.js'

/** Options of {@link TestSink.probe}. */
export interface SinkProbeOptions {
  /** Real-time ms an expectation waits before failing (a guard against hanging tests; default 3000). */
  readonly timeoutMs?: number
}

/** A signal the probed stream delivered to the sink. */
export type SinkEvent<T> =
  | { readonly kind: 'next'; readonly value: T }
  | { readonly kind: 'complete' }
  | { readonly kind: 'error'; readonly error: unknown }

type SinkCommand = { readonly kind: 'request'; readonly n: number } | { readonly kind: 'cancel'; readonly cause: unknown }

function describe(ev: SinkEvent<unknown>): string {
  switch (ev.kind) {
    case 'next':
      return `element ${show(ev.value)}`
    case 'complete':
      return 'completion'
    case 'error':
      return `error ${show(ev.error)}`
  }
}

/** The test's handle on a running {@link TestSink.probe}: signal demand, then assert what arrived. */
export class SinkProbe<T> {
  readonly #events: SinkEvent<T>[] = []
  readonly #waiters = new Waiters<SinkEvent<T>>()
  readonly #timeoutMs: number
  readonly #materializer: Materializer
  #commands: AsyncCallback<SinkCommand> | undefined = undefined
  #stopped = false

  /** @internal created by the probe stage for each materialization. */
  constructor(materializer: Materializer, timeoutMs: number) {
    this.#materializer = materializer
    this.#timeoutMs = timeoutMs
  }

  /** The materializer running the probed stream. */
  get materializer(): Materializer {
    return this.#materializer
  }

  /** True once the probe stage has stopped (after completion, failure or cancellation). */
  get isStopped(): boolean {
    return this.#stopped
  }

  /**
   * Signal demand for `n` more elements (a positive integer, or `Infinity`). Demand accumulates;
   * the stage pulls one element at a time while some remains.
   */
  request(n: number): this {
    if (!(n >= 1) || (Number.isFinite(n) && !Number.isInteger(n))) {
      throw new InvalidArgumentError('n', n, 'a positive integer or Infinity')
    }
    this.#commands!.invoke({ kind: 'request', n })
    return this
  }

  /** Request one element and expect it (equal to `expected`, if given); resolves with the element. */
  requestNext(...expected: [] | [T]): Promise<T> {
    this.request(1)
    return this.#expectNext('requestNext', expected)
  }

  /**
   * Expect the next signal to be an element — deeply equal to `expected`, if given — and resolve
   * with it. Does not request: demand must have been signalled.
   */
  expectNext(...expected: [] | [T]): Promise<T> {
    return this.#expectNext('expectNext', expected)
  }

  /** Expect the next `n` signals to be elements; resolves with them in order. Does not request. */
  async expectNextN(n: number): Promise<T[]> {
    const xs: T[] = []
    for (let i = 0; i < n; i++) xs.push(await this.#expectNext('expectNextN', []))
    return xs
  }

  /** Expect the next signal to be the stream's completion. */
  async expectComplete(): Promise<void> {
    const ev = await this.#next('expectComplete', 'completion')
    if (ev.kind !== 'complete') throw this.#unexpected('expectComplete', ev, 'completion')
  }

  /** Expect the next signal to be the stream's failure; resolves with the error. */
  async expectError(): Promise<unknown> {
    const ev = await this.#next('expectError', 'an error')
    if (ev.kind !== 'error') throw this.#unexpected('expectError', ev, 'an error')
    return ev.error
  }

  /**
   * Let the stream settle (pending stream work, microtasks and immediates; virtual time does not
   * move), then assert that no element, completion or error is waiting to be consumed.
   */
  async expectNoMessage(): Promise<void> {
    await settle(this.#materializer)
    const ev = this.#events[0]
    if (ev !== undefined) {
      throw new ProbeAssertionError('expectNoMessage', 'unexpected-event', `expected no signal, got ${describe(ev)}`, ev, undefined)
    }
  }

  /** Cancel upstream with `cause` (default: no more elements needed, which is not a failure). */
  cancel(cause: unknown = NoMoreElementsNeeded): void {
    this.#commands!.invoke({ kind: 'cancel', cause })
  }

  async #expectNext(expectation: string, expected: [] | [T]): Promise<T> {
    const ev = await this.#next(expectation, 'an element')
    if (ev.kind !== 'next') throw this.#unexpected(expectation, ev, expected.length > 0 ? `element ${show(expected[0])}` : 'an element')
    if (expected.length > 0 && !isDeepStrictEqual(ev.value, expected[0])) {
      throw new ProbeAssertionError(
        expectation,
        'mismatch',
        `expected element ${show(expected[0])}, got ${show(ev.value)}`,
        ev.value,
        expected[0],
      )
    }
    return ev.value
  }

  #next(expectation: string, awaited: string): Promise<SinkEvent<T>> {
    const ev = this.#events.shift()
    if (ev !== undefined) return Promise.resolve(ev)
    if (this.#stopped) return Promise.reject(this.#terminated(expectation, awaited))
    return this.#waiters.wait(expectation, this.#timeoutMs, awaited)
  }

  #unexpected(expectation: string, ev: SinkEvent<T>, awaited: string): ProbeAssertionError {
    return new ProbeAssertionError(expectation, 'unexpected-event', `expected ${awaited}, got ${describe(ev)}`, ev, awaited)
  }

  #terminated(expectation: string, awaited: string): ProbeAssertionError {
    return new ProbeAssertionError(expectation, 'terminated', `expected ${awaited}, but the probe stage has stopped`, undefined, awaited)
  }

  // ---- called by the stage's logic ----

  /** @internal */
  _attach(commands: AsyncCallback<SinkCommand>): void {
    this.#commands = commands
  }

  /** @internal */
  _deliver(ev: SinkEvent<T>): void {
    if (!this.#waiters.resolveFirst(ev)) this.#events.push(ev)
  }

  /** @internal the stage stopped: nothing more will arrive. */
  _stopped(): void {
    this.#stopped = true
    this.#waiters.rejectAll((expectation, awaited) => this.#terminated(expectation, awaited))
  }
}

class SinkProbeLogic<T> extends GraphStageLogic implements InHandler {
  readonly in: Inlet<T>
  readonly #probe: SinkProbe<T>
  #demand = 0
  #terminalDelivered = false
  #cancelled = false

  constructor(shape: SinkShape<T>, probe: SinkProbe<T>) {
    super(shape)
    this.in = shape.in
    this.#probe = probe
    this.setHandler(shape.in, this)
    probe._attach(this.getAsyncCallback<SinkCommand>((cmd) => this.#onCommand(cmd)))
  }

  #onCommand(cmd: SinkCommand): void {
    switch (cmd.kind) {
      case 'request':
        this.#demand += cmd.n
        if (!this.isClosed(this.in) && !this.hasBeenPulled(this.in)) this.pull(this.in)
        return
      case 'cancel':
        this.#cancelled = true
        this.cancelStage(cmd.cause)
        return
    }
  }

  onPush(): void {
    const x = this.grab(this.in)
    this.#demand--
    this.#probe._deliver({ kind: 'next', value: x })
    if (this.#demand > 0) this.pull(this.in)
  }

  onUpstreamFinish(): void {
    this.#terminalDelivered = true
    this.#probe._deliver({ kind: 'complete' })
    this.completeStage()
  }

  onUpstreamFailure(error: unknown): void {
    this.#terminalDelivered = true
    this.#probe._deliver({ kind: 'error', error })
    this.failStage(error)
  }

  override postStop(): void {
    // torn down without a signal from upstream (e.g. the materializer shut down): report it as a failure
    if (!this.#terminalDelivered && !this.#cancelled) this.#probe._deliver({ kind: 'error', error: new AbruptTerminationError(this.toString()) })
    this.#probe._stopped()
  }
}

class SinkProbeStage<T> extends GraphStageWithMaterializedValue<SinkShape<T>, SinkProbe<T>> {
  readonly shape = new SinkShape(new Inlet<T>('TestSink.probe.in'))
  constructor(readonly timeoutMs: number) {
    super()
  }
  override get initialAttributes(): Attributes {
    return STAGE_ATTRIBUTES
  }
  createLogicAndMaterializedValue(_attributes: Attributes, materializer: Materializer): readonly [GraphStageLogic, SinkProbe<T>] {
    const probe = new SinkProbe<T>(materializer, this.timeoutMs)
    return [new SinkProbeLogic(this.shape, probe), probe]
  }
}

const STAGE_ATTRIBUTES = Attributes.named('TestSink.probe')

/** Sinks for tests. */
export const TestSink = {
  /**
   * A sink that materializes a {@link SinkProbe}: it pulls only when the test calls `request(n)`
   * and records what the stream delivers for the test's `expect*` calls.
   */
  probe<T>(options: SinkProbeOptions = {}): Sink<T, SinkProbe<T>> {
    return Sink.fromGraph(new SinkProbeStage<T>(checkTimeout(options.timeoutMs)))
  },
}

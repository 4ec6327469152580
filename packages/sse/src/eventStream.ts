/**
 * The stage at the heart of an SSE response: frames in, `text/event-stream` bytes out.
 *
 * Contract (one stage doing what `keepAlive → map(encodeEventBytes) → SessionEndStage` would, with
 * one logic per client instead of three):
 * - Emits, in order: the preamble (if any) on the first pull, then each frame's bytes
 *   ({@link encodeEventBytes}); upstream is pulled only when downstream pulls.
 * - A heartbeat comment is emitted only into outstanding demand, when downstream has waited
 *   `heartbeatMs` for an event (measured from its pull; one timer, re-armed for the time left, no
 *   polling); a frame that arrives after a heartbeat waits for the next pull.
 * - A frame it cannot encode fails the stream with `SseEncodingError`.
 * - With a session, the session ends exactly once as the stream ends here: upstream completion →
 *   'completed'; failure → 'failed'; cancellation → the client's way of leaving
 *   ({@link closeReasonOfCancellation}); a teardown without any of these → 'shutdown'.
 */
import { Attributes, FlowShape, GraphStage, GraphStageLogic, Inlet, Outlet } from '@weir/core'
import { HttpEntity } from '@weir/http'
import { encodeEventBytes } from './encoder.js'
import { closeReasonOfCancellation, type SseSession } from './session.js'
import type { SseFrame } from './ServerSentEvent.js'

const HEARTBEAT_BYTES = HttpEntity.sharedChunk(new TextEncoder().encode(': \n\n'))
const IDLE = 'heartbeat'
/** The bytes any SSE stage emitted last, and the last bytes marked as a shared chunk. */
let lastEmitted: Uint8Array | undefined
let lastShared: Uint8Array | undefined
const ATTRIBUTES = Attributes.named('sseEventStream')

class SseEventLogic extends GraphStageLogic {
  readonly in: Inlet<SseFrame>
  readonly out: Outlet<Uint8Array>
  readonly #stage: SseEventStage
  #preamble: Uint8Array | undefined
  /** The stage's heartbeat interval (a field of its own: read on every pull). */
  readonly #heartbeatMs: number
  /** When downstream's outstanding pull arrived. */
  #waitingSince = 0
  /** The heartbeat timer is armed (a field: cheaper than asking the timer map on every pull). */
  #armed = false

  constructor(stage: SseEventStage) {
    super(stage.shape)
    this.#stage = stage
    this.in = stage.shape.in
    this.out = stage.shape.out
    this.#preamble = stage.preamble
    this.#heartbeatMs = stage.heartbeatMs
    this.setHandlers(this.in, this.out, this)
  }

  onPush(): void {
    // after a heartbeat the frame waits in the inlet until downstream pulls again
    if (this.isAvailable(this.out)) this.#emit(this.grab(this.in))
  }

  onPull(): void {
    const preamble = this.#preamble
    if (preamble !== undefined) {
      this.#preamble = undefined
      return this.push(this.out, preamble)
    }
    if (this.isAvailable(this.in)) {
      this.#emit(this.grab(this.in))
      if (this.isClosed(this.in)) this.#end('completed')
      return
    }
    if (this.isClosed(this.in)) return this.#end('completed')
    const heartbeatMs = this.#heartbeatMs
    if (heartbeatMs !== Infinity) {
      this.#waitingSince = this.now()
      if (!this.#armed) this.#arm(heartbeatMs)
    }
    if (!this.hasBeenPulled(this.in)) this.pull(this.in)
  }

  onUpstreamFinish(): void {
    // a frame still waiting for demand is delivered first (see onPull)
    if (!this.isAvailable(this.in)) this.#end('completed')
  }

  onUpstreamFailure(error: unknown): void {
    this.#stage.session?.close('failed')
    this.failStage(error)
  }

  onDownstreamFinish(cause: unknown): void {
    this.#stage.session?.close(closeReasonOfCancellation(cause))
    this.cancelStage(cause)
  }

  protected override onTimer(): void {
    this.#armed = false
    if (!this.isAvailable(this.out)) return // downstream is not waiting: its next pull re-arms
    const left = this.#waitingSince + this.#stage.heartbeatMs - this.now()
    if (left > 0) return this.#arm(left)
    this.push(this.out, HEARTBEAT_BYTES)
  }

  #arm(delayMs: number): void {
    this.#armed = true
    this.scheduleOnce(IDLE, delayMs)
  }

  override postStop(): void {
    this.#stage.session?.close('shutdown') // ignored when it ended already
  }

  #emit(frame: SseFrame): void {
    let bytes: Uint8Array
    try {
      bytes = encodeEventBytes(frame)
    } catch (e) {
      this.#stage.session?.close('failed')
      return this.failStage(e)
    }
    // the encoder gave the same bytes again: a broadcast, whose chunk frame is then rendered once for all
    if (bytes === lastEmitted && bytes !== lastShared) lastShared = HttpEntity.sharedChunk(bytes)
    lastEmitted = bytes
    this.push(this.out, bytes)
  }

  #end(reason: 'completed'): void {
    this.#stage.session?.close(reason)
    this.completeStage()
  }
}

/** Frames to `text/event-stream` bytes with heartbeats, ending `session` with the stream; see the file header. */
export class SseEventStage extends GraphStage<FlowShape<SseFrame, Uint8Array>> {
  readonly shape = new FlowShape(new Inlet<SseFrame>('sseEventStream.in'), new Outlet<Uint8Array>('sseEventStream.out'))
  constructor(
    readonly heartbeatMs: number,
    readonly preamble: Uint8Array | undefined,
    readonly session: SseSession | undefined,
  ) {
    super()
  }
  override get initialAttributes(): Attributes {
    return ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new SseEventLogic(this)
  }
}

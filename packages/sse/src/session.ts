/**
 * SSE sessions: the per-client state of an event stream, and the stage that ends it.
 *
 * Contract: a session ends exactly once, when its event stream terminates, and runs every
 * `onClose` callback once with the reason derived from how the stream ended at the response's
 * edge: upstream completion → 'completed'; failure (of the source, or a failure cancellation)
 * → 'failed'; a `ClientGone` cancellation → how the client left ('idle-timeout' reported as
 * 'idle'); any other non-failure cancellation → 'completed'; a teardown without any of these
 * (the materializer shut down) → 'shutdown'. A callback registered after the end runs at once.
 * A throwing callback does not keep the others from running; its error is collected in
 * `closeErrors`. A session opened from a {@link SessionRegistry} leaves it when it ends.
 */
import { GraphStage, GraphStageLogic, FlowShape, Inlet, Outlet, Attributes, isNonFailureCancellation } from '@weir/core'
import { ClientGone, type ClientGoneReason } from '@weir/http'

/** Why a session ended. */
export type CloseReason = 'client-fin' | 'client-rst' | 'write-error' | 'idle' | 'shutdown' | 'completed' | 'failed'

const CLIENT_GONE: Readonly<Record<ClientGoneReason, CloseReason>> = {
  'client-fin': 'client-fin',
  'client-rst': 'client-rst',
  'write-error': 'write-error',
  'idle-timeout': 'idle',
  shutdown: 'shutdown',
}

/** The close reason for a cancellation cause that reached the response's edge. */
export function closeReasonOfCancellation(cause: unknown): CloseReason {
  if (cause instanceof ClientGone) return CLIENT_GONE[cause.how]
  return isNonFailureCancellation(cause) ? 'completed' : 'failed'
}

let nextId = 1

type SessionState = { readonly kind: 'open' } | { readonly kind: 'closed'; readonly reason: CloseReason }
const OPEN: SessionState = { kind: 'open' }
const NO_ERRORS: readonly unknown[] = []

/** `list` and `x` in a new array with room for just them (push, or a spread, would make room for seventeen). */
function withOne<T>(list: readonly T[] | undefined, x: T): T[] {
  if (list === undefined) return [x]
  const out = new Array<T>(list.length + 1)
  for (let i = 0; i < list.length; i++) out[i] = list[i]!
  out[list.length] = x
  return out
}

/** One client's event stream: an id, and cleanup that runs exactly once when the stream ends. */
export class SseSession {
  readonly id: string
  /** @internal its neighbours among the open sessions of its registry */
  _prev: SseSession | undefined = undefined
  /** @internal */
  _next: SseSession | undefined = undefined
  #state: SessionState = OPEN
  // the first cleanup in a field, any others in an array: most sessions have one or two, and an
  // array grown by push keeps room for seventeen for as long as the session lives
  #first: ((reason: CloseReason) => void) | undefined = undefined
  #more: ((reason: CloseReason) => void)[] | undefined = undefined
  #errors: unknown[] | undefined = undefined

  constructor(id: string = `sse-${nextId++}`) {
    this.id = id
  }

  /** Whether the session ended, and why. */
  get closeReason(): CloseReason | undefined {
    return this.#state.kind === 'closed' ? this.#state.reason : undefined
  }
  get isOpen(): boolean {
    return this.#state.kind === 'open'
  }
  /** Errors thrown by `onClose` callbacks. */
  get closeErrors(): readonly unknown[] {
    return this.#errors ?? NO_ERRORS
  }

  /** Registers cleanup to run once when the session ends (at once if it already has). */
  onClose(callback: (reason: CloseReason) => void): void {
    if (this.#state.kind === 'closed') this.#run(callback, this.#state.reason)
    else if (this.#first === undefined) this.#first = callback
    else this.#more = withOne(this.#more, callback)
  }

  /**
   * Ends the session with `reason`, running the cleanup; later calls are ignored. Normally
   * called by the session's stream; exposed for sessions whose response was never run.
   */
  close(reason: CloseReason): void {
    if (this.#state.kind === 'closed') return
    this.#state = { kind: 'closed', reason }
    const first = this.#first
    const more = this.#more
    this.#first = this.#more = undefined
    if (first !== undefined) this.#run(first, reason)
    if (more !== undefined) for (const cb of more) this.#run(cb, reason)
  }

  #run(callback: (reason: CloseReason) => void, reason: CloseReason): void {
    try {
      callback(reason)
    } catch (e) {
      ;(this.#errors ??= []).push(e)
    }
  }
}

/**
 * The open sessions of an application, e.g. to expose a gauge or to list clients.
 *
 * They are a list through the sessions themselves, in the order they were opened. A registry
 * lives long while sessions pass through it, and a `Map` would keep them: V8 leaves a rehashed
 * table pointing to its old entries, so every session was promoted to the old generation (see
 * `SlotSet` in @weir/core, which would not keep the order). A session is not looked up by id, so
 * two sessions opened with the same id are two entries.
 */
export class SessionRegistry {
  #head: SseSession | undefined = undefined
  #tail: SseSession | undefined = undefined
  #count = 0

  /** A new session, registered until it ends. */
  open(id?: string): SseSession {
    const session = new SseSession(id)
    session._prev = this.#tail
    if (this.#tail === undefined) this.#head = session
    else this.#tail._next = session
    this.#tail = session
    this.#count++
    session.onClose(() => this.#remove(session))
    return session
  }
  /** The number of open sessions. */
  get count(): number {
    return this.#count
  }
  /** The open sessions, in the order they were opened. */
  sessions(): SseSession[] {
    const open: SseSession[] = []
    for (let s = this.#head; s !== undefined; s = s._next) open.push(s)
    return open
  }

  #remove(s: SseSession): void {
    const { _prev: prev, _next: next } = s
    if (prev === undefined) this.#head = next
    else prev._next = next
    if (next === undefined) this.#tail = prev
    else next._prev = prev
    s._prev = undefined
    s._next = undefined
    this.#count--
  }
}

const ATTRIBUTES = Attributes.named('sseSession')

class SessionEndLogic<T> extends GraphStageLogic {
  readonly in: Inlet<T>
  readonly out: Outlet<T>
  readonly #session: SseSession
  constructor(shape: FlowShape<T, T>, session: SseSession) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.#session = session
    this.setHandlers(shape.in, shape.out, this)
  }
  onPush(): void {
    this.push(this.out, this.grab(this.in))
  }
  onPull(): void {
    this.pull(this.in)
  }
  onUpstreamFinish(): void {
    this.#session.close('completed')
    this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.#session.close('failed')
    this.failStage(error)
  }
  onDownstreamFinish(cause: unknown): void {
    this.#session.close(closeReasonOfCancellation(cause))
    this.cancelStage(cause)
  }
  override postStop(): void {
    this.#session.close('shutdown')
  }
}

/**
 * A pass-through stage placed at the response's edge that ends `session` when the stream
 * terminates there (see the file's contract for the reasons). Materialize it once per session.
 */
export class SessionEndStage<T> extends GraphStage<FlowShape<T, T>> {
  readonly shape = new FlowShape(new Inlet<T>('sseSession.in'), new Outlet<T>('sseSession.out'))
  constructor(readonly session: SseSession) {
    super()
  }
  override get initialAttributes(): Attributes {
    return ATTRIBUTES
  }
  createLogic(): GraphStageLogic {
    return new SessionEndLogic<T>(this.shape, this.session)
  }
}

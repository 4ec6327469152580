/**
 * Unfolding sources: unfold, unfoldAsync (elements generated from a state) and unfoldResource,
 * unfoldResourceAsync (elements read from a resource that must be released).
 *
 * Shared contract: a function runs only when downstream pulls, once per element (never ahead of
 * demand); `undefined` means "no more elements" and completes the source. A throwing or rejecting
 * state function fails the source. For the resource sources, `create` runs when the stage starts,
 * and `close` runs exactly once for every resource created — on completion, on failure (read or
 * create errors included), on cancellation, and when the stream is torn down (materializer
 * shutdown) — even when the resource arrives after the stage stopped. Read errors go through the
 * supervision decider: `stop` closes and fails, `resume` reads again, `restart` closes, creates a
 * new resource and reads from it. A `close` that fails on completion fails the stream; one that
 * fails after a read error or a cancellation (nobody left to tell) is logged.
 */
import type { AsyncCallback } from '../stage/GraphStageLogic.js'
import type { Attributes, Decider } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import { DONE, SyncSourceStage, type Done, type SyncSource } from '../stage/fusion.js'
import { decide, SourceStage } from '../stage/linear.js'
import type { SourceShape } from '../stage/ports.js'
import { SourceLogic } from './basic.js'

// ---- unfold: a synchronous source (it can head a fused chain) ----

class UnfoldSource<S, T> implements SyncSource<T> {
  #state: S
  constructor(
    seed: S,
    readonly f: (s: S) => readonly [S, T] | undefined,
  ) {
    this.#state = seed
  }
  next(): T | Done {
    const r = this.f(this.#state)
    if (r === undefined) return DONE
    this.#state = r[0]
    return r[1]
  }
}

export class UnfoldStage<S, T> extends SyncSourceStage<T> {
  constructor(
    readonly seed: S,
    readonly f: (s: S) => readonly [S, T] | undefined,
  ) {
    super('unfold')
  }
  createSource(): SyncSource<T> {
    return new UnfoldSource(this.seed, this.f)
  }
}

// ---- unfoldAsync ----

class UnfoldAsyncLogic<S, T> extends SourceLogic<T> {
  #state: S
  readonly #result: AsyncCallback<readonly [S, T] | undefined>
  readonly #failure: AsyncCallback<unknown>
  readonly #ok = (r: readonly [S, T] | undefined): void => {
    this.#result.invoke(r)
  }
  readonly #ko = (e: unknown): void => {
    this.#failure.invoke(e)
  }

  constructor(
    shape: SourceShape<T>,
    seed: S,
    readonly f: (s: S) => Promise<readonly [S, T] | undefined>,
  ) {
    super(shape)
    this.#state = seed
    this.#result = this.getAsyncCallback((r) => {
      if (r === undefined) return this.completeStage()
      this.#state = r[0]
      this.push(this.out, r[1])
    })
    this.#failure = this.getAsyncCallback((e) => this.failStage(e))
  }

  onPull(): void {
    try {
      this.f(this.#state).then(this.#ok, this.#ko)
    } catch (e) {
      this.failStage(e)
    }
  }
}

export class UnfoldAsyncStage<S, T> extends SourceStage<T> {
  constructor(
    readonly seed: S,
    readonly f: (s: S) => Promise<readonly [S, T] | undefined>,
  ) {
    super('unfoldAsync')
  }
  createLogic(): GraphStageLogic {
    return new UnfoldAsyncLogic(this.shape, this.seed, this.f)
  }
}

// ---- unfoldResource ----

class UnfoldResourceLogic<R, T> extends SourceLogic<T> {
  readonly decider: Decider
  #resource: R | undefined = undefined
  #open = false
  readonly #retry: AsyncCallback<void>

  constructor(
    shape: SourceShape<T>,
    attributes: Attributes,
    readonly stage: UnfoldResourceStage<R, T>,
  ) {
    super(shape)
    this.decider = attributes.decider
    this.#retry = this.getAsyncCallback(() => {
      if (this.isAvailable(this.out)) this.onPull()
    })
  }

  override preStart(): void {
    this.#create()
  }

  onPull(): void {
    let x: T | undefined
    try {
      x = this.stage.read(this.#resource as R)
    } catch (e) {
      return this.#readFailed(e)
    }
    if (x !== undefined) return this.push(this.out, x)
    const closeError = this.#close()
    if (closeError === undefined) this.completeStage()
    else this.failStage(closeError.error)
  }

  onDownstreamFinish(cause: unknown): void {
    this.#closeLogging()
    this.cancelStage(cause)
  }

  override postStop(): void {
    this.#closeLogging()
  }

  #readFailed(error: unknown): void {
    switch (decide(this.decider, error)) {
      case 'stop':
        this.#closeLogging()
        return this.failStage(error)
      case 'resume':
        // read again on the same demand, after other work had a turn (a read that always throws must not spin)
        this.#retry.invoke()
        return
      case 'restart': {
        const closeError = this.#close()
        if (closeError !== undefined) return this.failStage(closeError.error)
        if (this.#create()) this.#retry.invoke()
        return
      }
    }
  }

  /** Returns false when creation failed (the stage then fails). */
  #create(): boolean {
    try {
      this.#resource = this.stage.create()
    } catch (e) {
      this.failStage(e)
      return false
    }
    this.#open = true
    return true
  }

  /** Close the open resource (at most once); returns what `close` threw, boxed. */
  #close(): { readonly error: unknown } | undefined {
    if (!this.#open) return undefined
    this.#open = false
    const r = this.#resource as R
    this.#resource = undefined
    try {
      this.stage.close(r)
    } catch (error) {
      return { error }
    }
    return undefined
  }

  #closeLogging(): void {
    const closeError = this.#close()
    if (closeError !== undefined) this.log.error(`${this.toString()}: close failed`, closeError.error)
  }
}

export class UnfoldResourceStage<R, T> extends SourceStage<T> {
  constructor(
    readonly create: () => R,
    readonly read: (r: R) => T | undefined,
    readonly close: (r: R) => void,
  ) {
    super('unfoldResource')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new UnfoldResourceLogic(this.shape, attributes, this)
  }
}

// ---- unfoldResourceAsync ----

/**
 * Where the resource is: being created, open (idle), being read, being closed, or closed/none.
 * At most one operation on it is in flight.
 */
type Phase = 'creating' | 'open' | 'reading' | 'closing' | 'closed'
/** What to do once the resource is closed. */
type AfterClose = { readonly kind: 'complete' } | { readonly kind: 'fail'; readonly error: unknown } | { readonly kind: 'restart' } | { readonly kind: 'stop' }

const COMPLETE: AfterClose = { kind: 'complete' }
const RESTART: AfterClose = { kind: 'restart' }
const STOP: AfterClose = { kind: 'stop' }

/** A settled promise of the in-flight operation, noted before its event runs (it may be lost if the stage stops). */
type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown }

class UnfoldResourceAsyncLogic<R, T> extends SourceLogic<T> {
  readonly decider: Decider
  #phase: Phase = 'creating'
  #resource: R | undefined = undefined
  #afterClose: AfterClose = COMPLETE
  /** Downstream cancelled: close as soon as nothing is in flight, then stop (keep-going until then). */
  #cancelled = false
  /** postStop ran: settlements no longer reach a handler and are handled right where they arrive. */
  #stopped = false
  #settled: Settled | undefined = undefined
  readonly #event: AsyncCallback<Settled>
  readonly #ok = (value: unknown): void => this.#arrive({ ok: true, value })
  readonly #ko = (error: unknown): void => this.#arrive({ ok: false, error })

  constructor(
    shape: SourceShape<T>,
    attributes: Attributes,
    readonly stage: UnfoldResourceAsyncStage<R, T>,
  ) {
    super(shape)
    this.decider = attributes.decider
    this.#event = this.getAsyncCallback((s: Settled) => {
      this.#settled = undefined
      this.#onSettled(s)
    })
  }

  override preStart(): void {
    this.#create()
  }

  onPull(): void {
    if (this.#phase === 'open') this.#read()
    // creating: read once created; reading/closing cannot be pulled again
  }

  onDownstreamFinish(cause: unknown): void {
    this.#cancelled = true
    this.cancelStage(cause)
    if (this.#phase === 'closed') return
    this.setKeepGoing(true)
    if (this.#phase === 'open') this.#startClose(STOP)
  }

  override postStop(): void {
    this.#stopped = true
    // torn down with the resource held: release it now, or when the in-flight operation settles
    const s = this.#settled
    this.#settled = undefined
    if (this.#phase === 'open') this.#closeDetached(this.#resource as R)
    else if (s !== undefined) this.#settleDetached(s)
  }

  // ---- operations ----

  #create(): void {
    this.#phase = 'creating'
    this.#call(this.stage.create, undefined)
  }

  #read(): void {
    this.#phase = 'reading'
    this.#call(this.stage.read, this.#resource)
  }

  #startClose(then: AfterClose): void {
    this.#phase = 'closing'
    this.#afterClose = then
    this.#call(this.stage.close, this.#resource)
  }

  #call(f: (arg: any) => Promise<unknown>, arg: unknown): void {
    try {
      f(arg).then(this.#ok, this.#ko)
    } catch (error) {
      this.#onSettled({ ok: false, error })
    }
  }

  #arrive(s: Settled): void {
    if (this.#stopped) return this.#settleDetached(s)
    this.#settled = s
    this.#event.invoke(s)
  }

  // ---- settlements, in the stage ----

  #onSettled(s: Settled): void {
    switch (this.#phase) {
      case 'creating':
        return this.#created(s)
      case 'reading':
        return this.#readDone(s)
      case 'closing':
        return this.#closed(s)
      case 'open':
      case 'closed':
        throw new Error(`Cannot settle an operation in state ${this.#phase}`)
    }
  }

  #created(s: Settled): void {
    if (!s.ok) {
      this.#phase = 'closed'
      return this.#cancelled ? this.setKeepGoing(false) : this.failStage(s.error)
    }
    this.#resource = s.value as R
    this.#phase = 'open'
    if (this.#cancelled) this.#startClose(STOP)
    else if (this.isAvailable(this.out)) this.#read()
  }

  #readDone(s: Settled): void {
    this.#phase = 'open'
    if (this.#cancelled) return this.#startClose(STOP)
    if (s.ok) {
      if (s.value === undefined) return this.#startClose(COMPLETE)
      return this.push(this.out, s.value as T)
    }
    switch (decide(this.decider, s.error)) {
      case 'stop':
        return this.#startClose({ kind: 'fail', error: s.error })
      case 'resume':
        return this.#read()
      case 'restart':
        return this.#startClose(RESTART)
    }
  }

  #closed(s: Settled): void {
    this.#phase = 'closed'
    this.#resource = undefined
    const then = this.#afterClose
    if (!s.ok && (this.#cancelled || then.kind === 'fail')) this.log.error(`${this.toString()}: close failed`, s.error)
    if (this.#cancelled) return this.setKeepGoing(false)
    switch (then.kind) {
      case 'complete':
        return s.ok ? this.completeStage() : this.failStage(s.error)
      case 'fail':
        return this.failStage(then.error)
      case 'restart':
        return s.ok ? this.#create() : this.failStage(s.error)
      case 'stop':
        return this.setKeepGoing(false)
    }
  }

  // ---- after the stage stopped (materializer shutdown): only make sure the resource is closed ----

  #settleDetached(s: Settled): void {
    const phase = this.#phase
    this.#phase = 'closed'
    if (phase === 'creating' && s.ok) this.#closeDetached(s.value as R)
    else if (phase === 'reading') this.#closeDetached(this.#resource as R)
    // closing: that close was the one; a failed create has nothing to close
  }

  #closeDetached(r: R): void {
    this.#phase = 'closed'
    this.#resource = undefined
    const log = (e: unknown): void => this.log.error(`${this.toString()}: close failed`, e)
    try {
      this.stage.close(r).then(undefined, log)
    } catch (e) {
      log(e)
    }
  }
}

export class UnfoldResourceAsyncStage<R, T> extends SourceStage<T> {
  constructor(
    readonly create: () => Promise<R>,
    readonly read: (r: R) => Promise<T | undefined>,
    readonly close: (r: R) => Promise<void>,
  ) {
    super('unfoldResourceAsync')
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new UnfoldResourceAsyncLogic(this.shape, attributes, this)
  }
}

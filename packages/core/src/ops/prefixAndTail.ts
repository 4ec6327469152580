/**
 * Prefix operators with a nested stream: prefixAndTail and flatMapPrefix.
 *
 * Shared contract: the first `n` elements (fewer if upstream completes first) are collected,
 * pulled one at a time on downstream demand; the rest of the input then flows through a nested
 * stream that the stage feeds through a {@link SubSourceOutlet}, element by element on that
 * nested stream's demand. Cancellation causes cross in both directions: the nested stream's
 * consumer cancelling cancels upstream with its cause, and upstream's end (completion or failure)
 * ends the nested stream the same way.
 */
import { InvalidArgumentError } from '../errors.js'
import { toMillis, type Duration } from '../duration.js'
import type { Flow } from '../Flow.js'
import type { Source } from '../Source.js'
import type { NotUsed } from '../stage/GraphStage.js'
import { GraphStageLogic, type InHandler, type OutHandler } from '../stage/GraphStageLogic.js'
import { LinearStage } from '../stage/linear.js'
import type { FlowShape, Inlet, Outlet } from '../stage/ports.js'
import { SubSinkInlet, SubSourceOutlet, type SubSinkInletHandler, type SubSourceOutletHandler } from '../stage/substreams.js'

function checkCount(n: number): void {
  if (!(n >= 0) || !Number.isInteger(n)) throw new InvalidArgumentError('n', n, 'a non-negative integer')
}

/** Options of `prefixAndTail`. */
export interface PrefixAndTailOptions {
  /**
   * How long the emitted tail may stay unmaterialized (default 5 s, as in Pekko). When it expires,
   * upstream is cancelled (not a failure) and a later materialization of the tail fails with
   * `SubstreamMaterializationError`.
   */
  readonly subscriptionTimeout?: Duration
}

/** The default subscription timeout of a tail source, in ms. */
export const DEFAULT_SUBSCRIPTION_TIMEOUT_MS = 5000

const SUBSCRIPTION_TIMER = 'subscription'

// ================================================================================================
// prefixAndTail
// ================================================================================================

/** The tail's consumer, as seen by the stage. */
class TailHandler<T> implements SubSourceOutletHandler {
  constructor(readonly logic: PrefixAndTailLogic<T>) {}
  onPull(): void {
    this.logic._tailPulled()
  }
  onDownstreamFinish(cause: unknown): void {
    this.logic.cancelStage(cause)
  }
}

class PrefixAndTailLogic<T> extends GraphStageLogic implements InHandler, OutHandler {
  readonly in: Inlet<T>
  readonly out: Outlet<[T[], Source<T, NotUsed>]>
  /** The prefix being collected; undefined once emitted. */
  #prefix: T[] | undefined = []
  #tail: SubSourceOutlet<T> | undefined = undefined

  constructor(
    shape: FlowShape<T, [T[], Source<T, NotUsed>]>,
    readonly n: number,
    readonly timeoutMs: number,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }

  onPull(): void {
    if (this.n === 0) this.#emitPrefix()
    else this.pull(this.in)
  }

  onPush(): void {
    const x = this.grab(this.in)
    const prefix = this.#prefix
    if (prefix === undefined) return this.#tail!.push(x) // pulled for the tail
    prefix.push(x)
    if (prefix.length === this.n) this.#emitPrefix()
    else this.pull(this.in)
  }

  onUpstreamFinish(): void {
    const prefix = this.#prefix
    if (prefix !== undefined) {
      // a short prefix, and an empty tail
      this.#prefix = undefined
      const tail = this.#openTail()
      tail.complete()
      this.emit(this.out, [prefix, tail.source])
      this.complete(this.out)
    } else {
      this.#tail!.complete()
      this.completeStage()
    }
  }

  onUpstreamFailure(error: unknown): void {
    if (this.#prefix !== undefined) return this.failStage(error)
    this.#tail!.fail(error)
    this.completeStage()
  }

  onDownstreamFinish(cause: unknown): void {
    // after the prefix, the outlet was completed by this stage: only the tail's consumer matters then
    if (this.#prefix !== undefined) this.cancelStage(cause)
  }

  _tailPulled(): void {
    this.cancelTimer(SUBSCRIPTION_TIMER)
    this.pull(this.in)
  }

  protected override onTimer(): void {
    if (this.#tail!.timeout(this.timeoutMs)) this.completeStage()
  }

  #openTail(): SubSourceOutlet<T> {
    const tail = new SubSourceOutlet<T>(this, `${this.toString()}.tail`)
    tail.setHandler(new TailHandler(this))
    this.#tail = tail
    return tail
  }

  #emitPrefix(): void {
    const prefix = this.#prefix!
    this.#prefix = undefined
    const tail = this.#openTail()
    this.push(this.out, [prefix, tail.source])
    this.complete(this.out)
    if (Number.isFinite(this.timeoutMs)) this.scheduleOnce(SUBSCRIPTION_TIMER, this.timeoutMs)
  }
}

export class PrefixAndTailStage<T> extends LinearStage<T, [T[], Source<T, NotUsed>]> {
  readonly timeoutMs: number
  constructor(
    readonly n: number,
    options: PrefixAndTailOptions = {},
  ) {
    super('prefixAndTail')
    checkCount(n)
    this.timeoutMs =
      options.subscriptionTimeout === undefined ? DEFAULT_SUBSCRIPTION_TIMEOUT_MS : toMillis(options.subscriptionTimeout, 'subscriptionTimeout')
  }
  createLogic(): GraphStageLogic {
    return new PrefixAndTailLogic<T>(this.shape, this.n, this.timeoutMs)
  }
}

// ================================================================================================
// flatMapPrefix
// ================================================================================================

/** The nested flow's input side: its demand pulls upstream, its cancellation cancels upstream. */
class NestedInput<In> implements SubSourceOutletHandler {
  constructor(readonly logic: FlatMapPrefixLogic<In, any>) {}
  onPull(): void {
    const { logic } = this
    if (!logic.isClosed(logic.in) && !logic.hasBeenPulled(logic.in)) logic.pull(logic.in)
  }
  onDownstreamFinish(cause: unknown): void {
    const { logic } = this
    if (!logic.isClosed(logic.in)) logic.cancel(logic.in, cause)
  }
}

/** The nested flow's output side: forwarded downstream. */
class NestedOutput<Out> implements SubSinkInletHandler {
  constructor(
    readonly logic: FlatMapPrefixLogic<any, Out>,
    readonly port: SubSinkInlet<Out>,
  ) {}
  onPush(): void {
    this.logic.push(this.logic.out, this.port.grab())
  }
  onUpstreamFinish(): void {
    this.logic.complete(this.logic.out)
  }
  onUpstreamFailure(error: unknown): void {
    this.logic.fail(this.logic.out, error)
  }
}

/**
 * Collects the prefix on demand; then materializes `f(prefix)` between a sub-source fed from
 * upstream and a sub-sink read on downstream's demand. If downstream cancels before that, the
 * nested flow is never materialized and upstream is cancelled with the same cause.
 */
class FlatMapPrefixLogic<In, Out> extends GraphStageLogic implements InHandler, OutHandler {
  readonly in: Inlet<In>
  readonly out: Outlet<Out>
  #prefix: In[] = []
  #input: SubSourceOutlet<In> | undefined = undefined
  #output: SubSinkInlet<Out> | undefined = undefined

  constructor(
    shape: FlowShape<In, Out>,
    readonly stage: FlatMapPrefixStage<In, Out>,
  ) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.setHandler(shape.in, this)
    this.setHandler(shape.out, this)
  }

  onPull(): void {
    const output = this.#output
    if (output !== undefined) output.pull()
    else if (this.#prefix.length === this.stage.n) this.#materialize()
    else this.pull(this.in)
  }

  onPush(): void {
    const x = this.grab(this.in)
    const input = this.#input
    if (input !== undefined) return input.push(x)
    this.#prefix.push(x)
    if (this.#prefix.length === this.stage.n) this.#materialize()
    else this.pull(this.in)
  }

  onUpstreamFinish(): void {
    const input = this.#input
    if (input !== undefined) input.complete()
    else this.#materialize()
  }

  onUpstreamFailure(error: unknown): void {
    const input = this.#input
    if (input === undefined) return this.failStage(error)
    input.fail(error)
  }

  onDownstreamFinish(cause: unknown): void {
    const output = this.#output
    if (output === undefined) return this.cancelStage(cause)
    output.cancel(cause)
  }

  #materialize(): void {
    const prefix = this.#prefix
    this.#prefix = []
    const name = this.toString()
    const input = new SubSourceOutlet<In>(this, `${name}.nestedIn`)
    input.setHandler(new NestedInput(this))
    const output = new SubSinkInlet<Out>(this, `${name}.nestedOut`)
    output.setHandler(new NestedOutput(this, output))
    this.#input = input
    this.#output = output
    try {
      input.source.via(this.stage.f(prefix)).to(output.sink).run(this.materializer)
    } catch (e) {
      input.fail(e)
      output.cancel(e)
      return this.failStage(e)
    }
    if (this.isClosed(this.in)) input.complete()
    if (this.isAvailable(this.out)) output.pull()
  }
}

export class FlatMapPrefixStage<In, Out> extends LinearStage<In, Out> {
  constructor(
    readonly n: number,
    readonly f: (prefix: In[]) => Flow<In, Out, any>,
  ) {
    super('flatMapPrefix')
    checkCount(n)
  }
  createLogic(): GraphStageLogic {
    return new FlatMapPrefixLogic<In, Out>(this.shape, this)
  }
}

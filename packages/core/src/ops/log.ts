/**
 * `log(name, options)`: a pass-through stage that reports what flows through it to a
 * {@link Logger} — each element (or what `extract` takes from it), completion, failure, and
 * cancellation with its cause.
 *
 * Contract: elements pass through unchanged and on demand only. Elements, completion and
 * cancellations with a non-failure cause are logged at `level` (default `debug`); an upstream
 * failure and a cancellation with a failure cause are logged at `error`. Messages start with
 * `[name]`; the element, error or cause is the logger's extra argument (never formatted into the
 * message), so structured loggers keep it as data. The logger is `options.logger`, else the
 * materializer's. An `extract` (or logger) that throws is supervised like any user function:
 * `stop` fails the stream, `resume` and `restart` drop the element.
 */
import { InvalidArgumentError, isNonFailureCancellation } from '../errors.js'
import type { Logger } from '../internal/materializer.js'
import type { Attributes } from '../stage/Attributes.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import type { FlowShape } from '../stage/ports.js'
import { LinearStage } from '../stage/linear.js'
import { SupervisedLogic } from './supervised.js'

/** A log level of {@link Logger}. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** Options of the `log` operator. */
export interface LogOptions<T> {
  /** What to log of each element (default: the element itself). */
  readonly extract?: (x: T) => unknown
  /** Where to log (default: the materializer's logger). */
  readonly logger?: Logger
  /** Level of element, completion and non-failure cancellation messages (default `debug`). */
  readonly level?: LogLevel
}

class LogLogic<T> extends SupervisedLogic<T, T> {
  #logger: Logger | undefined
  constructor(shape: FlowShape<T, T>, attributes: Attributes, readonly stage: LogStage<T>) {
    super(shape, attributes)
    this.#logger = stage.logger
  }
  override preStart(): void {
    this.#logger ??= this.log
  }
  onPush(): void {
    const x = this.grab(this.in)
    const { extract, level } = this.stage
    try {
      this.#logger![level](this.stage.elementMessage, extract === undefined ? x : extract(x))
    } catch (e) {
      return this.supervise(e)
    }
    this.push(this.out, x)
  }
  onUpstreamFinish(): void {
    this.#report(this.stage.level, this.stage.finishedMessage)
    this.completeStage()
  }
  onUpstreamFailure(error: unknown): void {
    this.#report('error', this.stage.failedMessage, error)
    this.failStage(error)
  }
  onDownstreamFinish(cause: unknown): void {
    this.#report(isNonFailureCancellation(cause) ? this.stage.level : 'error', this.stage.cancelledMessage, cause)
    this.cancelStage(cause)
  }
  /** Log a termination; a throwing logger must not keep the stream from terminating. */
  #report(level: LogLevel, message: string, ...args: unknown[]): void {
    try {
      this.#logger![level](message, ...args)
    } catch {
      // the termination proceeds regardless
    }
  }
}

export class LogStage<T> extends LinearStage<T, T> {
  readonly extract: ((x: T) => unknown) | undefined
  readonly logger: Logger | undefined
  readonly level: LogLevel
  readonly elementMessage: string
  readonly finishedMessage: string
  readonly failedMessage: string
  readonly cancelledMessage: string
  constructor(readonly label: string, options: LogOptions<T> = {}) {
    super('log')
    this.extract = options.extract
    this.logger = options.logger
    this.level = options.level ?? 'debug'
    if (!LEVELS.includes(this.level)) throw new InvalidArgumentError('level', this.level, `one of ${LEVELS.join(', ')}`)
    this.elementMessage = `[${label}] Element`
    this.finishedMessage = `[${label}] Upstream finished`
    this.failedMessage = `[${label}] Upstream failed`
    this.cancelledMessage = `[${label}] Downstream cancelled`
  }
  createLogic(attributes: Attributes): GraphStageLogic {
    return new LogLogic(this.shape, attributes, this)
  }
}

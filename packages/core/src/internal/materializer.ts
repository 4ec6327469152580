/**
 * The materializer turns a closed blueprint into running islands.
 *
 * `materialize` puts a boundary pair on every async edge, fuses chains of simple operators (see
 * stage/fusion.ts), creates one logic per remaining stage node (each with its materialized
 * value), groups the nodes connected by synchronous edges into islands (one interpreter each),
 * evaluates the materialized value, and hands the islands to the executor. Streams start in the
 * executor's next run, never inside `run()` itself. The structural part of that work is kept per
 * module as a plan (plan.ts) and replayed when the same module runs again.
 */
import { InvalidArgumentError, StreamDetachedError } from '../errors.js'
import { boundaryPair } from './boundary.js'
import { Executor } from './executor.js'
import type { GraphInterpreter } from './interpreter.js'
import type { Edge, Module, StageNode } from './module.js'
import { buildPlan, runPlan, type MaterializationPlan } from './plan.js'
import { Attributes } from '../stage/Attributes.js'
import { systemScheduler, type Scheduler } from './scheduler.js'
import { SlotSet } from './SlotSet.js'

export interface Logger {
  debug(message: string, ...args: unknown[]): void
  info(message: string, ...args: unknown[]): void
  warn(message: string, ...args: unknown[]): void
  error(message: string, ...args: unknown[]): void
}

/** Logs warnings and errors to the console; debug and info are dropped. */
export const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (m, ...a) => console.warn(`[weir] ${m}`, ...a),
  error: (m, ...a) => console.error(`[weir] ${m}`, ...a),
}

export interface MaterializerSettings {
  /** Time source for every timer of the streams it runs; tests pass virtual time. */
  readonly scheduler?: Scheduler
  readonly logger?: Logger
  /**
   * Elements buffered across an async boundary (default 64: islands share one thread, so the
   * buffer is what batches the hand-over between them; byte-stream boundaries set their own).
   */
  readonly inputBuffer?: number
  /** Events an island runs before other islands get a turn (default 4096). */
  readonly sliceEvents?: number
  /** Events run before yielding to the event loop (default 32768). */
  readonly turnEvents?: number
  /**
   * Milliseconds of work before yielding to the event loop, however few the events (default 4):
   * I/O keeps its turn under load — a listening socket accepts one connection per loop iteration.
   */
  readonly turnMs?: number
  /**
   * Run chains of simple synchronous operators (map, filter, fold, take …) and the synchronous
   * source before them in one stage (default true). Semantics are the same either way.
   */
  readonly operatorFusion?: boolean
}

export class Materializer {
  readonly scheduler: Scheduler
  readonly logger: Logger
  readonly executor: Executor
  readonly inputBuffer: number
  readonly operatorFusion: boolean
  /** The running islands (of a root materializer; a sub-fusing one keeps none of its own). */
  readonly #live: SlotSet<GraphInterpreter>
  /** Materialization plans of the modules run so far (see plan.ts; a sub-fusing materializer uses its root's). */
  readonly #plans: WeakMap<Module, MaterializationPlan>
  #shutdown = false
  /** For a sub-fusing materializer: the materializer it belongs to, and the island it fuses into. */
  readonly #root: Materializer | undefined
  readonly #host: GraphInterpreter | undefined

  private constructor(settings: MaterializerSettings, root?: Materializer, host?: GraphInterpreter) {
    this.#root = root
    this.#host = host
    this.#live = root === undefined ? new SlotSet() : NO_ISLANDS
    this.#plans = root === undefined ? new WeakMap() : NO_PLANS
    if (root !== undefined) {
      this.scheduler = root.scheduler
      this.logger = root.logger
      this.inputBuffer = root.inputBuffer
      this.operatorFusion = root.operatorFusion
      this.executor = root.executor
      return
    }
    this.scheduler = settings.scheduler ?? systemScheduler
    this.logger = settings.logger ?? consoleLogger
    this.inputBuffer = settings.inputBuffer ?? 64
    this.operatorFusion = settings.operatorFusion ?? true
    if (!(this.inputBuffer >= 1)) throw new InvalidArgumentError('inputBuffer', this.inputBuffer, 'at least 1')
    this.executor = new Executor({ sliceEvents: settings.sliceEvents ?? 4096, turnEvents: settings.turnEvents ?? 32768, turnMs: settings.turnMs ?? 4 }, (e) =>
      this.logger.error('a callback after an island run failed', e),
    )
  }

  static create(settings: MaterializerSettings = {}): Materializer {
    return new Materializer(settings)
  }

  /** @internal The sub-fusing materializer of `host`, an island of this materializer (see `GraphStageLogic.subFusingMaterializer`). */
  _subFusing(host: GraphInterpreter): Materializer {
    return (host.subFusing ??= new Materializer({}, this.#root ?? this, host))
  }

  /** @internal Materialize a closed module; use `RunnableGraph.run` instead. */
  materialize<M>(module: Module): M {
    if (this.#root !== undefined) return this.#root.#materialize(module, this.#host)
    return this.#materialize(module, undefined)
  }

  /** `host`: a running island that takes the island of the module's last node (sub-fusing). */
  #materialize<M>(module: Module, host: GraphInterpreter | undefined): M {
    if (this.#shutdown) throw new StreamDetachedError('The materializer was shut down')
    // the structural analysis is done once per module; each run replays it with fresh stages
    let plan = this.#plans.get(module)
    if (plan === undefined) {
      if (module.inlets.length > 0 || module.outlets.length > 0) {
        const open = [
          ...module.inlets.map((p) => module.nodes[p.node]!.stage.shape.inlets[p.port]!.name),
          ...module.outlets.map((p) => module.nodes[p.node]!.stage.shape.outlets[p.port]!.name),
        ]
        throw new InvalidArgumentError('graph', open.join(', '), 'closed (every port connected); open ports')
      }
      const [nodes, edges] = this.#insertBoundaries(module)
      plan = buildPlan(module, nodes, edges, this.operatorFusion)
      this.#plans.set(module, plan)
    }
    // sub-fusing into an island that runs: it takes the island of the module's last node (a sink's)
    const fuseInto = host !== undefined && host.started && !host.finished ? host : undefined
    const [mat, islands, attached] = runPlan(plan, module, this, fuseInto)
    for (const it of islands) {
      this.#live.add(it)
      this.executor.schedule(it)
    }
    if (attached.length > 0) fuseInto!.attach(attached)
    return mat as M
  }

  /**
   * Replace every async edge by a boundary pair: `from → BoundaryOut` in the upstream island and
   * `BoundaryIn → to` in the downstream one (no edge between them, so they land in two islands).
   */
  #insertBoundaries(module: Module): [readonly StageNode[], readonly Edge[]] {
    if (!module.edges.some((e) => e.async)) return [module.nodes, module.edges]
    const nodes = module.nodes.slice()
    const edges: Edge[] = []
    for (const e of module.edges) {
      if (!e.async) {
        edges.push(e)
        continue
      }
      const from = nodes[e.from]!
      const to = nodes[e.to]!
      const size = to.attributes.values.inputBuffer?.max ?? from.attributes.values.inputBuffer?.max ?? this.inputBuffer
      const [bo, bi] = boundaryPair(size)
      const boIndex = nodes.push({ stage: bo, attributes: Attributes.named(`${from.attributes.name ?? from.stage.toString()}→async`) }) - 1
      const biIndex = nodes.push({ stage: bi, attributes: Attributes.named(`async→${to.attributes.name ?? to.stage.toString()}`) }) - 1
      edges.push({ from: e.from, fromPort: e.fromPort, to: boIndex, toPort: 0, async: false })
      edges.push({ from: biIndex, fromPort: 0, to: e.to, toPort: e.toPort, async: false })
    }
    return [nodes, edges]
  }

  /** @internal */
  _islandFinished(it: GraphInterpreter): void {
    this.#live.delete(it)
  }

  /** Islands that have not finished yet. */
  get runningIslands(): number {
    if (this.#root !== undefined) return this.#root.runningIslands
    return this.#live.size
  }

  /** Names of stages that are still running (empty when every stream has stopped). */
  runningStages(): string[] {
    if (this.#root !== undefined) return this.#root.runningStages()
    const names: string[] = []
    for (const it of this.#live) for (const l of it.logics) if (!l._cell.finalized) names.push(l.toString())
    return names
  }

  /** Resolves once no stream has pending work. */
  whenIdle(): Promise<void> {
    return this.executor.whenIdle()
  }

  /** Stop every running stream: stages fail with `StreamDetachedError` and run `postStop`. */
  shutdown(): void {
    if (this.#root !== undefined) return this.#root.shutdown()
    this.#shutdown = true
    const err = new StreamDetachedError()
    for (const it of this.#live.toArray()) it.abort(err)
    this.#live.clear()
  }

  get isShutdown(): boolean {
    if (this.#root !== undefined) return this.#root.isShutdown
    return this.#shutdown
  }
}

const NO_ISLANDS: SlotSet<GraphInterpreter> = new SlotSet()
const NO_PLANS: WeakMap<Module, MaterializationPlan> = new WeakMap()

let defaultInstance: Materializer | undefined

/** The process-wide materializer used by `run()` when none is passed. */
export function defaultMaterializer(): Materializer {
  return (defaultInstance ??= Materializer.create())
}

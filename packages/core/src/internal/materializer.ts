/**
 * The materializer turns a closed blueprint into running islands.
 *
 * `materialize` creates one logic per stage node (each with its materialized value), groups the
 * nodes connected by synchronous edges into islands (one fused interpreter each), puts a
 * boundary pair on every async edge, evaluates the materialized value, and hands the islands to
 * the executor. Streams start in the executor's next run, never inside `run()` itself.
 */
import { InvalidArgumentError, StreamDetachedError } from '../errors.js'
import type { GraphStageLogic } from '../stage/GraphStageLogic.js'
import { boundaryPair } from './boundary.js'
import { Executor } from './executor.js'
import { GraphInterpreter } from './interpreter.js'
import { evalMat, type Module } from './module.js'
import { systemScheduler, type Scheduler } from './scheduler.js'

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
  /** Elements buffered on each side of an async boundary (default 16). */
  readonly inputBuffer?: number
  /** Events an island runs before other islands get a turn (default 4096). */
  readonly sliceEvents?: number
  /** Events run before yielding to the event loop (default 32768). */
  readonly turnEvents?: number
}

export class Materializer {
  readonly scheduler: Scheduler
  readonly logger: Logger
  readonly executor: Executor
  readonly inputBuffer: number
  readonly #live = new Set<GraphInterpreter>()
  #shutdown = false

  private constructor(settings: MaterializerSettings) {
    this.scheduler = settings.scheduler ?? systemScheduler
    this.logger = settings.logger ?? consoleLogger
    this.inputBuffer = settings.inputBuffer ?? 16
    if (!(this.inputBuffer >= 1)) throw new InvalidArgumentError('inputBuffer', this.inputBuffer, 'at least 1')
    this.executor = new Executor({ sliceEvents: settings.sliceEvents ?? 4096, turnEvents: settings.turnEvents ?? 32768 })
  }

  static create(settings: MaterializerSettings = {}): Materializer {
    return new Materializer(settings)
  }

  /** @internal Materialize a closed module; use `RunnableGraph.run` instead. */
  materialize<M>(module: Module): M {
    if (this.#shutdown) throw new StreamDetachedError('The materializer was shut down')
    if (module.inlets.length > 0 || module.outlets.length > 0) {
      const open = [
        ...module.inlets.map((p) => module.nodes[p.node]!.stage.shape.inlets[p.port]!.name),
        ...module.outlets.map((p) => module.nodes[p.node]!.stage.shape.outlets[p.port]!.name),
      ]
      throw new InvalidArgumentError('graph', open.join(', '), 'closed (every port connected); open ports')
    }
    const { nodes, edges } = module
    const n = nodes.length
    const logics: GraphStageLogic[] = new Array(n)
    const mats: unknown[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const node = nodes[i]!
      const [logic, mat] = node.stage.createLogicAndMaterializedValue(node.attributes, this)
      logic._name = node.attributes.name ?? node.stage.toString()
      logics[i] = logic
      mats[i] = mat
    }

    // islands: components over synchronous edges
    const parent = new Int32Array(n)
    for (let i = 0; i < n; i++) parent[i] = i
    const find = (x: number): number => {
      while (parent[x] !== x) {
        parent[x] = parent[parent[x]!]!
        x = parent[x]!
      }
      return x
    }
    for (const e of edges) if (!e.async) parent[find(e.from)] = find(e.to)
    const islands = new Map<number, GraphInterpreter>()
    const islandOf = (i: number): GraphInterpreter => {
      const root = find(i)
      let it = islands.get(root)
      if (it === undefined) {
        it = new GraphInterpreter(this)
        islands.set(root, it)
      }
      return it
    }
    for (let i = 0; i < n; i++) islandOf(i).addLogic(logics[i]!)
    for (const e of edges) {
      const from = logics[e.from]!
      const to = logics[e.to]!
      if (!e.async) {
        islandOf(e.from).connect(from, e.fromPort, to, e.toPort)
        continue
      }
      const size = nodes[e.to]!.attributes.values.inputBuffer?.max ?? this.inputBuffer
      const [bo, bi] = boundaryPair(size)
      const boLogic = bo.createLogic()
      const biLogic = bi.createLogic()
      boLogic._name = `${from.toString()}→async`
      biLogic._name = `async→${to.toString()}`
      const up = islandOf(e.from)
      const down = islandOf(e.to)
      up.addLogic(boLogic)
      up.connect(from, e.fromPort, boLogic, 0)
      down.addLogic(biLogic)
      down.connect(biLogic, 0, to, e.toPort)
    }
    const mat = evalMat(module.mat, mats) as M
    for (const it of islands.values()) {
      this.#live.add(it)
      this.executor.schedule(it)
    }
    return mat
  }

  /** @internal */
  _islandFinished(it: GraphInterpreter): void {
    this.#live.delete(it)
  }

  /** Islands that have not finished yet. */
  get runningIslands(): number {
    return this.#live.size
  }

  /** Names of stages that are still running (empty when every stream has stopped). */
  runningStages(): string[] {
    const names: string[] = []
    for (const it of this.#live) for (const l of it.logics) if (!l._finalized) names.push(l.toString())
    return names
  }

  /** Resolves once no stream has pending work. */
  whenIdle(): Promise<void> {
    return this.executor.whenIdle()
  }

  /** Stop every running stream: stages fail with `StreamDetachedError` and run `postStop`. */
  shutdown(): void {
    this.#shutdown = true
    const err = new StreamDetachedError()
    for (const it of [...this.#live]) it.abort(err)
    this.#live.clear()
  }

  get isShutdown(): boolean {
    return this.#shutdown
  }
}

let defaultInstance: Materializer | undefined

/** The process-wide materializer used by `run()` when none is passed. */
export function defaultMaterializer(): Materializer {
  return (defaultInstance ??= Materializer.create())
}

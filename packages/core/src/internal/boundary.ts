/**
 * An async boundary between two islands. The upstream island ends in a {@link BoundaryOut}
 * stage, the downstream island starts with a {@link BoundaryIn} stage, and the two share a
 * bounded buffer. Demand crosses in batches: upstream may send as many elements as it holds
 * credit for; downstream returns credit after consuming half the buffer. One wake-up crosses the
 * boundary per batch, not per element.
 */
import { RingBuffer } from './RingBuffer.js'
import type { AsyncCallback } from '../stage/GraphStageLogic.js'
import { GraphStageLogic } from '../stage/GraphStageLogic.js'
import { GraphStage } from '../stage/GraphStage.js'
import { Inlet, Outlet, SinkShape, SourceShape } from '../stage/ports.js'

class Channel {
  readonly buffer: RingBuffer<unknown>
  done = false
  failed = false
  error: unknown = undefined
  wakeDownstream: AsyncCallback<void> | undefined
  grant: AsyncCallback<number> | undefined
  cancelUpstream: AsyncCallback<unknown> | undefined
  constructor(readonly size: number) {
    this.buffer = new RingBuffer(size)
  }
}

export class BoundaryOut extends GraphStage<SinkShape<unknown>> {
  readonly shape = new SinkShape(new Inlet<unknown>('AsyncBoundary.in'))
  constructor(readonly channel: Channel) {
    super()
  }
  createLogic(): GraphStageLogic {
    const ch = this.channel
    const inlet = this.shape.in
    return new (class extends GraphStageLogic {
      #credit = ch.size
      constructor(shape: SinkShape<unknown>) {
        super(shape)
        this.setHandler(inlet, this)
        ch.grant = this.getAsyncCallback((n: number) => {
          this.#credit += n
          this.tryPull(inlet)
        })
        ch.cancelUpstream = this.getAsyncCallback((cause: unknown) => this.cancelStage(cause))
      }
      override preStart(): void {
        this.pull(inlet)
      }
      onPush(): void {
        const wasEmpty = ch.buffer.isEmpty
        ch.buffer.push(this.grab(inlet))
        if (wasEmpty) ch.wakeDownstream!.invoke()
        if (--this.#credit > 0) this.pull(inlet)
      }
      onUpstreamFinish(): void {
        ch.done = true
        ch.wakeDownstream!.invoke()
        this.completeStage()
      }
      onUpstreamFailure(e: unknown): void {
        ch.done = true
        ch.failed = true
        ch.error = e
        ch.wakeDownstream!.invoke()
        this.failStage(e)
      }
    })(this.shape)
  }
}

export class BoundaryIn extends GraphStage<SourceShape<unknown>> {
  readonly shape = new SourceShape(new Outlet<unknown>('AsyncBoundary.out'))
  constructor(readonly channel: Channel) {
    super()
  }
  createLogic(): GraphStageLogic {
    const ch = this.channel
    const out = this.shape.out
    const batch = Math.max(1, ch.size >> 1)
    return new (class extends GraphStageLogic {
      #consumed = 0
      constructor(shape: SourceShape<unknown>) {
        super(shape)
        this.setHandler(out, this)
        ch.wakeDownstream = this.getAsyncCallback(() => {
          if (this.isAvailable(out)) this.onPull()
        })
      }
      onPull(): void {
        if (!ch.buffer.isEmpty) {
          this.push(out, ch.buffer.shift())
          if (++this.#consumed >= batch && !ch.done) {
            ch.grant!.invoke(this.#consumed)
            this.#consumed = 0
          }
        } else if (ch.done) {
          if (ch.failed) this.failStage(ch.error)
          else this.completeStage()
        }
      }
      onDownstreamFinish(cause: unknown): void {
        ch.cancelUpstream!.invoke(cause)
        this.cancelStage(cause)
      }
    })(this.shape)
  }
}

export function boundaryPair(size: number): [BoundaryOut, BoundaryIn] {
  const ch = new Channel(size)
  return [new BoundaryOut(ch), new BoundaryIn(ch)]
}

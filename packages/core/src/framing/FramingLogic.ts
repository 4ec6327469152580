/**
 * FramingLogic: what every byte-framing stage shares — queue each non-empty chunk (an empty one
 * is answered with a pull), and parse on every push and pull. At upstream completion the stream
 * completes when nothing is queued, else parses once more if downstream is waiting (otherwise the
 * next pull does). Subclasses implement `parse()`: emit the next complete frame, or pull for more
 * bytes, or end the stream.
 */
import { GraphStageLogic, type InHandler, type OutHandler } from '../stage/GraphStageLogic.js'
import type { FlowShape, Inlet, Outlet } from '../stage/ports.js'
import { ByteQueue } from './ByteQueue.js'

export abstract class FramingLogic extends GraphStageLogic implements InHandler, OutHandler {
  readonly in: Inlet<Uint8Array>
  readonly out: Outlet<Uint8Array>
  protected readonly queue = new ByteQueue()

  constructor(shape: FlowShape<Uint8Array, Uint8Array>) {
    super(shape)
    this.in = shape.in
    this.out = shape.out
    this.setHandlers(shape.in, shape.out, this)
  }

  /** Emit the next frame if one is complete; otherwise ask for more bytes (or end the stream). */
  protected abstract parse(): void

  onPush(): void {
    const chunk = this.grab(this.in)
    if (chunk.length === 0) this.pull(this.in)
    else {
      this.queue.append(chunk)
      this.parse()
    }
  }

  onUpstreamFinish(): void {
    if (this.queue.size === 0) this.completeStage()
    else if (this.isAvailable(this.out)) this.parse()
  }

  onPull(): void {
    this.parse()
  }
}

/**
 * DESIGN §1 C — a client that leaves while a streamed response (an SSE session, a long download)
 * is in flight. Behind a full proxy the server only gets a FIN; the response must be cancelled at
 * once — its source cancelled with a `ClientGone` cause that says how the client left — without
 * waiting for a heartbeat write to fail. An RST cancels it too, with 'client-rst'.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { FlowShape, GraphStage, GraphStageLogic, Inlet, Materializer, Outlet, Flow, Source } from '@weir/core'
import { FaultProxy, RawClient, assertAllStagesStopped } from '@weir/testkit'
import { ClientGone, Http, HttpResponse, type HttpServerBinding, type ServerSettingsInput } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A pass-through stage that reports when and why downstream cancelled it. */
class CancelWatchLogic<T> extends GraphStageLogic {
  constructor(
    readonly s: FlowShape<T, T>,
    readonly report: (cause: unknown) => void,
  ) {
    super(s)
    this.setHandlers(s.in, s.out, this)
  }
  onPush(): void {
    this.push(this.s.out, this.grab(this.s.in))
  }
  onPull(): void {
    this.pull(this.s.in)
  }
  onDownstreamFinish(cause: unknown): void {
    this.report(cause)
    this.cancelStage(cause)
  }
}
class CancelWatch<T> extends GraphStage<FlowShape<T, T>> {
  readonly shape = new FlowShape(new Inlet<T>('CancelWatch.in'), new Outlet<T>('CancelWatch.out'))
  constructor(readonly report: (cause: unknown) => void) {
    super()
  }
  createLogic(): GraphStageLogic {
    return new CancelWatchLogic(this.shape, this.report)
  }
}

interface Session {
  readonly cancelled: Promise<{ cause: unknown; at: number }>
}

async function streamingServer(settings: ServerSettingsInput = {}): Promise<{ binding: HttpServerBinding; sessions: Session[] }> {
  const mat = Materializer.create()
  const sessions: Session[] = []
  const binding = await Http.newServerAt('127.0.0.1', 0)
    .withSettings(settings)
    .withMaterializer(mat)
    .bind(() => {
      let report!: (v: { cause: unknown; at: number }) => void
      sessions.push({ cancelled: new Promise((r) => (report = r)) })
      // heartbeats far apart: a failed heartbeat write cannot be what ends the session
      const events = Source.tick(0, 60_000, Buffer.from('data: hello\n\n')).via(Flow.fromGraph(new CancelWatch((cause) => report({ cause, at: performance.now() }))))
      return HttpResponse.stream(events, { contentType: 'text/event-stream' })
    })
  cleanups.push(async () => {
    await binding.terminate('200ms')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return { binding, sessions }
}

describe('a client that leaves during a streamed response', () => {
  it('behind a proxy that forwards only a FIN: the response is cancelled within 100 ms, cause client-fin', async () => {
    const { binding, sessions } = await streamingServer()
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: binding.port }, mode: 'fin-only' })
    cleanups.push(() => proxy.stop())
    const c = await RawClient.connect(proxy.port)
    await c.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n')
    await c.readUntil('data: hello\n\n')
    const leftAt = performance.now()
    await c.destroy() // the browser tab closes; the proxy sends the server only a FIN
    const { cause, at } = await sessions[0]!.cancelled
    expect(cause).toBeInstanceOf(ClientGone)
    expect((cause as ClientGone).how).toBe('client-fin')
    expect(at - leftAt).toBeLessThan(100)
    expect(binding.counters().closesByReason['client-fin']).toBe(1)
  })

  it('on an RST (curl Ctrl-C): the response is cancelled, cause client-rst', async () => {
    const { binding, sessions } = await streamingServer()
    const c = await RawClient.connect(binding.port)
    await c.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n')
    await c.readUntil('data: hello\n\n')
    await c.reset()
    const { cause } = await sessions[0]!.cancelled
    expect((cause as ClientGone).how).toBe('client-rst')
  })

  it("with halfClosePolicy 'finish-response', a FIN does not cancel the response", async () => {
    const { binding, sessions } = await streamingServer({ halfClosePolicy: 'finish-response' })
    const c = await RawClient.connect(binding.port)
    cleanups.push(() => c.destroy())
    await c.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n')
    await c.readUntil('data: hello\n\n')
    await c.halfClose()
    const outcome = await Promise.race([sessions[0]!.cancelled.then(() => 'cancelled'), new Promise((r) => setTimeout(() => r('still streaming'), 200))])
    expect(outcome).toBe('still streaming')
    await c.destroy()
  })
})

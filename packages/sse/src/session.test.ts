import { describe, expect, it } from 'vitest'
import { NoMoreElementsNeeded, Source } from '@weir/core'
import { ClientGone, type ClientGoneReason } from '@weir/http'
import { TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import { SessionRegistry, SseSession, type CloseReason } from './session.js'
import { sseSession } from './sse.js'
import type { SseFrame } from './ServerSentEvent.js'

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')

/** An SSE session response over a probe source, its body run into a probe sink on virtual time. */
async function running(registry = new SessionRegistry()) {
  const time = new VirtualTime()
  const reasons: CloseReason[] = []
  let upstream!: SourceProbe<SseFrame>
  let session!: SseSession
  const response = sseSession(
    (s) => {
      session = s
      s.onClose((r) => reasons.push(r))
      return TestSource.probe<SseFrame>().mapMaterializedValue((p) => (upstream = p))
    },
    { registry, heartbeat: '10s' },
  )
  if (response.entity.kind !== 'streamed') throw new Error('expected a streamed entity')
  const downstream = response.entity.data.runWith(TestSink.probe<Uint8Array>(), time.materializer)
  await time.settle()
  return { time, reasons, upstream, downstream, session, registry }
}

async function stopped(time: VirtualTime): Promise<void> {
  await time.settle()
  expect(time.materializer.runningStages()).toEqual([])
}

describe('an SSE session', () => {
  it("ends with 'completed' when its events complete, and leaves the registry", async () => {
    const { time, reasons, upstream, downstream, session, registry } = await running()
    expect(registry.count).toBe(1)
    expect(registry.sessions()).toEqual([session])
    downstream.request(1)
    upstream.sendNext({ data: 'a' })
    expect(text(await downstream.expectNext())).toBe('data: a\n\n')
    upstream.sendComplete()
    await downstream.expectComplete()
    expect(reasons).toEqual(['completed'])
    expect(session.closeReason).toBe('completed')
    expect(registry.count).toBe(0)
    await stopped(time)
  })

  it("ends with 'failed' when its events fail", async () => {
    const { time, reasons, upstream, downstream, registry } = await running()
    upstream.sendError(new Error('boom'))
    await downstream.expectError()
    expect(reasons).toEqual(['failed'])
    expect(registry.count).toBe(0)
    await stopped(time)
  })

  it("ends with 'failed' when an event cannot be encoded", async () => {
    const { time, reasons, upstream, downstream } = await running()
    downstream.request(1)
    upstream.sendNext({ data: 'x', id: 'a\nb' })
    expect(await downstream.expectError()).toMatchObject({ code: 'WEIR_SSE_ENCODING' })
    expect(reasons).toEqual(['failed'])
    await stopped(time)
  })

  it.each([
    ['client-fin', 'client-fin'],
    ['client-rst', 'client-rst'],
    ['write-error', 'write-error'],
    ['idle-timeout', 'idle'],
    ['shutdown', 'shutdown'],
  ] as const)('ends with the ClientGone reason %s as %s, and cancels the events with that cause', async (how: ClientGoneReason, reason: CloseReason) => {
    const { time, reasons, upstream, downstream, registry } = await running()
    downstream.cancel(new ClientGone(how))
    const cause = await upstream.expectCancellation()
    expect(cause).toBeInstanceOf(ClientGone)
    expect(reasons).toEqual([reason])
    expect(registry.count).toBe(0)
    await stopped(time)
  })

  it("ends with 'completed' on another non-failure cancellation and 'failed' on a failure cause", async () => {
    const a = await running()
    a.downstream.cancel(NoMoreElementsNeeded)
    await a.upstream.expectCancellation()
    expect(a.reasons).toEqual(['completed'])
    await stopped(a.time)
    const b = await running()
    b.downstream.cancel(new Error('gone'))
    await b.upstream.expectCancellation()
    expect(b.reasons).toEqual(['failed'])
    await stopped(b.time)
  })

  it("ends with 'shutdown' when the materializer shuts down", async () => {
    const { time, reasons, registry } = await running()
    time.materializer.shutdown()
    await time.settle()
    expect(reasons).toEqual(['shutdown'])
    expect(registry.count).toBe(0)
  })

  it('runs each cleanup exactly once, also when registered after the end, despite a throwing one', () => {
    const s = new SseSession('s')
    const seen: string[] = []
    const boom = new Error('cleanup failed')
    s.onClose((r) => seen.push(`a:${r}`))
    s.onClose(() => {
      throw boom
    })
    s.onClose((r) => seen.push(`b:${r}`))
    s.close('client-fin')
    s.close('completed')
    s.onClose((r) => seen.push(`late:${r}`))
    expect(seen).toEqual(['a:client-fin', 'b:client-fin', 'late:client-fin'])
    expect(s.closeErrors).toEqual([boom])
    expect(s.isOpen).toBe(false)
  })

  it('gives sessions distinct ids and lists open ones in order', () => {
    const registry = new SessionRegistry()
    const a = registry.open()
    const b = registry.open()
    expect(a.id).not.toBe(b.id)
    expect(registry.sessions()).toEqual([a, b])
    a.close('completed')
    expect(registry.sessions()).toEqual([b])
    expect(registry.count).toBe(1)
    // leaving from the middle and the end keeps the others in order
    const c = registry.open()
    const d = registry.open()
    c.close('client-fin')
    expect(registry.sessions()).toEqual([b, d])
    const e = registry.open()
    e.close('client-rst')
    expect(registry.sessions()).toEqual([b, d])
    const f = registry.open()
    expect(registry.sessions()).toEqual([b, d, f])
    expect(registry.count).toBe(3)
  })

  it('keeps two open sessions with the same id apart: each is listed and leaves on its own', () => {
    const registry = new SessionRegistry()
    const a = registry.open('client-7')
    const b = registry.open('client-7')
    expect(registry.count).toBe(2)
    b.close('client-fin')
    const open = registry.sessions()
    expect(open).toHaveLength(1)
    expect(open[0]).toBe(a)
    a.close('client-fin')
    expect(registry.count).toBe(0)
  })

  it('closes the session as failed when build throws', () => {
    const registry = new SessionRegistry()
    const boom = new Error('no')
    expect(() =>
      sseSession(() => {
        throw boom
      }, { registry }),
    ).toThrow(boom)
    expect(registry.count).toBe(0)
  })

  it('rejects bad options before opening a session', () => {
    const registry = new SessionRegistry()
    expect(() => sseSession(() => Source.empty(), { registry, retry: -5 })).toThrow(expect.objectContaining({ code: 'WEIR_SSE_ENCODING', field: 'retry' }))
    expect(() => sseSession(() => Source.empty(), { registry, heartbeat: 0 })).toThrow(expect.objectContaining({ code: 'WEIR_CORE_INVALID_ARGUMENT' }))
    expect(registry.count).toBe(0)
  })
})

import { describe, expect, it } from 'vitest'
import { Sink, Source } from '@weir/core'
import { Headers } from '@weir/http'
import { TestSink, TestSource, VirtualTime, type SourceProbe } from '@weir/testkit'
import { sse } from './sse.js'
import { HEARTBEAT, type SseFrame } from './ServerSentEvent.js'

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')

describe('sse()', () => {
  it('answers text/event-stream, no-cache, no proxy buffering, plus extra headers', () => {
    const r = sse(Source.empty(), { headers: Headers.from([['X-Topic', 'news']]) })
    expect(r.status).toBe(200)
    expect(r.entity.kind).toBe('streamed')
    expect(r.entity.contentType).toBe('text/event-stream')
    expect(r.headers.get('cache-control')).toBe('no-cache')
    expect(r.headers.get('x-accel-buffering')).toBe('no')
    expect(r.headers.get('x-topic')).toBe('news')
  })

  it('streams the encoded events, opened by the retry field when given', async () => {
    const time = new VirtualTime()
    const r = sse(Source.from<SseFrame>([{ data: 'a' }, { data: 'b', event: 'x', id: '1' }]), { retry: 2500 })
    if (r.entity.kind !== 'streamed') throw new Error('expected a streamed entity')
    const chunks = await r.entity.data.runWith(Sink.seq(), time.materializer)
    expect(chunks.map(text).join('')).toBe('retry: 2500\n\ndata: a\n\nevent: x\nid: 1\ndata: b\n\n')
    await time.settle()
    expect(time.materializer.runningStages()).toEqual([])
  })

  it('writes a heartbeat comment only after the client waited the heartbeat interval for an event', async () => {
    const time = new VirtualTime()
    let upstream!: SourceProbe<SseFrame>
    const r = sse(TestSource.probe<SseFrame>().mapMaterializedValue((p) => (upstream = p)), { heartbeat: '10s' })
    if (r.entity.kind !== 'streamed') throw new Error('expected a streamed entity')
    const down = r.entity.data.runWith(TestSink.probe<Uint8Array>(), time.materializer)
    down.request(10)
    // busy: an event every 6 s never leaves the client waiting 10 s
    for (let i = 0; i < 3; i++) {
      await time.advance(6000)
      upstream.sendNext({ data: String(i) })
      expect(text(await down.expectNext())).toBe(`data: ${i}\n\n`)
    }
    await time.advance(9999)
    await down.expectNoMessage()
    await time.advance(1)
    expect(text(await down.expectNext())).toBe(': \n\n')
    await time.advance(10_000)
    expect(text(await down.expectNext())).toBe(': \n\n')
    upstream.sendNext(HEARTBEAT)
    upstream.sendComplete()
    expect(text(await down.expectNext())).toBe(': \n\n')
    await down.expectComplete()
    await time.settle()
    expect(time.materializer.runningStages()).toEqual([])
  })
})

/**
 * Topics on a real socket: two SSE clients subscribed to one topic both receive a published
 * event, and a client that leaves (RST) leaves the topic.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Materializer } from '@weir/core'
import { Http } from '@weir/http'
import { RawClient, assertAllStagesStopped } from '@weir/testkit'
import { Topic, sseSession, type ServerSentEvent } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const REQUEST = 'GET /prices HTTP/1.1\r\nHost: x\r\n\r\n'

interface Price {
  readonly id: string
  readonly price: number
}

const toEvent = (p: Price): ServerSentEvent => ({ id: p.id, data: String(p.price) })

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port)
  cleanups.push(() => c.destroy())
  return c
}

describe('a topic behind an SSE endpoint', () => {
  it('delivers a published event to every client, and a client that leaves leaves the topic', async () => {
    const mat = Materializer.create()
    cleanups.push(() => mat.shutdown())
    const prices = Topic.local<Price>({ bufferSize: 16, replay: 10 })
    const binding = await Http.newServerAt('127.0.0.1', 0)
      .withMaterializer(mat)
      .bind(() => sseSession((s) => prices.subscribe(s).map(toEvent)))
    cleanups.push(async () => {
      prices.close()
      await binding.terminate('200ms')
      await assertAllStagesStopped(mat, { timeoutMs: 5000 })
      expect(prices.subscriberCount).toBe(0)
    })

    const a = await connect(binding.port)
    const b = await connect(binding.port)
    await a.write(REQUEST)
    await b.write(REQUEST)
    await a.readUntil('\r\n\r\n')
    await b.readUntil('\r\n\r\n')
    await expect.poll(() => prices.subscriberCount).toBe(2)

    expect(prices.publish({ id: '1', price: 42 })).toBe('published')
    for (const c of [a, b]) expect((await c.readUntil('\n\n\r\n')).toString('latin1')).toBe('10\r\nid: 1\ndata: 42\n\n\r\n')

    await a.reset()
    await expect.poll(() => prices.subscriberCount).toBe(1)
    prices.publish({ id: '2', price: 43 })
    expect((await b.readUntil('\n\n\r\n')).toString('latin1')).toBe('10\r\nid: 2\ndata: 43\n\n\r\n')
  })
})

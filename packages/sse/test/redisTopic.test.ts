/**
 * Redis-bridged topics against a real, private redis-server: ids from the stream, fan-out across
 * topic instances, replay from a Last-Event-ID joined to the live feed without gap or duplicate,
 * the bounded log, codec errors, a dropped link and a broker restart, and a clean shutdown.
 */
import type { Channel } from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as t from 'io-ts'
import { createClient } from '@redis/client'
import { Materializer, type Source } from '@weir/core'
import { FaultProxy, activeResources, assertAllStagesStopped } from '@weir/testkit'
import { RedisBrokerError, RedisTopic, SseSession, TopicClosedError, TopicCodec, TopicCodecError, redisChannels, type RedisTopicOptions, type TopicEvent } from '../src/index.js'
import { RedisServer } from './redisServer.js'

let server: RedisServer
let admin: ReturnType<typeof createClient>
beforeAll(async () => {
  server = await RedisServer.start()
  admin = createClient({ url: server.url })
  admin.on('error', () => undefined)
  await admin.connect()
}, 180_000)
afterAll(async () => {
  if (admin?.isOpen) admin.destroy()
  await server?.dispose()
})

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

let topicNo = 0
/** A fresh topic name per test, so tests never see each other's logs. */
const fresh = (): string => `t${++topicNo}-${process.pid}`

function materializer(): Materializer {
  const mat = Materializer.create()
  cleanups.push(async () => {
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    await mat.shutdown()
  })
  return mat
}

async function topic<T>(options: Omit<RedisTopicOptions<T>, 'url'> & { url?: string }): Promise<RedisTopic<T>> {
  const tp = await RedisTopic.connect<T>({ url: server.url, ...options })
  cleanups.push(() => tp.close())
  return tp
}

interface Collected<E> {
  readonly got: E[]
  readonly done: Promise<void>
}

function collect<E>(source: Source<E, unknown>, mat?: Materializer): Collected<E> {
  const got: E[] = []
  const done = source.runForeach((x) => void got.push(x), mat)
  done.catch(() => undefined)
  return { got, done }
}

const values = <T>(events: readonly TopicEvent<T>[]): T[] => events.map((e) => e.value)

async function logIds(name: string): Promise<string[]> {
  const entries = await admin.xRange(`weir:sse:${name}:log`, '-', '+')
  return (entries ?? []).map((e) => e.id)
}

/** Records what is published on a diagnostics channel while the test runs. */
function record<M>(channel: Channel): M[] {
  const seen: M[] = []
  const listener = (m: unknown): void => void seen.push(m as M)
  channel.subscribe(listener)
  cleanups.push(() => void channel.unsubscribe(listener))
  return seen
}

describe('RedisTopic: publishing and live delivery', () => {
  it('gives each event its stream id and delivers it, in order, to the subscribers of every instance', async () => {
    const name = fresh()
    const a = await topic<number>({ name })
    const b = await topic<number>({ name })
    const onA = collect(a.subscribe())
    const onB = collect(b.subscribe())
    await expect.poll(() => a.subscriberCount + b.subscriberCount).toBe(2)

    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push(await (i % 2 === 0 ? a : b).publish(i))

    await expect.poll(() => onA.got.length).toBe(20)
    await expect.poll(() => onB.got.length).toBe(20)
    const expected = ids.map((id, i) => ({ id, value: i }))
    expect(onA.got).toEqual(expected)
    expect(onB.got).toEqual(expected)
    expect(await logIds(name)).toEqual(ids)
  })

  it('rejects a value the codec cannot encode with TopicCodecError, before anything reaches the broker', async () => {
    const name = fresh()
    const a = await topic<unknown>({ name })
    await expect(a.publish(10n)).rejects.toMatchObject({ code: 'WEIR_SSE_TOPIC_CODEC', direction: 'encode' })
    await expect(a.publish(undefined)).rejects.toBeInstanceOf(TopicCodecError)
    expect(await logIds(name)).toEqual([])
  })

  it('skips a message that does not decode (reported on weir:sse:redis:skipped) and delivers the next ones', async () => {
    const name = fresh()
    const skipped = record<{ topic: string; id: string; reason: string; error: TopicCodecError }>(redisChannels.skipped)
    const Price = t.type({ symbol: t.string, price: t.number })
    const typed = await topic<t.TypeOf<typeof Price>>({ name, codec: TopicCodec.fromType(Price) })
    const untyped = await topic<unknown>({ name })
    const live = collect(typed.subscribe())
    await expect.poll(() => typed.subscriberCount).toBe(1)

    const bad = await untyped.publish({ symbol: 'ACME', price: 'twelve' })
    const good = await untyped.publish({ symbol: 'ACME', price: 12 })
    await expect.poll(() => live.got.length).toBe(1)
    expect(live.got).toEqual([{ id: good, value: { symbol: 'ACME', price: 12 } }])
    expect(skipped).toHaveLength(1)
    expect(skipped[0]).toMatchObject({ topic: name, id: bad, reason: 'codec' })
    expect(skipped[0]!.error).toMatchObject({ code: 'WEIR_SSE_TOPIC_CODEC', direction: 'decode', id: bad })
    expect(skipped[0]!.error.problems.join()).toContain('price')

    // the replay skips it too
    const replayed = collect(typed.subscribeFrom('0-0').take(1))
    await replayed.done
    expect(replayed.got).toEqual([{ id: good, value: { symbol: 'ACME', price: 12 } }])
  })
})

describe('RedisTopic: in-process fan-out', () => {
  it('ends a subscription when its session closes', async () => {
    const a = await topic<number>({ name: fresh() })
    const session = new SseSession()
    const live = collect(a.subscribe(session))
    const resumed = collect(a.subscribeFrom('0-0', (e) => e.id, session))
    await expect.poll(() => a.subscriberCount).toBe(2)
    session.close('client-fin')
    await live.done
    await resumed.done
    expect(a.subscriberCount).toBe(0)
  })

})

describe('RedisTopic: replay from Last-Event-ID', () => {
  it('replays exactly the events after the given id, from any instance, then live ones', async () => {
    const name = fresh()
    const a = await topic<number>({ name })
    const ids: string[] = []
    for (let i = 0; i < 10; i++) ids.push(await a.publish(i))

    const b = await topic<number>({ name }) // joined after the events were published
    const resumed = collect(b.subscribeFrom(ids[3]!, (e) => e.id))
    await expect.poll(() => resumed.got.length).toBe(6)
    expect(resumed.got).toEqual(ids.slice(4).map((id, k) => ({ id, value: k + 4 })))
    await expect.poll(() => b.subscriberCount).toBe(1)
    const next = await a.publish(10)
    await expect.poll(() => resumed.got.length).toBe(7)
    expect(resumed.got[6]).toEqual({ id: next, value: 10 })
  })

  it('replays the whole log for an id that is not a stream id, and nothing for the newest id', async () => {
    const name = fresh()
    const a = await topic<string>({ name })
    const first = await a.publish('x')
    const last = await a.publish('y')
    const all = collect(a.subscribeFrom('not-an-id').take(2))
    await all.done
    expect(all.got).toEqual([
      { id: first, value: 'x' },
      { id: last, value: 'y' },
    ])
    const none = collect(a.subscribeFrom(last))
    await expect.poll(() => a.subscriberCount).toBe(1)
    expect(none.got).toEqual([])
  })

  it('joins the replay to the live feed without gap or duplicate while another instance publishes', async () => {
    const name = fresh()
    const publisher = await topic<number>({ name })
    const reader = await topic<number>({ name, bufferSize: 1024 })
    const N = 600
    const ids: string[] = []
    let resumed: Collected<TopicEvent<number>> | undefined
    // publish without pause; subscribe from event 99 halfway, and from event 0 a little later
    let early: Collected<TopicEvent<number>> | undefined
    for (let i = 0; i < N; i++) {
      ids.push(await publisher.publish(i))
      if (i === 300) resumed = collect(reader.subscribeFrom(ids[99]!))
      if (i === 310) early = collect(reader.subscribeFrom(ids[0]!))
    }
    await expect.poll(() => resumed!.got.length, { timeout: 10_000 }).toBe(N - 100)
    await expect.poll(() => early!.got.length, { timeout: 10_000 }).toBe(N - 1)
    expect(values(resumed!.got)).toEqual(Array.from({ length: N - 100 }, (_, k) => k + 100))
    expect(values(early!.got)).toEqual(Array.from({ length: N - 1 }, (_, k) => k + 1))
    expect(resumed!.got.map((e) => e.id)).toEqual(ids.slice(100))
  })

  it('keeps a bounded log: at least `replay` events, trimmed by whole nodes; an older id replays what is left', async () => {
    const name = fresh()
    const a = await topic<number>({ name, replay: 10 })
    const ids: string[] = []
    for (let i = 0; i < 500; i++) ids.push(await a.publish(i))
    const kept = await logIds(name)
    expect(kept.length).toBeGreaterThanOrEqual(10)
    expect(kept.length).toBeLessThanOrEqual(10 + 100) // stream-node-max-entries (default 100)
    expect(kept).toEqual(ids.slice(500 - kept.length))

    const resumed = collect(a.subscribeFrom(ids[0]!).take(kept.length))
    await resumed.done
    expect(values(resumed.got)).toEqual(Array.from({ length: kept.length }, (_, k) => 500 - kept.length + k))
  })
})

describe('RedisTopic: broker failures', () => {
  it('rejects connect with RedisBrokerError when no broker listens, leaving no handle open', async () => {
    const dead = await RedisServer.start()
    const port = dead.port
    await dead.dispose()
    const before = activeResources().length
    const attempt = RedisTopic.connect<number>({ name: fresh(), url: `redis://127.0.0.1:${port}` })
    await expect(attempt).rejects.toMatchObject({ code: 'WEIR_SSE_REDIS_BROKER', operation: 'connect' })
    await expect.poll(() => activeResources().length).toBeLessThanOrEqual(before)
  })

  it('when the link drops: subscribers stay, publishing rejects, and on reconnection the missed events arrive in order before live ones', async () => {
    const name = fresh()
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server.port } })
    cleanups.push(() => proxy.stop())
    const cut = await topic<number>({ name, url: `redis://127.0.0.1:${proxy.port}`, client: { socket: { reconnectStrategy: () => 50 } } })
    const direct = await topic<number>({ name })
    const broker = record<{ topic: string; state: string; caughtUp?: number; error?: unknown }>(redisChannels.broker)
    const live = collect(cut.subscribe())
    await expect.poll(() => cut.subscriberCount).toBe(1)
    const first = await direct.publish(0)
    await expect.poll(() => live.got.length).toBe(1)

    proxy.setMode('rst')
    await expect.poll(() => broker.filter((m) => m.topic === name && m.state === 'down').length).toBe(1)
    await expect(cut.publish(-1)).rejects.toMatchObject({ code: 'WEIR_SSE_REDIS_BROKER', operation: 'publish' })
    const missed = [await direct.publish(1), await direct.publish(2), await direct.publish(3)]
    expect(cut.subscriberCount).toBe(1)
    expect(live.got).toHaveLength(1)

    proxy.setMode('pass')
    await expect.poll(() => broker.filter((m) => m.topic === name && m.state === 'up').length, { timeout: 10_000 }).toBe(1)
    expect(broker.find((m) => m.topic === name && m.state === 'up')).toMatchObject({ caughtUp: 3 })
    const after = await cut.publish(4)
    await expect.poll(() => live.got.length).toBe(5)
    expect(live.got).toEqual([first, ...missed, after].map((id, i) => ({ id, value: i })))
  })

  it('survives a broker restart: publishing rejects while it is down, a replay fails with RedisBrokerError, and live delivery resumes', async () => {
    const own = await RedisServer.start()
    cleanups.push(() => own.dispose())
    const name = fresh()
    const options = { name, url: own.url, client: { socket: { reconnectStrategy: () => 50 } } }
    const a = await topic<number>(options)
    const b = await topic<number>(options)
    const live = collect(b.subscribe())
    await expect.poll(() => b.subscriberCount).toBe(1)
    await a.publish(1)
    await expect.poll(() => live.got.length).toBe(1)

    const broker = record<{ topic: string; state: string }>(redisChannels.broker)
    await own.stop()
    await expect.poll(() => broker.filter((m) => m.topic === name && m.state === 'down').length).toBe(2)
    const failure = await a.publish(2).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(RedisBrokerError)
    expect(failure).toMatchObject({ operation: 'publish', topic: name })
    const replay = collect(b.subscribeFrom('0-0'))
    await expect(replay.done).rejects.toMatchObject({ code: 'WEIR_SSE_REDIS_BROKER', operation: 'replay' })
    expect(b.subscriberCount).toBe(1)

    await own.restart()
    await expect.poll(() => broker.filter((m) => m.topic === name && m.state === 'up').length, { timeout: 10_000 }).toBe(2)
    const id = await a.publish(3)
    await expect.poll(() => live.got.length).toBe(2)
    expect(live.got[1]).toEqual({ id, value: 3 })
  })
})

describe('RedisTopic: shutdown', () => {
  it('close() completes every subscription, closes its connections and refuses later publishes', async () => {
    const mat = materializer()
    const name = fresh()
    const before = activeResources().filter((r) => r === 'TCPSocketWrap').length
    const a = await RedisTopic.connect<number>({ name, url: server.url })
    expect(activeResources().filter((r) => r === 'TCPSocketWrap').length).toBe(before + 2)
    const live = collect(a.subscribe(), mat)
    const resumed = collect(a.subscribeFrom('0-0'), mat)
    await expect.poll(() => a.subscriberCount).toBe(2)
    await a.publish(1)
    await expect.poll(() => live.got.length + resumed.got.length).toBe(2)

    await a.close()
    await live.done
    await resumed.done
    expect(a.isClosed).toBe(true)
    expect(a.subscriberCount).toBe(0)
    await expect(a.publish(2)).rejects.toBeInstanceOf(TopicClosedError)
    await expect(a.publish(2)).rejects.toMatchObject({ code: 'WEIR_SSE_TOPIC_CLOSED', topic: name })
    await expect.poll(() => activeResources().filter((r) => r === 'TCPSocketWrap').length).toBe(before)
    await a.close() // idempotent
  })
})

import { describe, expect, it, onTestFinished } from 'vitest'
import { InvalidArgumentError } from '@weir/core'
import { TestSink, VirtualTime, assertAllStagesStopped, type SinkProbe } from '@weir/testkit'
import { SseSession } from './session.js'
import { SlowConsumerError, Topic, topicChannels, type LocalTopic, type TopicElementsDropped, type TopicOptions } from './topic.js'

function topicOn(options: TopicOptions = {}): { time: VirtualTime; topic: LocalTopic<number> } {
  const time = new VirtualTime()
  return { time, topic: Topic.local<number>(options) }
}

function subscriber(time: VirtualTime, topic: LocalTopic<number>, session?: SseSession): SinkProbe<number> {
  return topic.subscribe(session).runWith(TestSink.probe<number>(), time.materializer)
}

function replaying(time: VirtualTime, topic: LocalTopic<number>, lastEventId: string): SinkProbe<number> {
  return topic.subscribeFrom(lastEventId, String).runWith(TestSink.probe<number>(), time.materializer)
}

function publishAll(topic: LocalTopic<number>, from: number, to: number): void {
  for (let i = from; i <= to; i++) expect(topic.publish(i)).toBe('published')
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function closeAndCheck(time: VirtualTime, topic: LocalTopic<number>): Promise<void> {
  topic.close()
  await assertAllStagesStopped(time.materializer)
  expect(topic.subscriberCount).toBe(0)
}

describe('a local topic', () => {
  it('fans every published element out to each of its subscribers, in order', async () => {
    const { time, topic } = topicOn()
    const subs = [subscriber(time, topic), subscriber(time, topic), subscriber(time, topic)]
    await time.settle()
    expect(topic.subscriberCount).toBe(3)
    publishAll(topic, 1, 5)
    for (const s of subs) {
      s.request(5)
      expect(await s.expectNextN(5)).toEqual(range(1, 5))
    }
    await closeAndCheck(time, topic)
    for (const s of subs) await s.expectComplete()
  })

  it('does not let a slow subscriber stall a fast one: drop-oldest keeps the slow one newest elements', async () => {
    const drops: TopicElementsDropped[] = []
    const onDrop = (m: unknown): void => void drops.push(m as TopicElementsDropped)
    topicChannels.dropped.subscribe(onDrop)
    onTestFinished(() => void topicChannels.dropped.unsubscribe(onDrop))
    const { time, topic } = topicOn({ bufferSize: 4, slowConsumer: 'drop-oldest' })
    const fast = subscriber(time, topic)
    const slow = subscriber(time, topic)
    await time.settle()
    fast.request(100)
    publishAll(topic, 1, 20)
    await time.settle()
    publishAll(topic, 21, 40)
    expect(await fast.expectNextN(40)).toEqual(range(1, 40))
    slow.request(10)
    expect(await slow.expectNextN(4)).toEqual(range(37, 40))
    await slow.expectNoMessage()
    // what it lost is reported: 36 of 40, each drop with the policy and the buffer it overflowed
    expect(drops.reduce((n, d) => n + d.dropped, 0)).toBe(36)
    expect(drops.every((d) => d.policy === 'drop-oldest' && d.limit === 4)).toBe(true)
    await closeAndCheck(time, topic)
    await slow.expectComplete()
  })

  it('with drop-newest, a full subscriber keeps what it has and misses the newer elements', async () => {
    const { time, topic } = topicOn({ bufferSize: 4, slowConsumer: 'drop-newest' })
    const fast = subscriber(time, topic)
    const slow = subscriber(time, topic)
    await time.settle()
    fast.request(100)
    publishAll(topic, 1, 20)
    expect(await fast.expectNextN(20)).toEqual(range(1, 20))
    slow.request(10)
    expect(await slow.expectNextN(4)).toEqual(range(1, 4))
    publishAll(topic, 21, 21)
    expect(await slow.expectNext()).toBe(21)
    await closeAndCheck(time, topic)
  })

  it('with disconnect, fails the slow subscriber with SlowConsumerError and keeps serving the others', async () => {
    const { time, topic } = topicOn({ bufferSize: 4, slowConsumer: 'disconnect' })
    const fast = subscriber(time, topic)
    const slow = subscriber(time, topic)
    await time.settle()
    fast.request(100)
    publishAll(topic, 1, 10)
    const error = await slow.expectError()
    expect(error).toBeInstanceOf(SlowConsumerError)
    expect(error).toMatchObject({ code: 'WEIR_SSE_SLOW_CONSUMER', bufferSize: 4 })
    expect(await fast.expectNextN(10)).toEqual(range(1, 10))
    await time.settle()
    expect(topic.subscriberCount).toBe(1)
    await closeAndCheck(time, topic)
  })

  it('counts running subscriptions, and a cancelling subscriber leaves the count', async () => {
    const { time, topic } = topicOn()
    const a = subscriber(time, topic)
    const b = subscriber(time, topic)
    await time.settle()
    expect(topic.subscriberCount).toBe(2)
    a.cancel()
    await time.settle()
    expect(topic.subscriberCount).toBe(1)
    b.cancel()
    await time.settle()
    expect(topic.subscriberCount).toBe(0)
    expect(topic.publish(1)).toBe('published') // the topic flows on without subscribers
    await closeAndCheck(time, topic)
  })

  it('keeps serving every subscriber that stays, whichever ones leave (the oldest, one in the middle, the newest)', async () => {
    const { time, topic } = topicOn()
    const subs = Array.from({ length: 5 }, () => subscriber(time, topic))
    await time.settle()
    subs[0]!.cancel()
    subs[2]!.cancel()
    await time.settle()
    expect(topic.subscriberCount).toBe(3)
    publishAll(topic, 1, 3)
    subs[4]!.request(3)
    expect(await subs[4]!.expectNextN(3)).toEqual(range(1, 3))
    subs[4]!.cancel()
    await time.settle()
    expect(topic.subscriberCount).toBe(2)
    publishAll(topic, 4, 6)
    for (const s of [subs[1]!, subs[3]!]) {
      s.request(6)
      expect(await s.expectNextN(6)).toEqual(range(1, 6))
    }
    subs[3]!.cancel()
    await time.settle()
    expect(topic.subscriberCount).toBe(1)
    await closeAndCheck(time, topic)
    await subs[1]!.expectComplete()
  })

  it('completes a subscription when its session closes', async () => {
    const { time, topic } = topicOn()
    const session = new SseSession()
    const s = subscriber(time, topic, session)
    await time.settle()
    expect(topic.subscriberCount).toBe(1)
    session.close('client-fin')
    await s.expectComplete()
    await time.settle()
    expect(topic.subscriberCount).toBe(0)
    await closeAndCheck(time, topic)
  })

  it('sees only the elements published after it started', async () => {
    const { time, topic } = topicOn()
    publishAll(topic, 1, 3)
    await time.settle()
    const s = subscriber(time, topic)
    await time.settle()
    publishAll(topic, 4, 5)
    s.request(10)
    expect(await s.expectNextN(2)).toEqual([4, 5])
    await s.expectNoMessage()
    await closeAndCheck(time, topic)
  })

  it('replays the elements after a known id, then live ones, with no gap or duplicate at the seam', async () => {
    const { time, topic } = topicOn({ replay: 100 })
    publishAll(topic, 1, 5)
    await time.settle()
    const s = replaying(time, topic, '2')
    publishAll(topic, 6, 6) // before the subscription joined the hub
    await time.settle()
    s.request(2)
    expect(await s.expectNextN(2)).toEqual([3, 4])
    publishAll(topic, 7, 7) // while it replays
    await time.settle()
    s.request(10)
    expect(await s.expectNextN(3)).toEqual([5, 6, 7])
    await s.expectNoMessage()
    publishAll(topic, 8, 9)
    expect(await s.expectNextN(2)).toEqual([8, 9])
    await s.expectNoMessage()
    await closeAndCheck(time, topic)
    await s.expectComplete()
  })

  it('does not repeat an element that it replays from the log and then receives live', async () => {
    const { time, topic } = topicOn({ replay: 10 })
    publishAll(topic, 1, 3)
    const s = replaying(time, topic, '3')
    await time.settle()
    publishAll(topic, 4, 5) // logged at once, still on its way through the hub
    s.request(10)
    await time.settle()
    expect(await s.expectNextN(2)).toEqual([4, 5])
    await s.expectNoMessage()
    publishAll(topic, 6, 6)
    expect(await s.expectNext()).toBe(6)
    await closeAndCheck(time, topic)
  })

  it('replays the whole log for an unknown id, and only the newest `replay` elements are logged', async () => {
    const { time, topic } = topicOn({ replay: 3 })
    publishAll(topic, 1, 5)
    await time.settle()
    const s = replaying(time, topic, 'unknown')
    s.request(10)
    expect(await s.expectNextN(3)).toEqual([3, 4, 5])
    publishAll(topic, 6, 6)
    expect(await s.expectNext()).toBe(6)
    await s.expectNoMessage()
    await closeAndCheck(time, topic)
  })

  it('replays nothing after the newest id, then goes live', async () => {
    const { time, topic } = topicOn({ replay: 10 })
    publishAll(topic, 1, 3)
    const s = replaying(time, topic, '3')
    s.request(10)
    await s.expectNoMessage()
    publishAll(topic, 4, 4)
    expect(await s.expectNext()).toBe(4)
    await closeAndCheck(time, topic)
  })

  it('skips what the log evicted while a subscriber replayed slowly (drop-oldest), or disconnects it', async () => {
    for (const slowConsumer of ['drop-oldest', 'disconnect'] as const) {
      const { time, topic } = topicOn({ replay: 3, bufferSize: 4, slowConsumer })
      publishAll(topic, 1, 3)
      const r = replaying(time, topic, 'unknown')
      await time.settle()
      publishAll(topic, 4, 8) // 1 … 5 leave the log before the subscriber reads them
      await time.settle()
      r.request(10)
      if (slowConsumer === 'drop-oldest') expect(await r.expectNextN(3)).toEqual([6, 7, 8])
      else expect(await r.expectError()).toMatchObject({ code: 'WEIR_SSE_SLOW_CONSUMER', bufferSize: 3 })
      await closeAndCheck(time, topic)
    }
  })

  it('completes every subscriber on close, after what it has not read, and refuses later publishes', async () => {
    const { time, topic } = topicOn({ replay: 10 })
    const live = subscriber(time, topic)
    await time.settle()
    publishAll(topic, 1, 3)
    const replay = replaying(time, topic, '1')
    await time.settle()
    topic.close()
    expect(topic.publish(4)).toBe('closed')
    live.request(10)
    expect(await live.expectNextN(3)).toEqual([1, 2, 3])
    await live.expectComplete()
    replay.request(10)
    expect(await replay.expectNextN(2)).toEqual([2, 3])
    await replay.expectComplete()
    const late = subscriber(time, topic)
    await late.expectComplete()
    await closeAndCheck(time, topic)
  })

  it('runs a view\'s function once per published element for all its subscribers, and replays through it', async () => {
    const { time, topic } = topicOn({ replay: 10 })
    let calls = 0
    const labels = topic.map((n) => {
      calls++
      return `#${n}`
    })
    const subs = [0, 1, 2].map(() => labels.subscribe().runWith(TestSink.probe<string>(), time.materializer))
    await time.settle()
    expect(labels.subscriberCount).toBe(3)
    for (const n of [1, 2, 3]) expect(topic.publish(n)).toBe('published')
    for (const s of subs) {
      s.request(3)
      expect(await s.expectNextN(3)).toEqual(['#1', '#2', '#3'])
    }
    expect(calls).toBe(3)
    // a view of a view, and a replay after a mapped id
    const late = labels
      .map((l) => l.toUpperCase())
      .subscribeFrom('#1', (l) => l.toLowerCase())
      .runWith(TestSink.probe<string>(), time.materializer)
    late.request(3)
    expect(await late.expectNextN(2)).toEqual(['#2', '#3'])
    topic.close()
    for (const s of subs) await s.expectComplete()
    await late.expectComplete()
    await closeAndCheck(time, topic)
  })

  it('fails only the subscription that took an element its view could not map', async () => {
    const { time, topic } = topicOn()
    const view = topic.map((n) => {
      if (n === 2) throw new Error('no two')
      return n * 10
    })
    const a = view.subscribe().runWith(TestSink.probe<number>(), time.materializer)
    const plain = subscriber(time, topic)
    await time.settle()
    publishAll(topic, 1, 3)
    a.request(5)
    expect(await a.expectNext()).toBe(10)
    expect((await a.expectError()) as Error).toMatchObject({ message: 'no two' })
    plain.request(5)
    expect(await plain.expectNextN(3)).toEqual([1, 2, 3])
    await closeAndCheck(time, topic)
  })

  it('wakes a waiting subscriber on publish, and hands a busy one what piled up, in order', async () => {
    const { time, topic } = topicOn({ bufferSize: 8 })
    const s = subscriber(time, topic)
    await time.settle()
    s.request(1)
    await s.expectNoMessage()
    topic.publish(1)
    expect(await s.expectNext()).toBe(1)
    publishAll(topic, 2, 5)
    s.request(4)
    expect(await s.expectNextN(4)).toEqual([2, 3, 4, 5])
    await closeAndCheck(time, topic)
  })

  it('rejects bad options with the option name', () => {
    for (const [options, name] of [
      [{ bufferSize: 0 }, 'bufferSize'],
      [{ replay: -1 }, 'replay'],
      [{ publishBufferSize: 1.5 }, 'publishBufferSize'],
      [{ slowConsumer: 'never' as never }, 'slowConsumer'],
    ] as const) {
      const thrown = (() => {
        try {
          Topic.local(options)
        } catch (e) {
          return e
        }
      })()
      expect(thrown).toBeInstanceOf(InvalidArgumentError)
      expect(thrown).toMatchObject({ code: 'WEIR_CORE_INVALID_ARGUMENT' })
      expect(thrown).toMatchObject({ argument: name })
    }
  })
})

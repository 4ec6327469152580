/**
 * Session churn over real sockets: 10 000 open-read-leave cycles, at most 64 at a time, mixing
 * the ways a client leaves — a FIN, a RST, a FIN forwarded by a proxy that only half-closes, and a
 * client that leaves while events are being written to it. Afterwards no session is open, the
 * topic has no subscriber, every session was cleaned up exactly once with a reason that matches
 * how its client left, and the process holds no more handles than before.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Materializer, Source } from '@weir/core'
import { Http } from '@weir/http'
import { FaultProxy, RawClient, activeHandles, assertAllStagesStopped } from '@weir/testkit'
import { SessionRegistry, Topic, sseSession, type CloseReason, type ServerSentEvent } from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const CYCLES = 10_000
const CONCURRENCY = 64
const REQUEST = 'GET /ticks HTTP/1.1\r\nHost: x\r\n\r\n'

type Leave = 'fin' | 'rst' | 'proxy-fin' | 'mid-stream'
const LEAVES: readonly Leave[] = ['fin', 'rst', 'proxy-fin', 'mid-stream']

/** The reasons a session may end with, for each way its client leaves. */
const EXPECTED: Readonly<Record<Leave, readonly CloseReason[]>> = {
  fin: ['client-fin'],
  'proxy-fin': ['client-fin'],
  // a RST can surface first as the failure of a write that was in flight
  rst: ['client-rst', 'write-error'],
  // leaving while events stream: the kernel answers the unread data with a RST, or the FIN wins
  'mid-stream': ['client-fin', 'client-rst', 'write-error'],
}

/** Two loop turns: handles closed in this turn are released in the loop's close phase. */
const turns = async (n = 2): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r))
}

describe('SSE session churn', () => {
  it(`${CYCLES} open-read-leave cycles leave zero sessions, zero subscribers and no handles behind`, { timeout: 180_000 }, async () => {
    await turns()
    const baseline = activeHandles()

    const mat = Materializer.create()
    const ticks = Topic.local<number>({ bufferSize: 16, slowConsumer: 'drop-oldest' })
    const registry = new SessionRegistry()
    const reasons = new Map<string, CloseReason[]>() // request id → every cleanup run for it
    const binding = await Http.newServerAt('127.0.0.1', 0)
      .withMaterializer(mat)
      .bind((req) => {
        const id = req.target.slice(req.target.indexOf('=') + 1)
        return sseSession(
          (s) => {
            s.onClose((reason) => {
              const runs = reasons.get(id) ?? []
              runs.push(reason)
              reasons.set(id, runs)
            })
            return Source.single<ServerSentEvent>({ event: 'hello', data: id }).concat(ticks.subscribe(s).map((n): ServerSentEvent => ({ data: String(n) })))
          },
          { registry, heartbeat: '1h' },
        )
      })
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: binding.port }, mode: 'fin-only' })
    cleanups.push(async () => {
      await proxy.stop()
      ticks.close()
      await binding.terminate('200ms')
      await mat.shutdown()
    })

    // a producer publishing throughout the churn, so sessions leave while writes are in flight
    let published = 0
    const producer = setInterval(() => {
      for (let i = 0; i < 8; i++) ticks.publish(published++)
    }, 1)
    cleanups.push(() => clearInterval(producer))

    const leaves = new Map<string, Leave>()
    let maxOpen = 0
    const cycle = async (i: number): Promise<void> => {
      const leave = LEAVES[i % LEAVES.length]!
      const id = String(i)
      leaves.set(id, leave)
      const c = await RawClient.connect(leave === 'proxy-fin' ? proxy.port : binding.port)
      try {
        await c.write(REQUEST.replace('/ticks', `/ticks?c=${id}`))
        await c.readUntil(`data: ${id}\n\n`, { timeoutMs: 10_000 })
        maxOpen = Math.max(maxOpen, registry.count)
        // the hello and at least two published events, then leave while more are being written
        if (leave === 'mid-stream') await c.readUntil((got) => got.toString('latin1').split('\ndata: ').length > 3, { timeoutMs: 10_000 })
        if (leave === 'rst') await c.reset()
        else if (leave === 'fin') {
          // a FIN while still reading (events keep coming: closing outright with unread data would be
          // a RST): the server ends the response, then closes its side
          await c.halfClose()
          await c.expectFin({ timeoutMs: 10_000 })
        } else await c.destroy()
      } finally {
        await c.destroy()
      }
    }

    let next = 0
    const worker = async (): Promise<void> => {
      while (next < CYCLES) await cycle(next++)
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    clearInterval(producer)

    // every session ends; each cleanup ran exactly once, for a reason that matches how its client left
    await expect.poll(() => registry.count, { timeout: 10_000 }).toBe(0)
    await expect.poll(() => ticks.subscriberCount, { timeout: 10_000 }).toBe(0)
    expect(reasons.size).toBe(CYCLES)
    const tally: Record<string, number> = {}
    for (const [id, runs] of reasons) {
      expect(runs, `session ${id}`).toHaveLength(1)
      const leave = leaves.get(id)!
      expect(EXPECTED[leave], `session ${id} (${leave})`).toContain(runs[0])
      tally[`${leave}→${runs[0]}`] = (tally[`${leave}→${runs[0]}`] ?? 0) + 1
    }
    expect(tally['fin→client-fin']).toBe(CYCLES / LEAVES.length)
    expect(tally['proxy-fin→client-fin']).toBe(CYCLES / LEAVES.length)
    expect(maxOpen).toBeGreaterThan(1) // the cycles did overlap
    expect(published).toBeGreaterThan(0)

    // the server and everything it ran are gone, and the process is back to its handles
    await proxy.stop()
    ticks.close()
    await binding.terminate('200ms')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    await mat.shutdown()
    await turns()
    await expect.poll(() => activeHandles(), { timeout: 5000 }).toBeLessThanOrEqual(baseline)
  })
})

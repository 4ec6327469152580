/**
 * One connection blueprint for many accepted connections (what the HTTP server does): each run of
 * the blueprint adopts its own socket before it starts, serves it like a connection's own flow,
 * and a connection is served once only — by its flow or by a blueprint run, never both.
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Flow, Keep, Materializer, Sink } from '@weir/core'
import { assertAllStagesStopped } from '@weir/testkit'
import { Tcp, type IncomingConnection } from './Tcp.js'
import { AdoptingTcpConnectionStage } from './TcpConnectionStage.js'

const mats: Materializer[] = []
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
  for (const m of mats.splice(0)) {
    await assertAllStagesStopped(m, { timeoutMs: 5000 })
    m.shutdown()
  }
})

const upper = (b: Uint8Array): Uint8Array => Buffer.from(Buffer.from(b).toString('latin1').toUpperCase(), 'latin1')

/** Everything the client receives until the server's FIN. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const s: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => s.end(text))
    s.on('data', (c: Buffer) => chunks.push(c))
    s.once('end', () => {
      s.destroy()
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
    s.once('error', reject)
  })
}

describe('a shared connection blueprint', () => {
  it('serves every accepted connection with its own run and its own socket', async () => {
    const mat = Materializer.create()
    mats.push(mat)
    const blueprint = Flow.fromGraph(new AdoptingTcpConnectionStage()).joinMat(Flow.create<Uint8Array>().map(upper), Keep.left)
    const accepted: IncomingConnection[] = []
    const binding = await Tcp.bind('127.0.0.1', 0)
      .to(
        Sink.foreach((c: IncomingConnection) => {
          accepted.push(c)
          c._adoptInto(blueprint.run(mat))
        }),
      )
      .run(mat)
    cleanups.push(() => binding.unbind())
    const replies = await Promise.all([exchange(binding.port, 'first'), exchange(binding.port, 'second'), exchange(binding.port, 'third')])
    expect(replies).toEqual(['FIRST', 'SECOND', 'THIRD'])
    const ends = await Promise.all(accepted.map((c) => c.connection.closed))
    expect(ends.map((e) => e.reason)).toEqual(['peer-fin', 'peer-fin', 'peer-fin'])
    expect(ends.map((e) => e.bytesWritten).sort()).toEqual([5, 5, 6])
  })

  it('serves a connection once: after a blueprint run adopted it, its own flow cannot be materialized', async () => {
    const mat = Materializer.create()
    mats.push(mat)
    const blueprint = Flow.fromGraph(new AdoptingTcpConnectionStage()).joinMat(Flow.create<Uint8Array>(), Keep.left)
    let second: unknown
    const binding = await Tcp.bind('127.0.0.1', 0)
      .to(
        Sink.foreach((c: IncomingConnection) => {
          c._adoptInto(blueprint.run(mat))
          try {
            c.handleWith(Flow.create<Uint8Array>(), mat)
          } catch (e) {
            second = e
          }
        }),
      )
      .run(mat)
    cleanups.push(() => binding.unbind())
    expect(await exchange(binding.port, 'echo')).toBe('echo')
    expect(second).toBeInstanceOf(Error)
    expect(String((second as Error).message)).toMatch(/only once/)
  })

  it('fails a run that was started without a socket, and leaves nothing running', async () => {
    const mat = Materializer.create()
    mats.push(mat)
    const done = Flow.fromGraph(new AdoptingTcpConnectionStage())
      .joinMat(Flow.create<Uint8Array>().watchTermination(Keep.right), Keep.right)
      .run(mat)
    await expect(done).rejects.toThrow(/without a socket/)
  })
})

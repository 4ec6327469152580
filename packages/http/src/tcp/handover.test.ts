/**
 * The TCP stage's socket handover (a protocol switch): once asked for, the outbound side's
 * completion detaches the socket after every byte written before it, and the new owner gets it
 * paused, with nothing read lost; the stage stops without closing it.
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Flow, Materializer, Sink } from '@weir/core'
import { assertAllStagesStopped } from '@weir/testkit'
import { Tcp, type IncomingConnection } from './Tcp.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s))
    s.once('error', reject)
    cleanups.push(() => void s.destroy())
  })
}

/** Read from `s` until `text` has arrived; resolves with everything read. */
function readUntil(s: Socket, text: string): Promise<string> {
  let got = ''
  return new Promise((resolve) => {
    const onData = (c: Buffer): void => {
      got += c.toString()
      if (got.includes(text)) {
        s.off('data', onData)
        resolve(got)
      }
    }
    s.on('data', onData)
  })
}

describe('socket handover', () => {
  it('hands the socket over after the bytes written before, paused, and the stage stops without closing it', async () => {
    const mat = Materializer.create()
    cleanups.push(async () => {
      await assertAllStagesStopped(mat, { timeoutMs: 5000 })
      mat.shutdown()
    })
    let taken: { socket: Socket; unread: readonly Uint8Array[]; paused: boolean } | undefined
    let conn: IncomingConnection | undefined
    const binding = await Tcp.bind('127.0.0.1', 0)
      .to(
        Sink.foreach((c: IncomingConnection) => {
          conn = c
          c.handleWith(
            Flow.create<Uint8Array>()
              .take(1)
              .map(() => {
                c.connection._handOver((socket, unread) => {
                  taken = { socket, unread, paused: socket.isPaused() }
                  socket.write('new owner\n')
                  socket.on('data', (d: Buffer) => socket.write(`echo ${d.toString()}`))
                  socket.resume()
                })
                return Buffer.from('switching\n')
              }),
            mat,
          )
        }),
      )
      .run(mat)
    cleanups.push(() => binding.unbind())
    const s = await client(binding.port)
    const greeting = readUntil(s, 'new owner\n')
    s.write('switch please')
    expect(await greeting).toBe('switching\nnew owner\n')
    const info = await conn!.connection.closed
    expect(info.reason).toBe('handed-over')
    expect(taken).toMatchObject({ paused: true, unread: [] })
    expect(taken!.socket.destroyed).toBe(false)
    const echoed = readUntil(s, 'echo after')
    s.write('after')
    expect(await echoed).toBe('echo after')
    taken!.socket.destroy()
  })
})

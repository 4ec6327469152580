import { describe, expect, it } from 'vitest'
import { Flow, Keep, Sink, Source } from './index.js'

describe('smoke', () => {
  it('runs a linear pipeline', async () => {
    expect(await Source.from([1, 2, 3]).map((x) => x * 2).runWith(Sink.seq())).toEqual([2, 4, 6])
  })
  it('reuses a flow blueprint', async () => {
    const double = Flow.create<number>().map((x) => x * 2)
    expect(await Source.range(1, 5).via(double).via(double).filter((x) => x > 8).runWith(Sink.seq())).toEqual([12, 16, 20])
  })
  it('async boundary', async () => {
    const r = await Source.range(1, 1000).map((x) => x + 1).async().filter((x) => x % 2 === 0).async().fold(0, (a, x) => a + x).runWith(Sink.head())
    expect(r).toBe(250500)
  })
  it('take cancels', async () => {
    expect(await Source.repeat(7).take(3).runWith(Sink.seq())).toEqual([7, 7, 7])
  })
  it('toMat both', async () => {
    const [a, b] = Source.single(1).toMat(Sink.head(), Keep.both).run() as unknown as [undefined, Promise<number>]
    expect(a).toBeUndefined()
    expect(await b).toBe(1)
  })
})

/**
 * Property: a random pipeline of operators (including fan-in: concat, prepend), with async boundaries anywhere, applied to a random
 * input produces exactly what the same computation on arrays produces — with operator fusion on
 * and off, for any pattern of downstream demand — and leaves no stage running.
 *
 * The model below is the specification of each operator in array terms; numbers stay small
 * (arithmetic modulo 1000) so that every comparison is exact.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink } from '@weir/testkit'
import { Materializer, Sink, Source } from './index.js'

type Step =
  | { readonly t: 'map'; readonly k: number; readonly c: number }
  | { readonly t: 'filter'; readonly m: number; readonly r: number }
  | { readonly t: 'take'; readonly n: number }
  | { readonly t: 'drop'; readonly n: number }
  | { readonly t: 'takeWhile'; readonly below: number }
  | { readonly t: 'dropWhile'; readonly below: number }
  | { readonly t: 'scan'; readonly zero: number }
  | { readonly t: 'fold'; readonly zero: number }
  | { readonly t: 'mapConcat'; readonly n: number }
  | { readonly t: 'grouped'; readonly n: number }
  | { readonly t: 'zipWithIndex' }
  | { readonly t: 'buffer'; readonly n: number }
  | { readonly t: 'mapAsync'; readonly p: number }
  | { readonly t: 'collect'; readonly m: number }
  | { readonly t: 'intersperse'; readonly inject: number; readonly edges: boolean }
  | { readonly t: 'concat'; readonly more: readonly number[] }
  | { readonly t: 'prepend'; readonly more: readonly number[] }
  | { readonly t: 'async' }

const mod = (x: number): number => x % 1000
const linear = (k: number, c: number) => (x: number) => mod(x * k + c)
const residue = (m: number, r: number) => (x: number) => ((x % m) + m) % m === r
const add = (a: number, x: number): number => mod(a + x)
const sum = (xs: readonly number[]): number => xs.reduce(add, 0)
const repeat = (n: number) => (x: number) => Array.from({ length: n }, () => x)

/** The specification: each step on an array. */
function model(xs: readonly number[], step: Step): number[] {
  switch (step.t) {
    case 'map':
      return xs.map(linear(step.k, step.c))
    case 'filter':
      return xs.filter(residue(step.m, step.r))
    case 'take':
      return xs.slice(0, step.n)
    case 'drop':
      return xs.slice(step.n)
    case 'takeWhile': {
      const i = xs.findIndex((x) => !(x < step.below))
      return i < 0 ? xs.slice() : xs.slice(0, i)
    }
    case 'dropWhile': {
      const i = xs.findIndex((x) => !(x < step.below))
      return i < 0 ? [] : xs.slice(i)
    }
    case 'scan': {
      const out = [step.zero]
      for (const x of xs) out.push(add(out[out.length - 1]!, x))
      return out
    }
    case 'fold':
      return [xs.reduce(add, step.zero)]
    case 'mapConcat':
      return xs.flatMap(repeat(step.n))
    case 'grouped': {
      const out: number[] = []
      for (let i = 0; i < xs.length; i += step.n) out.push(sum(xs.slice(i, i + step.n)))
      return out
    }
    case 'zipWithIndex':
      return xs.map((x, i) => mod(x + i))
    case 'collect':
      return xs.flatMap((x) => (x % step.m === 0 ? [x / step.m] : []))
    case 'intersperse': {
      const inner = xs.flatMap((x, i) => (i === 0 ? [x] : [step.inject, x]))
      return step.edges ? [-1, ...inner, -2] : inner
    }
    case 'concat':
      return [...xs, ...step.more]
    case 'prepend':
      return [...step.more, ...xs]
    case 'buffer':
    case 'mapAsync':
    case 'async':
      return xs.slice()
  }
}

/** The implementation: each step as an operator. */
function apply(s: Source<number>, step: Step): Source<number> {
  switch (step.t) {
    case 'map':
      return s.map(linear(step.k, step.c))
    case 'filter':
      return s.filter(residue(step.m, step.r))
    case 'take':
      return s.take(step.n)
    case 'drop':
      return s.drop(step.n)
    case 'takeWhile':
      return s.takeWhile((x) => x < step.below)
    case 'dropWhile':
      return s.dropWhile((x) => x < step.below)
    case 'scan':
      return s.scan(step.zero, add)
    case 'fold':
      return s.fold(step.zero, add)
    case 'mapConcat':
      return s.mapConcat(repeat(step.n))
    case 'grouped':
      return s.grouped(step.n).map(sum)
    case 'zipWithIndex':
      return s.zipWithIndex().map(([x, i]) => mod(x + i))
    case 'collect':
      return s.collect((x) => (x % step.m === 0 ? x / step.m : undefined))
    case 'intersperse':
      return s.intersperse(step.inject, step.edges ? { start: -1, end: -2 } : {})
    case 'concat':
      return s.concat(Source.from(step.more))
    case 'prepend':
      return s.prepend(Source.from(step.more))
    case 'buffer':
      return s.buffer(step.n, 'backpressure')
    case 'mapAsync':
      return s.mapAsync(step.p, (x) => Promise.resolve(x))
    case 'async':
      return s.async()
  }
}

const small = (min: number, max: number) => fc.integer({ min, max })
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constant('map' as const), k: small(-3, 3), c: small(-5, 5) }),
  fc.integer({ min: 1, max: 4 }).chain((m) => fc.record({ t: fc.constant('filter' as const), m: fc.constant(m), r: small(0, m - 1) })),
  fc.record({ t: fc.constant('take' as const), n: small(0, 30) }),
  fc.record({ t: fc.constant('drop' as const), n: small(0, 30) }),
  fc.record({ t: fc.constant('takeWhile' as const), below: small(-50, 100) }),
  fc.record({ t: fc.constant('dropWhile' as const), below: small(-50, 100) }),
  fc.record({ t: fc.constant('scan' as const), zero: small(-5, 5) }),
  fc.record({ t: fc.constant('fold' as const), zero: small(-5, 5) }),
  fc.record({ t: fc.constant('mapConcat' as const), n: small(0, 3) }),
  fc.record({ t: fc.constant('grouped' as const), n: small(1, 5) }),
  fc.constant({ t: 'zipWithIndex' as const }),
  fc.record({ t: fc.constant('buffer' as const), n: small(1, 8) }),
  fc.record({ t: fc.constant('mapAsync' as const), p: small(1, 4) }),
  fc.record({ t: fc.constant('collect' as const), m: small(1, 3) }),
  fc.record({ t: fc.constant('intersperse' as const), inject: small(-5, 5), edges: fc.boolean() }),
  fc.record({ t: fc.constant('concat' as const), more: fc.array(small(-9, 9), { maxLength: 4 }) }),
  fc.record({ t: fc.constant('prepend' as const), more: fc.array(small(-9, 9), { maxLength: 4 }) }),
  fc.constant({ t: 'async' as const }),
)

const input = fc.array(small(-100, 100), { maxLength: 60 })
const pipeline = fc.array(step, { maxLength: 8 })

function source(xs: readonly number[], asIterable: boolean): Source<number> {
  if (!asIterable) return Source.from(xs)
  return Source.from({ [Symbol.iterator]: () => xs[Symbol.iterator]() })
}

const build = (xs: readonly number[], steps: readonly Step[], asIterable: boolean): Source<number> =>
  steps.reduce(apply, source(xs, asIterable))
const expected = (xs: readonly number[], steps: readonly Step[]): number[] => steps.reduce(model, xs.slice())

describe.each([true, false])('random pipelines (operatorFusion %s)', (operatorFusion) => {
  it('produce what the array model produces', async () => {
    const m = Materializer.create({ operatorFusion })
    await fc.assert(
      fc.asyncProperty(input, pipeline, fc.boolean(), async (xs, steps, asIterable) => {
        const out = await build(xs, steps, asIterable).runWith(Sink.seq(), m)
        expect(out).toEqual(expected(xs, steps))
      }),
      { numRuns: 250 },
    )
    await assertAllStagesStopped(m)
  })

  it('produce the same under any pattern of downstream demand', async () => {
    const m = Materializer.create({ operatorFusion })
    const demand = fc.array(small(1, 7), { minLength: 1, maxLength: 20 })
    await fc.assert(
      fc.asyncProperty(input, pipeline, demand, async (xs, steps, chunks) => {
        const want = expected(xs, steps)
        const probe = build(xs, steps, false).runWith(TestSink.probe<number>(), m)
        const got: number[] = []
        for (let i = 0; got.length < want.length; i++) {
          const n = chunks[i % chunks.length]!
          probe.request(n)
          got.push(...(await probe.expectNextN(Math.min(n, want.length - got.length))))
        }
        expect(got).toEqual(want)
        probe.request(1)
        await probe.expectComplete()
      }),
      { numRuns: 200 },
    )
    await assertAllStagesStopped(m)
  })
})

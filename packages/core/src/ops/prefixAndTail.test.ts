import { describe, expect, it } from 'vitest'
import { assertAllStagesStopped, TestSink, TestSource, VirtualTime } from '@weir/testkit'
import {
  Flow,
  InvalidArgumentError,
  isNonFailureCancellation,
  Keep,
  NoMoreElementsNeeded,
  NonFailureCancellation,
  Sink,
  Source,
  SubstreamMaterializationError,
  type NotUsed,
} from '../index.js'

type Pair<T> = [prefix: T[], tail: Source<T, NotUsed>]

describe.each([true, false])('prefixAndTail (operatorFusion: %s)', (operatorFusion) => {
  const timeWith = (): VirtualTime => new VirtualTime({ operatorFusion })

  it('emits the first n elements and a source of the rest', async () => {
    const time = timeWith()
    const [prefix, tail] = await Source.range(1, 5).prefixAndTail(2).runWith(Sink.head(), time.materializer)
    expect(prefix).toEqual([1, 2])
    expect(await tail.map((x) => x * 10).runWith(Sink.seq(), time.materializer)).toEqual([30, 40, 50])
    await assertAllStagesStopped(time.materializer)
  })

  it('emits a shorter prefix and an empty tail when upstream completes first', async () => {
    const time = timeWith()
    const pairs = await Source.from([1]).prefixAndTail(3).runWith(Sink.seq(), time.materializer)
    expect(pairs.length).toBe(1)
    const [prefix, tail] = pairs[0]!
    expect(prefix).toEqual([1])
    expect(await tail.runWith(Sink.seq(), time.materializer)).toEqual([])
    await assertAllStagesStopped(time.materializer)
  })

  it('with n = 0 emits an empty prefix and the whole stream as the tail', async () => {
    const time = timeWith()
    const [prefix, tail] = await Source.from(['a', 'b']).prefixAndTail(0).runWith(Sink.head(), time.materializer)
    expect(prefix).toEqual([])
    expect(await tail.runWith(Sink.seq(), time.materializer)).toEqual(['a', 'b'])
    await assertAllStagesStopped(time.materializer)
  })

  it('pulls upstream only on demand: for the prefix, then for the tail’s consumer', async () => {
    const time = timeWith()
    const [upstream, out] = TestSource.probe<number>().prefixAndTail(2).toMat(TestSink.probe<Pair<number>>(), Keep.both).run(time.materializer)
    await time.settle()
    expect(upstream.pending).toBe(0)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    const [prefix, tail] = await out.expectNext()
    expect(prefix).toEqual([1, 2])
    await out.expectComplete()
    await time.settle()
    expect(upstream.pending).toBe(0) // nobody consumes the tail yet

    const rest = tail.runWith(TestSink.probe<number>(), time.materializer)
    await rest.expectNoMessage()
    expect(upstream.pending).toBe(0)
    rest.request(1)
    await upstream.expectRequest()
    upstream.sendNext(3)
    await rest.expectNext(3)
    upstream.sendComplete()
    await rest.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream with the tail consumer’s cause', async () => {
    const time = timeWith()
    const [upstream, tailP] = TestSource.probe<number>()
      .prefixAndTail(1)
      .map(([, tail]) => tail)
      .toMat(Sink.head(), Keep.both)
      .run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    const rest = (await tailP).runWith(TestSink.probe<number>(), time.materializer)
    const cause = new Error('tail consumer failed')
    rest.cancel(cause)
    expect(await upstream.expectCancellation()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream with downstream’s cause when it cancels before the prefix', async () => {
    const time = timeWith()
    const [upstream, out] = TestSource.probe<number>().prefixAndTail(3).toMat(TestSink.probe<Pair<number>>(), Keep.both).run(time.materializer)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    const cause = new NonFailureCancellation('not-interested')
    out.cancel(cause)
    expect(await upstream.expectCancellation()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with upstream’s failure before the prefix, and fails the tail with it after', async () => {
    const time = timeWith()
    const early = new Error('early')
    await expect(Source.failed<number>(early).prefixAndTail(2).runWith(Sink.seq(), time.materializer)).rejects.toBe(early)

    const late = new Error('late')
    const [upstream, pairP] = TestSource.probe<number>().prefixAndTail(1).toMat(Sink.head(), Keep.both).run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    const [, tail] = await pairP
    const rest = tail.runWith(TestSink.probe<number>(), time.materializer)
    rest.request(1)
    await upstream.expectRequest()
    upstream.sendError(late)
    expect(await rest.expectError()).toBe(late)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream (not a failure) when the tail is not materialized within the subscription timeout', async () => {
    const time = timeWith()
    const [upstream, pairP] = TestSource.probe<number>()
      .prefixAndTail(1, { subscriptionTimeout: '1s' })
      .toMat(Sink.head(), Keep.both)
      .run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    const [, tail] = await pairP
    await time.advance(999)
    expect(upstream.end).toBeUndefined()
    await time.advance(1)
    const cause = await upstream.expectCancellation()
    expect(isNonFailureCancellation(cause)).toBe(true)
    const late = tail.runWith(TestSink.probe<number>(), time.materializer)
    expect(await late.expectError()).toBeInstanceOf(SubstreamMaterializationError)
    await assertAllStagesStopped(time.materializer)
  })

  it('does not time out a tail that was materialized in time (default timeout 5 s)', async () => {
    const time = timeWith()
    const [upstream, pairP] = TestSource.probe<number>().prefixAndTail(1).toMat(Sink.head(), Keep.both).run(time.materializer)
    await upstream.expectRequest()
    upstream.sendNext(1)
    const [, tail] = await pairP
    await time.advance(4999)
    const rest = tail.runWith(TestSink.probe<number>(), time.materializer)
    await time.advance(10_000)
    expect(upstream.end).toBeUndefined()
    rest.request(1)
    await upstream.expectRequest()
    upstream.sendNext(2).sendComplete()
    await rest.expectNext(2)
    await rest.expectComplete()
    await assertAllStagesStopped(time.materializer)
  })

  it('rejects a negative or fractional n', () => {
    expect(() => Source.single(1).prefixAndTail(-1)).toThrow(InvalidArgumentError)
    expect(() => Source.single(1).prefixAndTail(1.5)).toThrow(InvalidArgumentError)
  })
})

describe.each([true, false])('flatMapPrefix (operatorFusion: %s)', (operatorFusion) => {
  const timeWith = (): VirtualTime => new VirtualTime({ operatorFusion })

  it('runs the rest of the stream through the flow chosen from the first n elements', async () => {
    const time = timeWith()
    const prefixes: number[][] = []
    const out = await Source.from([2, 10, 1, 2, 3])
      .flatMapPrefix(2, (prefix) => {
        prefixes.push(prefix)
        const [k, c] = prefix
        return Flow.create<number>().map((x) => x * k! + c!)
      })
      .runWith(Sink.seq(), time.materializer)
    expect(prefixes).toEqual([[2, 10]])
    expect(out).toEqual([12, 14, 16])
    await assertAllStagesStopped(time.materializer)
  })

  it('calls the function with a shorter prefix when upstream completes first, and completes the flow’s input', async () => {
    const time = timeWith()
    const out = await Source.from([1])
      .flatMapPrefix(3, (prefix) => Flow.create<number>().prepend(Source.from(prefix.map((x) => -x))))
      .runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([-1])
    await assertAllStagesStopped(time.materializer)
  })

  it('with n = 0 runs the whole stream through the flow', async () => {
    const time = timeWith()
    const out = await Source.from([1, 2]).flatMapPrefix(0, () => Flow.create<number>().map((x) => x + 1)).runWith(Sink.seq(), time.materializer)
    expect(out).toEqual([2, 3])
    await assertAllStagesStopped(time.materializer)
  })

  it('passes demand and cancellation through the nested flow', async () => {
    const time = timeWith()
    const [upstream, out] = TestSource.probe<number>()
      .flatMapPrefix(1, () => Flow.create<number>())
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(0) // the prefix
    await upstream.expectRequest() // the nested flow asks for its first element
    upstream.sendNext(1)
    await out.expectNext(1)
    await time.settle()
    expect(upstream.pending).toBe(0) // no demand, no pull
    const cause = new Error('downstream failed')
    out.cancel(cause)
    expect(await upstream.expectCancellation()).toBe(cause)
    await assertAllStagesStopped(time.materializer)
  })

  it('cancels upstream without calling the function when downstream cancels before the prefix', async () => {
    const time = timeWith()
    let called = false
    const [upstream, out] = TestSource.probe<number>()
      .flatMapPrefix(2, () => {
        called = true
        return Flow.create<number>()
      })
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await upstream.expectRequest()
    out.cancel()
    expect(await upstream.expectCancellation()).toBe(NoMoreElementsNeeded)
    expect(called).toBe(false)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails when the function throws, cancelling upstream with the error', async () => {
    const time = timeWith()
    const boom = new Error('no flow for this prefix')
    const [upstream, out] = TestSource.probe<number>()
      .flatMapPrefix(1, (): Flow<number, number> => {
        throw boom
      })
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(1)
    await upstream.expectRequest()
    upstream.sendNext(1)
    expect(await out.expectError()).toBe(boom)
    expect(await upstream.expectCancellation()).toBe(boom)
    await assertAllStagesStopped(time.materializer)
  })

  it('fails with the nested flow’s failure and with upstream’s failure', async () => {
    const time = timeWith()
    const inner = new Error('nested flow failed')
    const [upstream, out] = TestSource.probe<number>()
      .flatMapPrefix(1, () =>
        Flow.create<number>().map((x) => {
          if (x === 2) throw inner
          return x
        }),
      )
      .toMat(TestSink.probe<number>(), Keep.both)
      .run(time.materializer)
    out.request(5)
    await upstream.expectRequest()
    upstream.sendNext(0)
    await upstream.expectRequest()
    upstream.sendNext(1)
    await out.expectNext(1)
    await upstream.expectRequest()
    upstream.sendNext(2)
    expect(await out.expectError()).toBe(inner)
    expect(await upstream.expectCancellation()).toBe(inner)

    const outer = new Error('upstream failed')
    const failing = Source.single(0)
      .concat(Source.failed<number>(outer))
      .flatMapPrefix(1, () => Flow.create<number>())
      .runWith(Sink.seq(), time.materializer)
    await expect(failing).rejects.toBe(outer)
    await assertAllStagesStopped(time.materializer)
  })
})

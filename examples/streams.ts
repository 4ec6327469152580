/**
 * A first look at weir streams: blueprints, materialized values, backpressure, time, and
 * termination. Run it with `pnpm example`.
 */
import { Flow, Keep, KillSwitches, Sink, Source } from '@weir/core'

// 1. A blueprint is a value; running it materializes a fresh stream and returns its materialized value.
const doubled = await Source.from([1, 2, 3]).map((x) => x * 2).runWith(Sink.seq())
console.log('doubled:', doubled) // [2, 4, 6]

// 2. Flows are reusable pieces of a pipeline.
const evensSquared = Flow.create<number>()
  .filter((x) => x % 2 === 0)
  .map((x) => x * x)
console.log('evens squared:', await Source.range(1, 10).via(evensSquared).runWith(Sink.seq()))

// 3. Backpressure: a slow consumer behind an async boundary paces the producer; nothing is buffered without bound.
let produced = 0
const slow = Source.range(1, 1_000_000)
  .map((x) => (produced++, x))
  .async()
  .mapAsync(1, (x) => new Promise<number>((resolve) => setTimeout(() => resolve(x), 1)))
  .take(5)
console.log('slow consumer got', await slow.runWith(Sink.seq()), `while upstream produced only ${produced} elements`)

// 4. Time and termination: a ticking source stopped by a kill switch; `done` settles when the stream ends.
const [kill, done] = Source.tick(0, 100, 'beat')
  .zipWithIndex()
  .viaMat(KillSwitches.single(), Keep.right)
  .watchTermination(Keep.both)
  .to(Sink.foreach(([beat, i]) => console.log(`${beat} #${i}`)))
  .run()
setTimeout(() => kill.shutdown(), 350)
await done
console.log('ticker stopped')

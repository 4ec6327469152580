/**
 * A promise with its settle functions, for materialized values. Its rejection is marked
 * handled at creation: a materialized completion that nobody awaits must not crash the process
 * with an unhandled rejection (whoever awaits it still sees the error).
 */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
  readonly settled: boolean
}

export function deferred<T>(): Deferred<T> {
  let res!: (v: T) => void
  let rej!: (e: unknown) => void
  const promise = new Promise<T>((a, b) => {
    res = a
    rej = b
  })
  promise.catch(() => {})
  const d = {
    promise,
    settled: false,
    resolve(v: T) {
      if (d.settled) return
      d.settled = true
      res(v)
    },
    reject(e: unknown) {
      if (d.settled) return
      d.settled = true
      rej(e)
    },
  }
  return d
}

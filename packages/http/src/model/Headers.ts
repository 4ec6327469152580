/**
 * HTTP header fields: an immutable list of name/value pairs, in order, with case-insensitive
 * lookup (RFC 9110 §5.1). Repeated fields are kept as sent (`getAll`), which matters for
 * `Set-Cookie` and for detecting conflicting `Content-Length` values.
 */
export class Headers implements Iterable<readonly [string, string]> {
  static readonly empty: Headers = new Headers([])
  #lower: string[] | undefined

  private constructor(readonly entries: readonly (readonly [string, string])[]) {}

  /** Headers from name/value pairs, in order. */
  static from(entries: Iterable<readonly [string, string]>): Headers {
    return new Headers(Array.isArray(entries) ? (entries.slice() as (readonly [string, string])[]) : [...entries])
  }
  /** @internal headers over an array the caller hands over (no copy). */
  static adopt(entries: (readonly [string, string])[]): Headers {
    return new Headers(entries)
  }
  /** Headers from a record; an array value adds the field once per element. */
  static fromRecord(record: Readonly<Record<string, string | readonly string[]>>): Headers {
    const out: (readonly [string, string])[] = []
    for (const [k, v] of Object.entries(record)) {
      if (typeof v === 'string') out.push([k, v])
      else for (const x of v) out.push([k, x])
    }
    return new Headers(out)
  }

  get size(): number {
    return this.entries.length
  }

  #names(): string[] {
    return (this.#lower ??= this.entries.map(([n]) => n.toLowerCase()))
  }

  /** The first value of a field, or undefined. */
  get(name: string): string | undefined {
    const n = name.toLowerCase()
    const names = this.#names()
    for (let i = 0; i < names.length; i++) if (names[i] === n) return this.entries[i]![1]
    return undefined
  }
  /** Every value of a field, in order. */
  getAll(name: string): string[] {
    const n = name.toLowerCase()
    const names = this.#names()
    const out: string[] = []
    for (let i = 0; i < names.length; i++) if (names[i] === n) out.push(this.entries[i]![1])
    return out
  }
  has(name: string): boolean {
    return this.#names().includes(name.toLowerCase())
  }
  /** These headers with `name` replaced by one field with `value`. */
  set(name: string, value: string): Headers {
    return new Headers([...this.delete(name).entries, [name, value]])
  }
  /** These headers plus one more field. */
  add(name: string, value: string): Headers {
    return new Headers([...this.entries, [name, value]])
  }
  /** These headers without any field called `name` (or any of `names`). */
  delete(...names: string[]): Headers {
    const drop = new Set(names.map((n) => n.toLowerCase()))
    const lower = this.#names()
    if (!lower.some((n) => drop.has(n))) return this
    return new Headers(this.entries.filter((_, i) => !drop.has(lower[i]!)))
  }
  /** Keep the fields for which `keep` returns true (called with the lower-cased name). */
  filter(keep: (lowerName: string, value: string) => boolean): Headers {
    const lower = this.#names()
    return new Headers(this.entries.filter(([, v], i) => keep(lower[i]!, v)))
  }
  [Symbol.iterator](): Iterator<readonly [string, string]> {
    return this.entries[Symbol.iterator]()
  }
  toString(): string {
    return this.entries.map(([n, v]) => `${n}: ${v}`).join('\r\n')
  }
}

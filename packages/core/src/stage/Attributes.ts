/**
 * Attributes: configuration attached to blueprints and inherited by the stages inside them.
 * The most specific wins: a stage's own attribute beats one set on an enclosing composite.
 */

/** What to do when a user function throws: stop the stream, drop the element, or reset state. */
export type Directive = 'stop' | 'resume' | 'restart'
/** Maps an error thrown by a user function to a {@link Directive}. */
export type Decider = (error: unknown) => Directive

export const Supervision = {
  stoppingDecider: ((_e: unknown) => 'stop') as Decider,
  resumingDecider: ((_e: unknown) => 'resume') as Decider,
  restartingDecider: ((_e: unknown) => 'restart') as Decider,
} as const

export interface AttributeValues {
  /** A readable name used in logs, errors and port names. */
  readonly name?: string
  /** Buffer between async islands (elements). */
  readonly inputBuffer?: { readonly initial: number; readonly max: number }
  /** Supervision of user functions. */
  readonly supervision?: Decider
  /** Free-form attributes for extensions (keyed by a namespaced string). */
  readonly extra?: Readonly<Record<string, unknown>>
}

export class Attributes {
  static readonly none: Attributes = new Attributes({})
  private constructor(readonly values: AttributeValues) {}

  static of(values: AttributeValues): Attributes {
    return new Attributes(values)
  }
  static named(name: string): Attributes {
    return new Attributes({ name })
  }
  static inputBuffer(initial: number, max: number): Attributes {
    return new Attributes({ inputBuffer: { initial, max } })
  }
  static supervisionStrategy(decider: Decider): Attributes {
    return new Attributes({ supervision: decider })
  }

  /** These attributes with `inner`'s values taking precedence (inner = more specific). */
  and(inner: Attributes): Attributes {
    if (inner === Attributes.none) return this
    if (this === Attributes.none) return inner
    const a = this.values
    const b = inner.values
    return new Attributes({
      name: b.name ?? a.name,
      inputBuffer: b.inputBuffer ?? a.inputBuffer,
      supervision: b.supervision ?? a.supervision,
      extra: a.extra === undefined ? b.extra : b.extra === undefined ? a.extra : { ...a.extra, ...b.extra },
    })
  }

  get name(): string | undefined {
    return this.values.name
  }
  get decider(): Decider {
    return this.values.supervision ?? Supervision.stoppingDecider
  }
  extra<T>(key: string): T | undefined {
    return this.values.extra?.[key] as T | undefined
  }
}

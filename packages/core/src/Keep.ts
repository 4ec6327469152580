/**
 * Keep: how two materialized values combine when blueprints are composed
 * (`viaMat`, `toMat`, `watchTermination`…). Pass one of these, or any function of both.
 */
export const Keep = {
  left: <L, R>(l: L, _r: R): L => l,
  right: <L, R>(_l: L, r: R): R => r,
  both: <L, R>(l: L, r: R): [L, R] => [l, r],
  none: <L, R>(_l: L, _r: R): undefined => undefined,
} as const

/** @internal true for the functions above: they have no side effects, so an unused side may be skipped. */
export function isKeep(f: (l: any, r: any) => unknown): boolean {
  return f === Keep.left || f === Keep.right || f === Keep.both || f === Keep.none
}

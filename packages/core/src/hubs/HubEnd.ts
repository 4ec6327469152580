/**
 * How a fan-out hub's producer side ended, as its consumers (present and future) see it. The hub's
 * logic is the only writer; it moves once from `open` to `completed` or `failed`, and later
 * consumers complete or fail at once by reading it.
 */
export type HubEnd = { readonly t: 'open' } | { readonly t: 'completed' } | { readonly t: 'failed'; readonly error: unknown }

export const HUB_OPEN: HubEnd = { t: 'open' }
export const HUB_COMPLETED: HubEnd = { t: 'completed' }

export function hubFailed(error: unknown): HubEnd {
  return { t: 'failed', error }
}

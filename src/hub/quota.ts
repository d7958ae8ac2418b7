import { HubError } from './errors'

/**
 * Counts the topics and patterns subscribed across the whole server (every SSE subscription's
 * selectors plus every WebSocket's), against one limit, so memory stays bounded however many
 * connections take part. Whoever takes room gives the same amount back when it lets go.
 */
export class SelectorQuota {
  private count = 0

  /** @param max most selectors held at once; 0 = no limit. */
  constructor(private readonly max: number) {}

  /** Selectors held now. */
  get held(): number {
    return this.count
  }

  /**
   * Takes room for `count` more selectors, all or nothing: throws `too_many_subscriptions` (and
   * takes nothing) when that would pass the limit.
   */
  take(count: number): void {
    if (this.max > 0 && this.count + count > this.max) {
      throw new HubError(
        'too_many_subscriptions',
        `Herald holds ${this.count} of its limit of ${this.max} subscribed topics and patterns (--max-server-topics); this subscription needs ${count} more: try again later`,
      )
    }
    this.count += count
  }

  /** Gives back room taken with `take`. */
  give(count: number): void {
    this.count -= count
  }
}

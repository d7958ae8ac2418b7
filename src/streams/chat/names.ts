/** Why a claim was refused. */
export type ClaimRefusal = 'taken' | 'not_subscribed'

export interface NameClaimsOptions {
  /** How many live WebSocket subscriptions `chat/user/<name>` has now (Bun's `server.subscriberCount`). */
  subscribers: (name: string) => number
  /** Milliseconds between sweeps that forget names nobody is connected as any more. */
  sweepMs: number
}

/**
 * Who holds each chat name: first come, first served, by connection. There are no accounts or
 * tokens yet, so a page proves nothing about who it is; it only says "I am the page that claimed
 * this name" with a random `key` it made up (kept per tab). A name counts as in use while some
 * WebSocket subscribes to its `chat/user/<name>` topic, in any room: two people with one name
 * would also share each other's direct messages.
 *
 * The protocol, which keeps two simultaneous claims from both succeeding: a page first subscribes
 * to its user topic (so it is counted), then claims. A claim succeeds when
 * - the name is held by the same key (a reconnect or a reload of the tab that holds it), or
 * - nobody holds it, or its holder is gone (the claimant is the only subscriber left).
 * It is refused (`taken`) while another key holds the name and someone besides the claimant is
 * still subscribed, and (`not_subscribed`) when the claimant has not subscribed at all. Claims are
 * handled one at a time, so of two pages racing for a free name the first claim wins.
 *
 * Entries exist only for names someone subscribes to, so memory is bounded by the subscriptions;
 * a sweep (running only while some name is held) forgets names whose last subscriber left.
 */
export class NameClaims {
  private readonly holders = new Map<string, string>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(private readonly options: NameClaimsOptions) {}

  /** Claims `name` for `key`; undefined on success, else why not. */
  claim(name: string, key: string): ClaimRefusal | undefined {
    const subscribers = this.options.subscribers(name)
    if (subscribers === 0) return 'not_subscribed'
    const holder = this.holders.get(name)
    if (holder !== undefined && holder !== key && subscribers > 1) return 'taken'
    this.holders.set(name, key)
    this.timer ??= setInterval(() => this.sweep(), this.options.sweepMs)
    return undefined
  }

  /** The key holding `name`, if any (tests). */
  holder(name: string): string | undefined {
    return this.holders.get(name)
  }

  /** True while the sweep timer runs (tests check it stops once nobody holds a name). */
  get sweeping(): boolean {
    return this.timer !== undefined
  }

  /** Forgets every name whose subscribers all left; stops sweeping when none is held. */
  sweep(): void {
    for (const name of this.holders.keys()) if (this.options.subscribers(name) === 0) this.holders.delete(name)
    if (this.holders.size === 0) this.stop()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  clear(): void {
    this.stop()
    this.holders.clear()
  }
}

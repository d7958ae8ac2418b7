/** Why a claim was refused. */
export type ClaimRefusal = 'taken' | 'not_subscribed'

export interface NameClaimsOptions {
  /** True while some WebSocket subscribes to `chat/claim/<key>` (Bun's `server.subscriberCount`). */
  connected: (key: string) => boolean
  /** Milliseconds between sweeps that forget names whose holder is gone. */
  sweepMs: number
}

/**
 * Who holds each chat name: first come, first served, by connection. There are no accounts or
 * tokens yet, so a page proves nothing about who it is; it only proves it is the page that claimed
 * the name, with a random `key` it made up (kept per tab) and never sends to anyone else.
 *
 * The protocol: a page subscribes, on its one WebSocket, to `chat/user/<name>` and to
 * `chat/claim/<key>`, a topic nobody else knows, and then claims the name with the key. The claim
 * topic is how the server tells whether a page is still connected: Bun drops the subscription when
 * the socket closes. A claim succeeds when
 * - the name is held by the same key (a reconnect, or a reload of the tab that holds it), or
 * - nobody holds it, or its holder is gone (no subscriber on the holder's claim topic).
 * It is refused with `taken` while another key holds the name and is connected, and with
 * `not_subscribed` when the claimant's own claim topic has no subscriber. Claims are handled one
 * at a time, so of two pages racing for a free name the first claim wins. A name is one name
 * across all rooms: two people with one name would also get each other's direct messages.
 *
 * Entries exist only for claimants that were connected, so memory is bounded by the
 * subscriptions; a sweep (running only while some name is held) forgets names whose holder left.
 */
export class NameClaims {
  private readonly holders = new Map<string, string>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(private readonly options: NameClaimsOptions) {}

  /** Claims `name` for `key`; undefined on success, else why not. */
  claim(name: string, key: string): ClaimRefusal | undefined {
    if (!this.options.connected(key)) return 'not_subscribed'
    const holder = this.holders.get(name)
    if (holder !== undefined && holder !== key && this.options.connected(holder)) return 'taken'
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

  /** Forgets every name whose holder is no longer connected; stops sweeping when none is held. */
  sweep(): void {
    for (const [name, key] of this.holders) if (!this.options.connected(key)) this.holders.delete(name)
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

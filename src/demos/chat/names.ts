/** Why a claim was refused: another page holds the name, or the chat holds as many names as it may. */
export type ClaimRefusal = 'taken' | 'full'

export interface NameClaimsOptions {
  /** True while some WebSocket subscribes to `chat/claim/<key>` (Bun's `server.subscriberCount`). */
  connected: (key: string) => boolean
  /** Milliseconds between sweeps that forget names whose holder is gone. */
  sweepMs: number
  /** Milliseconds a claimant has to connect before its name may go to someone else. */
  graceMs: number
  /** Most names held at once (connected or in their grace); past it a claim for a new name is refused with `full`. */
  maxNames: number
  /** The clock, in milliseconds (tests). */
  now?: () => number
}

interface Holder {
  key: string
  /** When it last claimed the name: its grace runs from here. */
  at: number
  /** True once the holder has been seen connected since that claim: its grace is over. */
  seen: boolean
}

/**
 * Who holds each chat name: first come, first served, by page. A page proves it is the page that
 * claimed a name with a random `key` it made up (kept per tab) and never sends to anyone but the
 * server; the demo token endpoint claims the name before it signs a token for it, so a name's
 * tokens go to one page at a time.
 *
 * Whether a holder is still there: its page subscribes, on its WebSocket, to `chat/claim/<key>`, a
 * topic nobody else knows (and, with a key configured, nobody else's token covers); Bun drops the
 * subscription when the socket closes. A claim succeeds when
 * - the name is held by the same key (a reconnect, a token refresh, a reload of the tab), or
 * - nobody holds it, or its holder is gone: not connected, and either seen connected since its
 *   claim or past its grace (the time it has to connect after claiming).
 * It is refused with `taken` while another key holds the name. Claims are handled one at a time,
 * so of two pages racing for a free name the first claim wins. A name is one name across all rooms.
 *
 * Memory: entries for holders that are gone are swept (the sweep runs only while some name is
 * held), and at most `maxNames` are held at once.
 */
export class NameClaims {
  private readonly holders = new Map<string, Holder>()
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly now: () => number

  constructor(private readonly options: NameClaimsOptions) {
    this.now = options.now ?? Date.now
  }

  /** Claims `name` for `key`; undefined on success, else why not. */
  claim(name: string, key: string): ClaimRefusal | undefined {
    const holder = this.holders.get(name)
    if (holder !== undefined && holder.key !== key && this.holds(holder)) return 'taken'
    if (holder === undefined && this.holders.size >= this.options.maxNames) {
      this.sweep()
      if (this.holders.size >= this.options.maxNames) return 'full'
    }
    const claimed: Holder = { key, at: this.now(), seen: false }
    // A holder claiming again while connected (a token refresh) needs no grace.
    this.connected(claimed)
    this.holders.set(name, claimed)
    this.timer ??= setInterval(() => this.sweep(), this.options.sweepMs)
    return undefined
  }

  /** The key holding `name`, if any. */
  holder(name: string): string | undefined {
    return this.holders.get(name)?.key
  }

  /** True while `name` is held by a page that is connected now (presence: "online"). */
  online(name: string): boolean {
    const holder = this.holders.get(name)
    return holder !== undefined && this.connected(holder)
  }

  /** Names held (tests and leak checks). */
  get size(): number {
    return this.holders.size
  }

  /** True while the sweep timer runs (tests check it stops once nobody holds a name). */
  get sweeping(): boolean {
    return this.timer !== undefined
  }

  /** Forgets every name whose holder is gone; stops sweeping when none is held. */
  sweep(): void {
    for (const [name, holder] of this.holders) if (!this.holds(holder)) this.holders.delete(name)
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

  private holds(holder: Holder): boolean {
    return this.connected(holder) || (!holder.seen && this.now() - holder.at < this.options.graceMs)
  }

  /** Whether the holder's page is connected now (noting that it was, which ends its grace). */
  private connected(holder: Holder): boolean {
    if (!this.options.connected(holder.key)) return false
    holder.seen = true
    return true
  }
}

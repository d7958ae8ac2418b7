import { Delivery } from './delivery'
import type { HubEvent } from './event'
import type { Subscriber } from './registry'
import type { Selector } from './topics'

/** Most deliveries one `next()` batch hands out, and roughly most bytes of data: one SSE write stays bounded. */
const BATCH_EVENTS = 1024
const BATCH_BYTES = 256 * 1024

/** Why a subscription stopped. `overflow`: its queue filled because the client read too slowly; `expired`: its token expired. */
export type EndReason = 'closed' | 'aborted' | 'overflow' | 'expired'

/**
 * A pull-based subscriber (what an SSE stream reads from): a bounded queue of deliveries with one
 * waiter. It never blocks the publisher; when the queue would exceed `queueLimit` it ends with
 * `overflow` and drops what it held, since the client can resume from its last id.
 */
export class Subscription implements Subscriber {
  private queue: Delivery[] = []
  private backlog: Delivery[] = []
  private wake: (() => void) | undefined
  private keepAliveDue = false
  private activeSinceTick = false
  private endReason: EndReason | undefined
  private readonly onAbort = () => this.end('aborted')

  /** Set when the resume position could not be served in full: the consumer should send `reset`. */
  resetTo: string | undefined
  /** Set for a subscription without a resume position: the head when it went live (it gets every event after it). */
  startedAfter: string | undefined

  /**
   * @param sees the subscriber's check for private events (principal.ts `visibilityOf`); undefined sees all
   */
  constructor(
    readonly selectors: readonly Selector[],
    private readonly queueLimit: number,
    private readonly signal: AbortSignal | undefined,
    readonly sees: ((event: HubEvent) => boolean) | undefined,
    private readonly onEnd: (subscription: Subscription) => void,
  ) {
    if (signal?.aborted) queueMicrotask(this.onAbort)
    else signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  /** Why it ended, or undefined while it runs. */
  get ended(): EndReason | undefined {
    return this.endReason
  }

  /** Deliveries waiting to be read (replayed and live). */
  get queued(): number {
    return this.queue.length + this.backlog.length
  }

  /** Queues events the client missed; they are read before any live event. */
  replay(events: readonly HubEvent[]): void {
    for (const event of events) this.backlog.push(new Delivery(event))
    if (events.length > 0) this.wake?.()
  }

  receive(delivery: Delivery): void {
    if (this.endReason) return
    this.activeSinceTick = true
    if (this.queue.push(delivery) > this.queueLimit) {
      this.end('overflow')
      return
    }
    this.wake?.()
  }

  /**
   * Waits for the next batch: everything queued so far, oldest first. An empty batch means a
   * keep-alive is due; null means the subscription ended (the reason is in `ended`).
   */
  async next(): Promise<Delivery[] | null> {
    for (;;) {
      if (this.backlog.length > 0) return this.take('backlog')
      if (this.queue.length > 0) return this.take('queue')
      if (this.endReason) return null
      if (this.keepAliveDue) {
        this.keepAliveDue = false
        return []
      }
      await new Promise<void>((resolve) => (this.wake = resolve))
      this.wake = undefined
    }
  }

  /**
   * Removes the oldest deliveries of one list, up to BATCH_EVENTS / about BATCH_BYTES of data, so a
   * consumer that fell behind does not get (and the server does not buffer) one huge chunk.
   */
  private take(list: 'backlog' | 'queue'): Delivery[] {
    const items = this[list]
    let count = 0
    let bytes = 0
    while (count < items.length && count < BATCH_EVENTS && bytes < BATCH_BYTES) bytes += (items[count++] as Delivery).event.data.length
    if (count === items.length) {
      this[list] = []
      return items
    }
    return items.splice(0, count)
  }

  /** Called on a shared timer: asks for a keep-alive if nothing was delivered since the last call. */
  tick(): void {
    if (!this.activeSinceTick && !this.endReason) {
      this.keepAliveDue = true
      this.wake?.()
    }
    this.activeSinceTick = false
  }

  /**
   * Ends the subscription; idempotent. With `closed` (shutdown) what is queued is still handed out
   * by `next()` before it answers null, so acknowledged events reach the client; with `overflow`,
   * `expired` and `aborted` it is dropped (the client resumes from its last id).
   */
  end(reason: EndReason = 'closed'): void {
    if (this.endReason) return
    this.endReason = reason
    if (reason !== 'closed') {
      this.queue = []
      this.backlog = []
    }
    this.signal?.removeEventListener('abort', this.onAbort)
    this.onEnd(this)
    this.wake?.()
  }
}

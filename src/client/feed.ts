import { isNewer, PROBE_ID } from './ids'
import type { HeraldEvent, HeraldItem, RetryInfo, SubscribeOptions } from './types'

/** What an item costs against `bufferSize`: its text, and at least this many characters. */
const ITEM_COST = 64

/**
 * One `subscribe()`: the queue between a transport and the app's loop, the position a reconnect
 * resumes from, and the end of it all. Transports call `event`, `reset`, `opened`, `retrying`,
 * `fail`; the loop calls `take`.
 *
 * The position is the newest id queued: an event's, or a reset's head. An event that is not newer
 * is dropped, so an overlap between a replay and what was already received is never yielded twice
 * (the server sends each subscription its events in id order, so nothing newer is ever dropped).
 */
export class Feed {
  /** Where a reconnect resumes; undefined until the server has told one. */
  position: string | undefined
  /** Aborted when the subscription ends, for whatever reason: transports stop on it. */
  readonly ended = new AbortController()
  /** Set while a subscribe "after" PROBE_ID is out: its reset only sets the position. */
  private probing = false
  /** True once the server refused the probe (a server that bounds lastEventId): subscribe from now instead. */
  noProbe = false
  /** Items not yet taken: `queue[first…]` (taking from the front without shifting the array). */
  private queue: (HeraldItem | undefined)[] = []
  private first = 0
  private queued = 0
  private wake: (() => void) | undefined
  private drainWaiters: (() => void)[] = []
  private failure: unknown

  constructor(
    readonly selectors: readonly string[],
    private readonly options: SubscribeOptions,
    private readonly bufferSize: number,
  ) {
    this.position = options.lastEventId || undefined
  }

  get done(): boolean {
    return this.ended.signal.aborted
  }

  /** The `lastEventId` to (re)subscribe with: the position, else the probe (see PROBE_ID), else none. */
  resumeFrom(): string | undefined {
    this.probing = this.position === undefined && !this.noProbe
    return this.probing ? PROBE_ID : this.position
  }

  /** True when the queue holds `bufferSize` or more: the transport should stop feeding it. */
  get full(): boolean {
    return this.queued >= this.bufferSize
  }

  /** Queues an event newer than the position. */
  event(item: HeraldEvent): void {
    this.probing = false
    if (this.done || !isNewer(item.id, this.position)) return
    this.position = item.id
    this.push(item, item.text.length)
  }

  /** A reset from the server: queued for the app, unless it answers this client's probe. */
  reset(lastEventId: string | null, head: string): void {
    const probe = this.probing && lastEventId === PROBE_ID
    this.probing = false
    if (this.done) return
    this.position = head
    if (!probe) this.push({ type: 'reset', lastEventId, head }, 0)
  }

  /** The subscription is live (again). */
  opened(): void {
    this.call(() => this.options.onOpen?.())
  }

  /** The connection was lost; the next attempt is in `info.delayMs`. */
  retrying(info: RetryInfo): void {
    this.call(() => this.options.onRetry?.(info))
  }

  /** Ends the subscription with `error`, thrown from the loop once what is queued has been taken. */
  fail(error: unknown): void {
    if (this.done) return
    this.failure = error
    this.finish()
  }

  /** Ends the subscription now (the app's signal, `break`, `close()`): the loop finishes, queued items are dropped. */
  end(): void {
    if (this.done) return
    this.queue = []
    this.first = this.queued = 0
    this.finish()
  }

  /** The next item; undefined once ended; throws the failure once the queue is empty. */
  async take(): Promise<HeraldItem | undefined> {
    for (;;) {
      const item = this.queue[this.first]
      if (item) {
        this.queue[this.first++] = undefined
        this.queued -= Math.max(ITEM_COST, item.type === 'event' ? item.text.length : 0)
        if (this.first === this.queue.length) {
          this.queue = []
          this.first = 0
          for (const resolve of this.drainWaiters.splice(0)) resolve()
        } else if (this.first >= 1024 && this.first * 2 >= this.queue.length) {
          this.queue = this.queue.slice(this.first)
          this.first = 0
        }
        return item
      }
      if (this.done) {
        if (this.failure !== undefined) throw this.failure
        return undefined
      }
      await new Promise<void>((resolve) => (this.wake = resolve))
    }
  }

  /** Resolves once the loop has taken everything queued, or the subscription ended. */
  drained(): Promise<void> {
    if (this.first === this.queue.length || this.done) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  private push(item: HeraldItem, size: number): void {
    this.queue.push(item)
    this.queued += Math.max(ITEM_COST, size)
    this.wakeUp()
  }

  private finish(): void {
    this.ended.abort()
    for (const resolve of this.drainWaiters.splice(0)) resolve()
    this.wakeUp()
  }

  private wakeUp(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Runs an app callback; if it throws, the subscription ends with that error (the loop throws it). */
  private call(callback: () => void): void {
    try {
      callback()
    } catch (error) {
      this.fail(error)
    }
  }
}

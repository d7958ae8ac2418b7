import type { Delivery } from '../hub/delivery'
import type { Hub } from '../hub/hub'
import type { EndReason, Subscription } from '../hub/subscription'
import type { Selector } from '../hub/topics'
import { type HeraldItem, HeraldReset, heraldEventOf } from './sse-items'
import { forHost } from './http-error'
import { noteSubscription } from './sse-routes'

/**
 * `herald.subscribe()`: the hub's events on some topics as an async iterator, for code in a host
 * app (its own SSE generator routes, workers, tests). With `lastEventId` the events missed come
 * first, then live ones, with no gap and no duplicate; a `HeraldReset` comes first when they could
 * not all be served.
 *
 * It ends (done) when the signal aborts, when `return()` is called (a `for await` left early), on
 * shutdown, or when the consumer falls more than `--queue-size` events behind (`endReason`
 * `overflow`: resume from the last id seen). Nothing is left registered once it ended.
 */
export class HeraldSubscription implements AsyncIterableIterator<HeraldItem> {
  private subscription: Subscription | undefined
  private starting: Promise<Subscription> | undefined
  private batch: readonly Delivery[] = []
  private index = 0
  private reset: HeraldReset | undefined
  private finished = false

  constructor(
    private readonly hub: Hub,
    private readonly selectors: readonly Selector[],
    private readonly lastEventId: string | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    noteSubscription(this)
  }

  /** Why it ended: `aborted` (signal or return()), `overflow` (read too slowly), `closed` (shutdown); undefined while it runs. */
  get endReason(): EndReason | undefined {
    return this.finished ? (this.subscription?.ended ?? 'aborted') : undefined
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  async next(): Promise<IteratorResult<HeraldItem, undefined>> {
    for (;;) {
      if (this.reset) {
        const reset = this.reset
        this.reset = undefined
        return { value: reset, done: false }
      }
      if (this.index < this.batch.length) return { value: heraldEventOf(this.batch[this.index++] as Delivery), done: false }
      if (this.finished) return { value: undefined, done: true }
      const subscription = this.subscription ?? (await (this.starting ??= this.start()))
      // A reset found at the start is handed out at once, not after the next event.
      if (this.reset) continue
      const batch = await subscription.next()
      if (batch === null) return this.finish()
      // An empty batch is the keep-alive tick of SSE streams: nothing to hand out here.
      this.batch = batch
      this.index = 0
    }
  }

  async return(): Promise<IteratorResult<HeraldItem, undefined>> {
    return this.finish()
  }

  private async start(): Promise<Subscription> {
    const subscription = await this.hub.subscribe(this.selectors, { lastEventId: this.lastEventId, signal: this.signal }).catch((error: unknown) => {
      throw forHost(error)
    })
    this.subscription = subscription
    if (this.finished) subscription.end('aborted')
    else if (subscription.resetTo) this.reset = new HeraldReset(subscription.resetTo, this.lastEventId ?? null)
    return subscription
  }

  private finish(): IteratorResult<HeraldItem, undefined> {
    this.finished = true
    this.batch = []
    this.reset = undefined
    this.subscription?.end('aborted')
    return { value: undefined, done: true }
  }
}

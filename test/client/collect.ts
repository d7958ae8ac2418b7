import { type Herald, type HeraldEvent, type HeraldItem, type RetryInfo, type SubscribeOptions } from '../../src/client/index'
import { waitFor } from '../helpers'

/** A subscription's loop, running in the background, recording what it got. */
export interface Collected {
  items: HeraldItem[]
  events(): HeraldEvent[]
  opens: number
  retries: RetryInfo[]
  /** What the loop threw, once it has. */
  error: unknown
  /** True once the loop has ended (thrown, finished, or stopped). */
  ended: boolean
  /** Settles when the loop has ended. */
  done: Promise<void>
  /** Ends the subscription through its signal. */
  stop(): void
  /** Waits until `count` events have arrived. */
  waitForEvents(count: number, ms?: number): Promise<HeraldEvent[]>
  /** Waits until the subscription is live `count` times. */
  waitForOpen(count?: number): Promise<void>
}

export function collect(herald: Herald, selectors: string | string[], options: SubscribeOptions & { slow?: () => Promise<void> } = {}): Collected {
  const controller = new AbortController()
  const collected: Collected = {
    items: [],
    events: () => collected.items.filter((item): item is HeraldEvent => item.type === 'event'),
    opens: 0,
    retries: [],
    error: undefined,
    ended: false,
    done: Promise.resolve(),
    stop: () => controller.abort(),
    waitForEvents: async (count, ms = 5000) => {
      await waitFor(() => collected.events().length >= count || collected.error, `${count} events (have ${collected.events().length}, error ${collected.error})`, ms)
      if (collected.error) throw collected.error
      return collected.events()
    },
    waitForOpen: async (count = 1) => {
      await waitFor(() => collected.opens >= count || collected.error, `open #${count}`)
    },
  }
  const { slow, ...rest } = options
  collected.done = (async () => {
    try {
      for await (const item of herald.subscribe(selectors, {
        ...rest,
        signal: rest.signal ?? controller.signal,
        onOpen: () => {
          collected.opens++
          rest.onOpen?.()
        },
        onRetry: (info) => {
          collected.retries.push(info)
          rest.onRetry?.(info)
        },
      })) {
        collected.items.push(item)
        await slow?.()
      }
    } catch (error) {
      collected.error = error
    } finally {
      collected.ended = true
    }
  })()
  return collected
}

/**
 * A HistoryStore wrapper for tests: slow, failing or late-acknowledging appends and slow reads,
 * around any real store. With no faults set it answers exactly as the store it wraps (synchronous
 * stays synchronous).
 */
import type { HubEvent } from '../../src/hub/event'
import type { HistoryStore, ReplayResult } from '../../src/hub/history'
import type { EventId } from '../../src/hub/id'

export interface StoreFaults {
  /** Runs before a batch is kept: a throw or a rejection fails the append (nothing kept); a promise makes it async. */
  before?: (events: readonly HubEvent[]) => void | Promise<void>
  /** Runs after a batch is kept, before the append answers: a late acknowledgement (reads already see the batch). */
  after?: (events: readonly HubEvent[]) => void | Promise<void>
  /** Runs before a read answers: a slow resume. */
  since?: () => void | Promise<void>
}

function isPromise(value: unknown): value is Promise<void> {
  return typeof (value as Promise<void> | undefined)?.then === 'function'
}

export class FaultyStore implements HistoryStore {
  /** Batches the append was called with, kept or not, in call order. */
  readonly appends: (readonly HubEvent[])[] = []

  constructor(
    readonly inner: HistoryStore,
    readonly faults: StoreFaults = {},
  ) {}

  append(events: readonly HubEvent[]): void | Promise<void> {
    this.appends.push(events)
    const before = this.faults.before?.(events)
    const keep = () => {
      const kept = this.inner.append(events)
      const ack = () => this.faults.after?.(events)
      return isPromise(kept) ? kept.then(ack) : ack()
    }
    return isPromise(before) ? before.then(keep) : keep()
  }

  since(after: EventId, accepts: (topic: string) => boolean, limit: number, topics?: readonly string[]): ReplayResult | Promise<ReplayResult> {
    const delay = this.faults.since?.()
    return isPromise(delay) ? delay.then(() => this.inner.since(after, accepts, limit, topics)) : this.inner.since(after, accepts, limit, topics)
  }

  head(): EventId {
    return this.inner.head()
  }

  stats(): { topics: number; events: number } {
    return this.inner.stats()
  }

  close(): void | Promise<void> {
    return this.inner.close()
  }
}

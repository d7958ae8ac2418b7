import type { HubEvent } from '../hub/event'
import type { EventId } from '../hub/id'

/** What a store found after a resume position. */
export interface ReplayResult {
  /** Events newer than the position on accepted topics, oldest first (at most `limit`). */
  readonly events: HubEvent[]
  /**
   * False when the store cannot prove `events` is everything the client missed: the position is
   * older than what is retained, or more than `limit` events match. The client then gets `reset`.
   */
  readonly complete: boolean
}

/**
 * The hub's per-topic event history. The in-memory ring is the default; a durable store plugs in
 * here. Methods may answer synchronously or with a promise: the hub awaits either.
 */
export interface HistoryStore {
  /** Appends events (already in id order). Called once per delivered batch. */
  append(events: readonly HubEvent[]): void | Promise<void>
  /** Events after `after` on topics `accepts` says yes to, oldest first. */
  since(after: EventId, accepts: (topic: string) => boolean, limit: number): ReplayResult | Promise<ReplayResult>
  /** The newest id the store holds (a restarted hub continues after it); ZERO_ID when empty. */
  head(): EventId
  /** Counts for /metrics and tests. */
  stats(): { topics: number; events: number }
  close(): void | Promise<void>
}

import type { HubEvent } from './event'
import type { EventId } from './id'

/** What a store found after a resume position. */
export interface ReplayResult {
  /** Events newer than the position on accepted topics, oldest first (at most `limit`). */
  readonly events: HubEvent[]
  /**
   * False when the store cannot prove `events` is everything the client missed: the position is
   * older than what is retained, more than `limit` events match, or one it had still to return
   * was removed while it was answering. The client then gets `reset`, and `events` is then only
   * an id-ordered beginning of what matched (the oldest `limit` when that was the reason), possibly
   * empty.
   */
  readonly complete: boolean
}

/**
 * The hub's per-topic event history. The in-memory ring is the default; a durable store plugs in
 * here. Methods may answer synchronously or with a promise: the hub and broker await either.
 */
export interface HistoryStore {
  /**
   * Keeps a batch (already in id order, ids newer than any held). The broker calls it once per
   * published batch, before anyone receives it, and never while an earlier append's promise is
   * pending. A throw or a rejected promise means the batch was not kept: the publish fails
   * (`store_unavailable`) and nobody receives it, so a store must keep all of a batch or none.
   * Answering synchronously (memory, sqlite) keeps the publish path free of extra turns.
   */
  append(events: readonly HubEvent[]): void | Promise<void>
  /**
   * Events after `after` on topics `accepts` says yes to, oldest first, up to the store's newest id
   * when called (events appended while a promise is pending are the caller's to get live; the hub
   * listens before it asks). `topics`, when given, lists exactly the topics `accepts` takes (the
   * subscription named no pattern): a store may look them up instead of testing every topic.
   * A store that answers with a promise must not hold up the event loop for long in between: a
   * resume's cost grows with what it replays, not with everything retained.
   */
  since(after: EventId, accepts: (topic: string) => boolean, limit: number, topics?: readonly string[]): ReplayResult | Promise<ReplayResult>
  /**
   * The newest id the store holds (a restarted hub continues after it); when it holds none, the
   * oldest position it can serve a resume from (its start), so the first reset never carries 0-0.
   */
  head(): EventId
  /** Counts for /metrics and tests. */
  stats(): { topics: number; events: number }
  close(): void | Promise<void>
}

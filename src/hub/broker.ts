import type { HubEvent, ValidatedInput } from './event'
import type { EventId } from './id'

/**
 * Where a published batch gets its ids, is made durable and is announced. Implementations live in
 * src/broker/ and each passes test/broker/contract.ts. The memory broker does all three in this
 * process (its id generator, the history store, a direct call); the Redis broker runs one script
 * that gives ids and keeps the batch in the cluster log, and every node announces what it reads
 * from that log.
 *
 * There is one delivery path: the hub delivers only what `onDeliver` hands it, for this node's
 * publishes and other nodes' alike, so an event is delivered once and only after it was kept.
 */
export interface Broker {
  /**
   * Gives the batch ids (in order; a publisher-chosen `id` must be newer than every id so far and
   * near the clock: `id_not_increasing`, `invalid_id`), keeps it, then announces it. Resolves with
   * the events once they are kept and this node's `onDeliver` has been called with them. Rejects
   * (`store_unavailable` when the store failed, `shutting_down` once closed) having kept nothing,
   * announced nothing and used no id: the next batch continues from where this one started.
   * Batches are kept and announced in id order, even when publishes overlap.
   */
  publish(batch: readonly ValidatedInput[]): Promise<HubEvent[]>
  /** Sets the delivery callback (one per broker): every announced batch, in id order, once. */
  onDeliver(deliver: (events: readonly HubEvent[]) => void): void
  /** The newest id announced (or held by the store at start): ZERO_ID when there is none. */
  head(): EventId
  /**
   * Optional, for brokers whose nodes announce at slightly different moments (Redis): resolves once
   * this node has announced everything kept up to `position`, so a resume with an id another node
   * already sent is not taken for an unknown one. Resolves at once when it has, or when nothing that
   * new was kept; bounded in time (the caller then treats the position as unknown).
   */
  reach?(position: EventId): Promise<void>
  /**
   * Refuses new publishes (`shutting_down`) and resolves once those already accepted have settled
   * (kept and announced, or failed). Announces nothing after. Idempotent.
   */
  close(): void | Promise<void>
}

import type { HubEvent } from './event'

/** Turns an event into one transport's wire form. Identity matters: it keys the memo below. */
export type Encoder<T> = (event: HubEvent) => T

/**
 * One event on its way to subscribers. Each transport encodes it at most once, however many
 * subscribers it has: the first `encode(enc)` call does the work, later calls reuse the result.
 */
export class Delivery {
  private firstEncoder: Encoder<unknown> | undefined
  private firstValue: unknown
  private others: Map<Encoder<unknown>, unknown> | undefined

  /**
   * @param sequence the hub's delivery counter (1, 2, 3, … in delivery order), or -1 for a replay
   *   made for one subscriber. Two subscribers whose batches start and end with the same live
   *   deliveries and span a gap-free run of sequence numbers got the same batch, so a transport may
   *   reuse one encoding of the batch for both.
   */
  constructor(
    readonly event: HubEvent,
    readonly sequence = -1,
  ) {}

  encode<T>(encoder: Encoder<T>): T {
    // Two transports exist today, so a field pair beats a Map on this hot path.
    if (this.firstEncoder === encoder) return this.firstValue as T
    if (this.firstEncoder === undefined) {
      this.firstEncoder = encoder
      this.firstValue = encoder(this.event)
      return this.firstValue as T
    }
    this.others ??= new Map()
    let value = this.others.get(encoder)
    if (value === undefined) {
      value = encoder(this.event)
      this.others.set(encoder, value)
    }
    return value as T
  }
}

/** What all subscribers of one phase share: counters the parent polls, and the latency samples. */
export class Tally {
  /** Subscribers whose subscription is confirmed (WS `subscribed` ack, SSE response headers). */
  ready = 0
  /** Subscribers that have every expected event. */
  complete = 0
  /** Events received, over all subscribers. */
  received = 0
  /** performance.now() of the latest chunk that carried an event. */
  lastDeliveryAt = 0
  /** Connections that closed or failed before the end of the phase. */
  failed = 0
  readonly failures: string[] = []
  /** Publish → receive, in milliseconds, from the sampled subscribers. */
  readonly latenciesMs: number[] = []

  constructor(public expected: number) {}

  /** Starts counting a new run of `expected` events per subscriber (after the warm-up). */
  restart(expected: number): void {
    this.expected = expected
    this.complete = 0
    this.received = 0
    this.lastDeliveryAt = 0
    this.latenciesMs.length = 0
  }

  fail(reason: string): void {
    this.failed++
    if (this.failures.length < 5) this.failures.push(reason)
  }
}

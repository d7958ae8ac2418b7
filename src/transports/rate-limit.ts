/**
 * A token bucket: `ratePerSecond` tokens a second refill it, up to `burst`; each `take` spends one.
 * A rate of 0 means no limit (every take succeeds). The clock is milliseconds (tests pin it).
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number = ratePerSecond,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.tokens = burst
    this.last = now()
  }

  /** Spends one token; false (and nothing spent) when the bucket is empty. */
  take(): boolean {
    if (this.ratePerSecond <= 0) return true
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }
}

/**
 * Runs a retention sweep in the background without stalling publishes: `sweep` does one small
 * bounded step and returns true when more work is waiting, in which case the next step runs on the
 * next turn of the event loop (so publishes interleave with a long trim); otherwise the sweeper
 * sleeps `intervalMs`. The timer is unref'd: it never keeps the process alive.
 */
export class Sweeper {
  private timer: ReturnType<typeof setTimeout> | undefined
  private stopped = false

  constructor(
    private readonly intervalMs: number,
    private readonly sweep: () => boolean,
  ) {
    this.schedule(intervalMs)
  }

  /** Stops for good; idempotent. */
  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      let more = false
      try {
        more = this.sweep()
      } catch (error) {
        // A failed sweep only delays retention; the next interval retries.
        console.error('herald: history retention sweep failed', error)
      }
      this.schedule(more ? 0 : this.intervalMs)
    }, delayMs)
    this.timer.unref()
  }
}

/** How often to look for expired events: a tenth of the TTL, between 100 ms and 5 s. */
export function sweepInterval(ttlMs: number): number {
  return Math.min(5000, Math.max(100, Math.floor(ttlMs / 10)))
}

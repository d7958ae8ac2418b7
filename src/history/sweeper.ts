/**
 * Runs a retention sweep in the background without stalling publishes: `sweep` does one small
 * bounded step and returns true when more work is waiting, in which case the next step runs on the
 * next turn of the event loop (so publishes interleave with a long trim); otherwise the sweeper
 * sleeps `intervalMs`. A step may answer with a promise (a remote store): the next one is timed
 * from when it settled. The timer is unref'd: it never keeps the process alive.
 */
export class Sweeper {
  private timer: ReturnType<typeof setTimeout> | undefined
  private stopped = false

  constructor(
    private readonly intervalMs: number,
    private readonly sweep: () => boolean | Promise<boolean>,
  ) {
    this.schedule(intervalMs)
  }

  /** Stops for good; idempotent. */
  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** A failed sweep only delays retention; the next interval retries. */
  private failed(error: unknown, reschedule = false): void {
    console.error('herald: history retention sweep failed', error)
    if (reschedule) this.schedule(this.intervalMs)
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      let more: boolean | Promise<boolean> = false
      try {
        more = this.sweep()
      } catch (error) {
        this.failed(error)
      }
      if (more instanceof Promise) more.then((again) => this.schedule(again ? 0 : this.intervalMs), (error: unknown) => this.failed(error, true))
      else this.schedule(more ? 0 : this.intervalMs)
    }, delayMs)
    this.timer.unref()
  }
}

/** How often to look for expired events: a tenth of the TTL, between 100 ms and 5 s. */
export function sweepInterval(ttlMs: number): number {
  return Math.min(5000, Math.max(100, Math.floor(ttlMs / 10)))
}

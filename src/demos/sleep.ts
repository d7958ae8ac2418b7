/** Counts what a group of streams holds right now; tests read it to prove a disconnect frees everything. */
export interface StreamGauge {
  /** Timers started by `sleep` and not yet fired or cleared. */
  timers: number
  /** Stream generators started and not yet finalized (their `finally` has not run). */
  streams: number
}

/** A fresh gauge at zero. */
export function streamGauge(): StreamGauge {
  return { timers: 0, streams: 0 }
}

/**
 * Waits `ms` milliseconds, or less if `signal` aborts first (then it resolves, it does not throw:
 * the caller checks `signal.aborted`). The timer and the listener are always removed, and
 * `gauge.timers` (when given) counts the timer while it is pending.
 */
export function sleep(ms: number, signal: AbortSignal, gauge?: StreamGauge): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    let pending = true
    const done = () => {
      if (!pending) return
      pending = false
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      if (gauge) gauge.timers--
      resolve()
    }
    const timer = setTimeout(done, ms)
    if (gauge) gauge.timers++
    signal.addEventListener('abort', done, { once: true })
  })
}

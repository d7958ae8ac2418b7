import type { BackoffOptions } from './types'

/** Waits `ms`, or less if `signal` aborts; always clears its timer. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done)
    if (signal.aborted) done()
  })
}

/** BackoffOptions with every default filled in. */
export type BackoffSettings = Required<BackoffOptions>

export function backoffSettings(options: BackoffOptions = {}): BackoffSettings {
  return { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5, healthyMs: 5000, random: Math.random, now: Date.now, sleep, ...options }
}

/**
 * One connection's reconnect schedule: the n-th delay since the last healthy connection is
 * `min(maxMs, initialMs · factor^(n−1))`, less up to `jitter` of it at random, and never under the
 * server's `retry:` hint (itself capped at `maxMs`). A connection that stayed open `healthyMs`
 * starts the schedule over; one that opened and failed at once does not, so a server that accepts
 * and drops every connection is still only tried at the slowing pace.
 */
export class Backoff {
  /** Failed attempts since the last healthy connection. */
  attempt = 0
  private openedAt: number | undefined

  constructor(private readonly settings: BackoffSettings) {}

  /** Call when a connection opens. */
  opened(): void {
    this.openedAt = this.settings.now()
  }

  /** The delay before the next attempt, in milliseconds; counts the attempt. */
  next(hintMs = 0): number {
    const { initialMs, maxMs, factor, jitter, healthyMs, random, now } = this.settings
    if (this.openedAt !== undefined && now() - this.openedAt >= healthyMs) this.attempt = 0
    this.openedAt = undefined
    const base = Math.min(maxMs, initialMs * factor ** Math.min(this.attempt++, 64))
    return Math.round(Math.min(maxMs, Math.max(hintMs, base * (1 - jitter * random()))))
  }
}

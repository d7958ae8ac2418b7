/**
 * Waits `ms` milliseconds, or less if `signal` aborts first (then it resolves, it does not throw:
 * the caller checks `signal.aborted`). The timer and the listener are always removed.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

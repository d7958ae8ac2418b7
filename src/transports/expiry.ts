/** Longest delay one setTimeout takes (2^31 - 1 ms, ~24.8 days); longer ones fire at once in Bun and Node. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * Calls `fire` once at `at` (milliseconds since the epoch; at once if it has passed), however far
 * away that is (a token may live for months: the wait is taken in steps a timer can hold). Returns
 * the cancel function (idempotent).
 */
export function atTime(at: number, fire: () => void, now: () => number = Date.now): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = () => {
    const wait = at - now()
    if (wait <= 0) {
      timer = undefined
      fire()
      return
    }
    timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS))
  }
  // Never synchronously: the caller finishes setting up before `fire` can run.
  timer = setTimeout(arm, Math.max(0, Math.min(at - now(), MAX_TIMER_MS)))
  return () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
}

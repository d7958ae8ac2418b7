/**
 * Event ids as the client reads them: `<ms>-<seq>`, each part a whole number from 0 to 2^53 − 1
 * without leading zeros (the server's rule, src/hub/id.ts; test/client/ids.test.ts checks the two
 * agree). Written here rather than imported so the browser bundle holds no server code.
 */
const ID = /^(0|[1-9]\d{0,15})-(0|[1-9]\d{0,15})$/

/** The two parts of `text` when it is an event id, else undefined. */
function parts(text: unknown): [number, number] | undefined {
  const match = typeof text === 'string' ? ID.exec(text) : null
  if (!match) return undefined
  const ms = Number(match[1])
  const seq = Number(match[2])
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? [ms, seq] : undefined
}

/** True when `text` is an event id the server could have issued. */
export const isEventId = (text: unknown): text is string => parts(text) !== undefined

/** True when id `a` is newer than `than` (always, when `than` is undefined). Both must be ids. */
export function isNewer(a: string, than: string | undefined): boolean {
  if (than === undefined) return true
  const [aMs, aSeq] = parts(a) as [number, number]
  const [bMs, bSeq] = parts(than) as [number, number]
  return aMs > bMs || (aMs === bMs && aSeq > bSeq)
}

/**
 * The newest id there can be. A subscription that has no position yet subscribes "after" it: the
 * server answers an id newer than any it issued with `reset` carrying its head (README, "Resume"),
 * and goes live from there. The client keeps that head as the subscription's position and hands
 * the app nothing, so even a subscription that never receives an event resumes without a gap.
 */
export const PROBE_ID = `${Number.MAX_SAFE_INTEGER}-${Number.MAX_SAFE_INTEGER}`

import { compareIds, type EventId } from '../hub/id'
import type { ReplayResult } from './store'

/**
 * Most events (or topics examined) one slice of a resume handles before it lets the event loop
 * run: about a millisecond of work, so a resume never holds up other requests for long.
 */
export const REPLAY_PAGE = 1000

/** Paused resumes, oldest first, waiting for their next slice. */
const waiting: (() => void)[] = []
let pumping = false

/** Continues one waiting resume, then lets the event loop turn before the next. */
function pump(): void {
  const next = waiting.shift()
  // Resolving runs that resume's slice as a microtask right after this callback, before I/O.
  next?.()
  if (waiting.length > 0) setImmediate(pump)
  else pumping = false
}

/**
 * Waits for this resume's next turn: resumes in progress (of every store) take turns, one slice
 * per turn of the event loop, with timers and I/O in between. So many resumes at once (clients
 * reconnecting together) each wait longer, but never stall the server for more than one slice.
 */
export function nextSlice(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve)
    if (pumping) return
    pumping = true
    setImmediate(pump)
  })
}

/**
 * What a store tells its paused resumes, and what they need to know exactly whether an event they
 * still had to return was removed (by retention, TTL or a topic drop) while they let others run.
 *
 * A resume returns, in id order, the events in (`after`, `bound`] on accepted topics, where
 * `bound` is the store's newest id when the resume began (later events reach the caller through
 * its live listener). `cursor` is the newest id it has returned so far: everything at or below it
 * on accepted topics is already out, so losing it costs nothing.
 */
export class ReplayWatch {
  /** Set once an event the resume still had to return was removed: the answer is incomplete. */
  lost = false
  /** The newest id returned so far (`after` before the first). */
  cursor: EventId
  /** Per topic (by the store's own topic object), its eviction mark when the resume began, kept at the topic's first removal since. */
  private marks: Map<object, EventId> | undefined

  constructor(
    readonly after: EventId,
    readonly bound: EventId,
    private readonly accepts: (topic: string) => boolean,
  ) {
    this.cursor = after
  }

  /**
   * The newest id `topic` had lost when the resume began, given its mark now: a topic examined
   * after a pause may have lost more since, which is only a gap if `removed` says so.
   */
  markAtStart(topic: object, markNow: EventId): EventId {
    return this.marks?.get(topic) ?? markNow
  }

  /**
   * The store removed events of topic `name` (its object `topic`), newer than `markBefore` (the
   * topic's eviction mark until now) through `through`. `hasEventIn(lo, hi)` says whether one of
   * them had an id in (lo, hi]; without it, `through` is the only one.
   */
  removed(topic: object, name: string, markBefore: EventId, through: EventId, hasEventIn?: (lo: EventId, hi: EventId) => boolean): void {
    this.marks ??= new Map()
    if (!this.marks.has(topic)) this.marks.set(topic, markBefore)
    if (this.lost) return
    const lo = compareIds(markBefore, this.cursor) > 0 ? markBefore : this.cursor
    const hi = compareIds(through, this.bound) < 0 ? through : this.bound
    if (compareIds(lo, hi) >= 0 || !this.accepts(name)) return
    this.lost = hasEventIn ? hasEventIn(lo, hi) : compareIds(through, hi) <= 0
  }
}

/**
 * Runs a resume written as a generator that yields between slices: the first slice at once (a
 * small resume answers synchronously), then one slice after each `pause`. While it is paused the
 * watch sits in `active`, where the store reports removals to it.
 */
export function drive(steps: Generator<void, ReplayResult, void>, watch: ReplayWatch, active: Set<ReplayWatch>, pause: () => Promise<void>): ReplayResult | Promise<ReplayResult> {
  const first = steps.next()
  if (first.done) return first.value
  active.add(watch)
  return (async () => {
    try {
      for (;;) {
        await pause()
        const step = steps.next()
        if (step.done) return step.value
      }
    } finally {
      active.delete(watch)
    }
  })()
}

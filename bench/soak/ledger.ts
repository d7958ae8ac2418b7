/**
 * What the soak's publishers got acknowledged, and the check of one subscriber against it: every
 * event of its topics in order, no duplicates, nothing altered, nothing missing between the first
 * and the last it saw (a `reset` excuses the gap it announces), and nothing missing at its start or
 * end beyond the fuzz of acknowledgement timing.
 */
import { compareIds, parseEventId } from '../../src/hub/id'
import { parseSelector, type Selector } from '../../src/hub/topics'
import type { SeenEvent } from './clients'

export interface AckedEvent {
  id: string
  topic: string
  data: string
  /** When the publisher got the acknowledgement (performance.now()). */
  ackedAt: number
}

const byId = (a: { id: string }, b: { id: string }) => compareIds(parseEventId(a.id), parseEventId(b.id))

export class Ledger {
  private readonly events = new Map<string, AckedEvent>()
  private sorted: AckedEvent[] | undefined

  record(event: AckedEvent): void {
    this.events.set(event.id, event)
    this.sorted = undefined
  }

  get size(): number {
    return this.events.size
  }

  get(id: string): AckedEvent | undefined {
    return this.events.get(id)
  }

  /** Every acknowledged event on topics the selectors match, in id order. */
  matching(selectors: readonly Selector[]): AckedEvent[] {
    this.sorted ??= [...this.events.values()].sort(byId)
    return this.sorted.filter((event) => selectors.some((selector) => selector.matches(event.topic)))
  }
}

/** One logical subscriber's history across its reconnects. */
export interface SubscriberRecord {
  name: string
  selectors: readonly string[]
  received: SeenEvent[]
  /** Indexes into `received` where a `reset` arrived (a gap is allowed there). */
  resets: number[]
  /** When its first connection went live, and when it began to leave (or the soak ended). */
  liveAt: number
  leftAt: number
  /** It stopped reading at some point: what it had not read when it left is not owed. */
  stalled: boolean
}

/**
 * Problems found with one subscriber (empty when it is perfect). `marginMs`: events acknowledged
 * within this long of going live or leaving may or may not be delivered (the acknowledgement and
 * the subscription travel on different connections).
 */
export function verify(record: SubscriberRecord, ledger: Ledger, marginMs: number): string[] {
  const problems: string[] = []
  const selectors = record.selectors.map(parseSelector)
  const seen = record.received
  for (let i = 1; i < seen.length; i++) {
    if (byId(seen[i - 1] as SeenEvent, seen[i] as SeenEvent) >= 0) problems.push(`out of order or duplicate: ${seen[i - 1]?.id} then ${seen[i]?.id}`)
  }
  for (const event of seen) {
    const acked = ledger.get(event.id)
    if (!acked) problems.push(`unknown event ${event.id}`)
    else if (acked.data !== event.data || acked.topic !== event.topic) problems.push(`event ${event.id} altered`)
    if (!selectors.some((selector) => selector.matches(event.topic))) problems.push(`event ${event.id} on ${event.topic}, not subscribed`)
  }
  // Owed: everything acknowledged after it went live, up to when it left — or, if it ever stalled,
  // up to the last event it read (a reader that stopped owes the server nothing after that).
  const last = seen.at(-1)
  const owed = (event: AckedEvent) => (record.stalled ? last !== undefined && byId(event, last) <= 0 : event.ackedAt < record.leftAt - marginMs)
  const expected = ledger.matching(selectors).filter((event) => event.ackedAt > record.liveAt + marginMs && owed(event))
  if (expected.length === 0) return problems.slice(0, 5)
  // A reset announces a gap: between the last event before it and the first after, nothing is owed.
  const ids = new Set(seen.map((event) => event.id))
  const excused = (event: AckedEvent) =>
    record.resets.some((index) => {
      const before = seen[index - 1]
      const after = seen[index]
      return (!before || byId(event, before) > 0) && (!after || byId(event, after) < 0)
    })
  const missing = expected.filter((event) => !ids.has(event.id) && !excused(event))
  if (missing.length > 0) problems.push(`${missing.length} of ${expected.length} expected events missing, first ${missing[0]?.id}`)
  return problems.slice(0, 5)
}

/**
 * Retention as the history stores document it, kept by hand (a plain reference model), and the
 * judge of a resume's answer against it. Shared by the hostile resume families of every store
 * (resume.test.ts: memory and sqlite; redis.test.ts: Redis).
 */
import type { ReplayResult } from '../../src/history/store'
import type { HubEvent } from '../../src/hub/event'
import { compareIds, type EventId, ZERO_ID } from '../../src/hub/id'

/** Retention as both stores document it, kept by hand. */
export class Reference {
  readonly topics = new Map<string, { events: HubEvent[]; mark: EventId }>()
  floor: EventId = ZERO_ID
  newest: EventId = ZERO_ID

  constructor(
    private readonly perTopic: number,
    private readonly maxTopics: number,
    /** Whether a topic dropped whole takes its events from resumes already running (sqlite deletes them; the memory store's resume keeps the ring it holds). */
    private readonly dropsRemove: boolean,
  ) {}

  /** Appends; returns what a running resume can no longer read. */
  append(events: readonly HubEvent[]): HubEvent[] {
    const removed: HubEvent[] = []
    for (const event of events) {
      let topic = this.topics.get(event.topic)
      if (topic) {
        this.topics.delete(event.topic)
      } else {
        if (this.topics.size >= this.maxTopics) removed.push(...this.dropOldest())
        topic = { events: [], mark: ZERO_ID }
      }
      this.topics.set(event.topic, topic)
      topic.events.push(event)
      if (topic.events.length > this.perTopic) {
        const evicted = topic.events.shift() as HubEvent
        topic.mark = evicted.position
        removed.push(evicted)
      }
      this.newest = event.position
    }
    return removed
  }

  expire(cutoff: number): HubEvent[] {
    const removed: HubEvent[] = []
    for (const topic of this.topics.values()) {
      while (topic.events.length > 0 && (topic.events[0] as HubEvent).time < cutoff) {
        const expired = topic.events.shift() as HubEvent
        topic.mark = expired.position
        removed.push(expired)
      }
    }
    return removed
  }

  private dropOldest(): HubEvent[] {
    const [name, topic] = this.topics.entries().next().value as [string, { events: HubEvent[]; mark: EventId }]
    this.topics.delete(name)
    const last = topic.events.at(-1)?.position ?? topic.mark
    if (compareIds(last, this.floor) > 0) this.floor = last
    return this.dropsRemove ? topic.events : []
  }

  /** What a resume asked now should answer: every matching event after `after`, and whether a gap was already there. */
  answer(after: EventId, accepts: (topic: string) => boolean): { events: HubEvent[]; gap: boolean } {
    let gap = compareIds(after, this.floor) < 0
    const events: HubEvent[] = []
    for (const [name, topic] of this.topics) {
      if (!accepts(name)) continue
      if (compareIds(topic.mark, after) > 0) gap = true
      for (const event of topic.events) if (compareIds(event.position, after) > 0) events.push(event)
    }
    events.sort((x, y) => compareIds(x.position, y.position))
    return { events, gap }
  }
}

export interface Resume {
  label: string
  after: EventId
  limit: number
  expected: HubEvent[]
  gap: boolean
  /** Events removed from retention while this resume was running. */
  removed: HubEvent[]
}

/** Why an answer is wrong, or undefined when it is right. */
export function judge(resume: Resume, found: ReplayResult): string | undefined {
  const ids = (events: readonly HubEvent[]) => events.map((e) => e.id).join(',')
  const { expected, limit } = resume
  const got = found.events
  if (got.length > limit) return `returned ${got.length} events, limit ${limit}`
  for (let i = 0; i < got.length; i++) {
    if (JSON.stringify(got[i]) !== JSON.stringify(expected[i])) return `event #${i} is ${ids([got[i] as HubEvent])}, expected ${ids(expected.slice(i, i + 1))}: got [${ids(got)}], expected [${ids(expected)}]`
  }
  const returned = new Set(got.map((e) => e.id))
  const lostWhileRunning = resume.removed.some((e) => expected.includes(e) && !returned.has(e.id))
  if (found.complete) {
    if (resume.gap) return 'complete, but the position was already past a gap'
    if (got.length !== expected.length) return `complete with [${ids(got)}], expected [${ids(expected)}]`
    return undefined
  }
  if (resume.gap || lostWhileRunning) return undefined
  if (expected.length > limit) return got.length === limit ? undefined : `over the limit: expected the oldest ${limit}, got ${got.length}`
  return `incomplete with nothing lost: got [${ids(got)}], expected [${ids(expected)}], removed meanwhile [${ids(resume.removed)}]`
}


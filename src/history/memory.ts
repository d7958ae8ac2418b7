import type { HubEvent } from '../hub/event'
import { compareIds, type EventId, ZERO_ID } from '../hub/id'
import { Ring } from './ring'
import type { HistoryStore, ReplayResult } from './store'

export interface MemoryHistoryOptions {
  /** Events kept per topic (the oldest are dropped first). */
  perTopic: number
  /** Topics kept; past it the least recently published topic's history is dropped. */
  maxTopics: number
  /** Positions older than this are unknown to the store (it did not exist yet): usually "now". */
  startedAt: EventId
}

interface TopicHistory {
  readonly ring: Ring<HubEvent>
  /** The newest id this topic lost to the ring's capacity; a resume before it has a gap. */
  evictedThrough: EventId
}

/**
 * The default store: one ring per topic, in process memory, lost on restart. Memory is bounded by
 * perTopic × maxTopics events.
 */
export class MemoryHistory implements HistoryStore {
  private readonly topics = new Map<string, TopicHistory>()
  /** Resume positions older than this cannot be served: the store started, or a whole topic was dropped, after them. */
  private floor: EventId
  private newest: EventId = ZERO_ID
  private events = 0

  constructor(private readonly options: MemoryHistoryOptions) {
    this.floor = options.startedAt
  }

  append(events: readonly HubEvent[]): void {
    for (const event of events) {
      let topic = this.topics.get(event.topic)
      if (topic) {
        // Re-insert so Map order is least-recently-published first.
        this.topics.delete(event.topic)
      } else {
        topic = { ring: new Ring(this.options.perTopic), evictedThrough: ZERO_ID }
        if (this.topics.size >= this.options.maxTopics) this.dropOldestTopic()
      }
      this.topics.set(event.topic, topic)
      const evicted = topic.ring.push(event)
      if (evicted) topic.evictedThrough = evicted.position
      else this.events++
      this.newest = event.position
    }
  }

  since(after: EventId, accepts: (topic: string) => boolean, limit: number): ReplayResult {
    let complete = compareIds(after, this.floor) >= 0
    const found: HubEvent[] = []
    for (const [name, topic] of this.topics) {
      if (!accepts(name)) continue
      if (compareIds(topic.evictedThrough, after) > 0) complete = false
      const ring = topic.ring
      for (let i = ring.firstIndexWhere((event) => compareIds(event.position, after) > 0); i < ring.length; i++) {
        found.push(ring.at(i))
      }
    }
    found.sort((a, b) => compareIds(a.position, b.position))
    if (found.length > limit) return { events: found.slice(0, limit), complete: false }
    return { events: found, complete }
  }

  head(): EventId {
    return this.newest
  }

  stats(): { topics: number; events: number } {
    return { topics: this.topics.size, events: this.events }
  }

  close(): void {
    this.topics.clear()
    this.events = 0
  }

  private dropOldestTopic(): void {
    const oldest = this.topics.entries().next().value
    if (!oldest) return
    const [name, topic] = oldest
    this.topics.delete(name)
    this.events -= topic.ring.length
    const last = topic.ring.at(topic.ring.length - 1).position
    if (compareIds(last, this.floor) > 0) this.floor = last
  }
}

import type { HubEvent } from '../hub/event'
import { compareIds, type EventId, ZERO_ID } from '../hub/id'
import { Ring } from './ring'
import type { HistoryStore, ReplayResult } from './store'
import { Sweeper, sweepInterval } from './sweeper'

export interface MemoryHistoryOptions {
  /** Events kept per topic (the oldest are dropped first). */
  perTopic: number
  /** Topics kept; past it the least recently published topic's history is dropped. */
  maxTopics: number
  /** Positions older than this are unknown to the store (it did not exist yet): usually "now". */
  startedAt: EventId
  /** Events older than this many milliseconds are dropped by a background sweep (0 = keep forever). */
  ttlMs?: number
  /** Clock for the TTL, milliseconds since the epoch (tests pin it). */
  now?: () => number
}

/** Most events one TTL step drops before yielding to the event loop. */
const EXPIRE_STEP = 10_000

interface TopicHistory {
  readonly ring: Ring<HubEvent>
  /** The newest id this topic lost to the ring's capacity; a resume before it has a gap. */
  evictedThrough: EventId
}

/**
 * The default store: one ring per topic, in process memory, lost on restart. Memory is bounded by
 * perTopic × maxTopics events. With a TTL, expired events are dropped by a background sweep (so an
 * event may outlive its TTL by up to one sweep interval, never less).
 */
export class MemoryHistory implements HistoryStore {
  private readonly topics = new Map<string, TopicHistory>()
  /** Resume positions older than this cannot be served: the store started, or a whole topic was dropped, after them. */
  private floor: EventId
  private newest: EventId = ZERO_ID
  private events = 0
  private readonly sweeper: Sweeper | undefined

  constructor(private readonly options: MemoryHistoryOptions) {
    this.floor = options.startedAt
    const ttlMs = options.ttlMs ?? 0
    if (ttlMs > 0) this.sweeper = new Sweeper(sweepInterval(ttlMs), () => this.expire())
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

  /**
   * Drops events older than the TTL (a no-op without one), at most EXPIRE_STEP per call; returns
   * true when more may be waiting. Called by the background sweep; public so tests can drive it.
   */
  expire(): boolean {
    const ttlMs = this.options.ttlMs ?? 0
    if (ttlMs <= 0) return false
    const cutoff = (this.options.now ?? Date.now)() - ttlMs
    let dropped = 0
    for (const topic of this.topics.values()) {
      const ring = topic.ring
      while (ring.length > 0 && ring.at(0).time < cutoff) {
        if (dropped === EXPIRE_STEP) return true
        topic.evictedThrough = (ring.shift() as HubEvent).position
        this.events--
        dropped++
      }
    }
    return false
  }

  close(): void {
    this.sweeper?.stop()
    this.topics.clear()
    this.events = 0
  }

  private dropOldestTopic(): void {
    const oldest = this.topics.entries().next().value
    if (!oldest) return
    const [name, topic] = oldest
    this.topics.delete(name)
    this.events -= topic.ring.length
    // A topic emptied by the TTL still remembers the newest id it lost.
    const last = topic.ring.length > 0 ? topic.ring.at(topic.ring.length - 1).position : topic.evictedThrough
    if (compareIds(last, this.floor) > 0) this.floor = last
  }
}

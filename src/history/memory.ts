import type { HubEvent } from '../hub/event'
import { compareIds, type EventId, ZERO_ID } from '../hub/id'
import { IdHeap } from './id-heap'
import { drive, nextSlice, REPLAY_PAGE, ReplayWatch } from './replay'
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
  /** Events (or topics examined) per slice of a resume (default REPLAY_PAGE; tests make it small). */
  replayPage?: number
  /** Waited between two slices of a resume (default: the next turn, see nextSlice; tests change the store here). */
  replayPause?: () => Promise<void>
}

/** Most events one TTL step drops before yielding to the event loop. */
const EXPIRE_STEP = 10_000

interface TopicHistory {
  readonly name: string
  readonly ring: Ring<HubEvent>
  /** The newest id this topic lost to the ring's capacity; a resume before it has a gap. */
  evictedThrough: EventId
}

/** A topic in a resume's merge: the ring position of its next event to return, and that event's id. */
interface MergeSource {
  readonly topic: TopicHistory
  position: number
  key: EventId
}

/**
 * The default store: one ring per topic, in process memory, lost on restart. Memory is bounded by
 * perTopic × maxTopics events; a ring grows with its topic's use, so a topic holding one event
 * costs a few hundred bytes, not perTopic slots. With a TTL, expired events are dropped by a
 * background sweep (so an event may outlive its TTL by up to one sweep interval, never less).
 *
 * A resume merges the rings of the topics it wants (a binary search in each for the start, then
 * a heap by id), stopping at `limit + 1` events: O(k log n + replayed × log k) for k topics, with
 * no sort and nothing collected past the limit. It runs in slices of `replayPage` events or
 * topics and lets the event loop run between them; removals meanwhile are reported to it
 * (ReplayWatch), so its completeness stays exact.
 */
export class MemoryHistory implements HistoryStore {
  private readonly topics = new Map<string, TopicHistory>()
  /** Resume positions older than this cannot be served: the store started, or a whole topic was dropped, after them. */
  private floor: EventId
  private newest: EventId = ZERO_ID
  private events = 0
  private readonly sweeper: Sweeper | undefined
  /** Resumes paused between slices: told about every event removed meanwhile. */
  private readonly replays = new Set<ReplayWatch>()
  private readonly page: number
  private readonly pause: () => Promise<void>

  constructor(private readonly options: MemoryHistoryOptions) {
    this.floor = options.startedAt
    this.page = Math.max(1, options.replayPage ?? REPLAY_PAGE)
    this.pause = options.replayPause ?? nextSlice
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
        topic = { name: event.topic, ring: new Ring(this.options.perTopic), evictedThrough: ZERO_ID }
        if (this.topics.size >= this.options.maxTopics) this.dropOldestTopic()
      }
      this.topics.set(event.topic, topic)
      const evicted = topic.ring.push(event)
      if (evicted) this.removed(topic, evicted)
      else this.events++
      this.newest = event.position
    }
  }

  /**
   * Answers at once when the work fits one slice; otherwise returns a promise and lets the event
   * loop run between slices. Returns events up to the newest id held when called (later ones
   * reach the caller live); `topics`, when given, lists every topic `accepts` takes (exact
   * selectors), which are then looked up instead of testing each topic held.
   */
  since(after: EventId, accepts: (topic: string) => boolean, limit: number, topics?: readonly string[]): ReplayResult | Promise<ReplayResult> {
    if (compareIds(after, this.floor) < 0) return { events: [], complete: false }
    const bound = this.newest
    if (compareIds(after, bound) >= 0) return { events: [], complete: true }
    const watch = new ReplayWatch(after, bound, accepts)
    return drive(this.replay(watch, accepts, limit, topics), watch, this.replays, this.pause)
  }

  /** The newest id held, or the store's start position when it holds none yet (never before it). */
  head(): EventId {
    return compareIds(this.newest, this.floor) > 0 ? this.newest : this.floor
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
        this.removed(topic, ring.shift() as HubEvent)
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

  /** One resume, in slices (see `since`); yields between slices. */
  private *replay(watch: ReplayWatch, accepts: (topic: string) => boolean, limit: number, named: readonly string[] | undefined): Generator<void, ReplayResult, void> {
    const { after, bound } = watch
    const incomplete = (events: HubEvent[]): ReplayResult => ({ events, complete: false })
    let work = 0
    // The topics to look at, fixed now: a publish moves its topic to the end of the map, and a
    // topic dropped meanwhile keeps its ring intact for whoever still holds it.
    const candidates = named ? [...new Set(named)].flatMap((name) => this.topics.get(name) ?? []) : [...this.topics.values()]
    const heap = new IdHeap<MergeSource>()
    for (const topic of candidates) {
      if (++work % this.page === 0) {
        yield
        if (watch.lost) return incomplete([])
      }
      if (!named && !accepts(topic.name)) continue
      // It had already lost events the client missed: a gap.
      if (compareIds(watch.markAtStart(topic, topic.evictedThrough), after) > 0) return incomplete([])
      const ring = topic.ring
      const position = ring.first + ring.firstIndexWhere((event) => compareIds(event.position, after) > 0)
      if (position === ring.end) continue
      const key = ring.get(position).position
      if (compareIds(key, bound) <= 0) heap.push({ topic, position, key })
    }
    const events: HubEvent[] = []
    for (let source = heap.peek(); source; source = heap.peek()) {
      if (events.length === limit) return incomplete(events)
      const ring = source.topic.ring
      events.push(ring.get(source.position))
      watch.cursor = source.key
      source.position++
      const next = source.position < ring.end ? ring.get(source.position).position : undefined
      if (next && compareIds(next, bound) <= 0) {
        source.key = next
        heap.topChanged()
      } else {
        heap.pop()
      }
      if (++work % this.page === 0) {
        yield
        // A source whose next event was removed meanwhile has set `lost` (it was after the cursor).
        if (watch.lost) return incomplete(events)
      }
    }
    return { events, complete: true }
  }

  /** Bookkeeping for an event retention or the TTL removed from `topic`'s ring. */
  private removed(topic: TopicHistory, event: HubEvent): void {
    const before = topic.evictedThrough
    topic.evictedThrough = event.position
    for (const watch of this.replays) watch.removed(topic, topic.name, before, event.position)
  }
}

import type { Delivery } from './delivery'
import type { Selector } from './topics'

/** Anything that receives events by selector: an SSE subscription, a WebSocket's pattern subscriptions. */
export interface Subscriber {
  readonly selectors: readonly Selector[]
  /** Called synchronously during delivery; must not throw and must not block. */
  receive(delivery: Delivery): void
}

interface Entry {
  readonly subscriber: Subscriber
  /** The last delivery number handed to this subscriber: one event is delivered once even when several of its selectors match. */
  lastMark: number
}

interface PatternEntry {
  readonly selector: Selector
  readonly entries: Set<Entry>
}

/** Caps the per-topic cache of matching patterns; it is rebuilt on demand, so clearing is always safe. */
const MATCH_CACHE_LIMIT = 10_000

/**
 * Topic → subscribers. Concrete selectors are a map lookup; patterns are tested once per distinct
 * pattern (not per subscriber), and the result is cached per topic until the set of patterns changes.
 */
export class Registry {
  private readonly exact = new Map<string, Set<Entry>>()
  private readonly patterns = new Map<string, PatternEntry>()
  private readonly entries = new Map<Subscriber, Entry>()
  private readonly matchCache = new Map<string, PatternEntry[]>()
  private mark = 0

  /** Number of registered subscribers. */
  get size(): number {
    return this.entries.size
  }

  add(subscriber: Subscriber): void {
    if (this.entries.has(subscriber)) this.remove(subscriber)
    const entry: Entry = { subscriber, lastMark: 0 }
    this.entries.set(subscriber, entry)
    for (const selector of subscriber.selectors) {
      if (!selector.isPattern) {
        let set = this.exact.get(selector.source)
        if (!set) this.exact.set(selector.source, (set = new Set()))
        set.add(entry)
        continue
      }
      let pattern = this.patterns.get(selector.source)
      if (!pattern) {
        pattern = { selector, entries: new Set() }
        this.patterns.set(selector.source, pattern)
        this.matchCache.clear()
      }
      pattern.entries.add(entry)
    }
  }

  remove(subscriber: Subscriber): void {
    const entry = this.entries.get(subscriber)
    if (!entry) return
    this.entries.delete(subscriber)
    for (const selector of subscriber.selectors) {
      if (!selector.isPattern) {
        const set = this.exact.get(selector.source)
        if (set?.delete(entry) && set.size === 0) this.exact.delete(selector.source)
        continue
      }
      const pattern = this.patterns.get(selector.source)
      if (pattern?.entries.delete(entry) && pattern.entries.size === 0) {
        this.patterns.delete(selector.source)
        this.matchCache.clear()
      }
    }
  }

  /** Hands the delivery to every subscriber with a selector matching its topic, once each. */
  deliver(delivery: Delivery): void {
    const topic = delivery.event.topic
    const mark = ++this.mark
    const exact = this.exact.get(topic)
    if (exact) for (const entry of exact) this.hand(entry, mark, delivery)
    if (this.patterns.size === 0) return
    for (const pattern of this.patternsFor(topic)) {
      for (const entry of pattern.entries) this.hand(entry, mark, delivery)
    }
  }

  private hand(entry: Entry, mark: number, delivery: Delivery): void {
    if (entry.lastMark === mark) return
    entry.lastMark = mark
    entry.subscriber.receive(delivery)
  }

  private patternsFor(topic: string): PatternEntry[] {
    let list = this.matchCache.get(topic)
    if (list) return list
    list = []
    for (const pattern of this.patterns.values()) if (pattern.selector.matches(topic)) list.push(pattern)
    if (this.matchCache.size >= MATCH_CACHE_LIMIT) this.matchCache.clear()
    this.matchCache.set(topic, list)
    return list
  }
}

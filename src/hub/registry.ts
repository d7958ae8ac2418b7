import type { Delivery } from './delivery'
import type { HubEvent } from './event'
import { PatternIndex } from './pattern-index'
import type { Selector } from './topics'

/**
 * Anything that receives events by selector: an SSE subscription, a WebSocket connection, the
 * WebSocket native fan-out, a catch-up buffer, an in-process observer.
 */
export interface Subscriber {
  /** Called synchronously during delivery; must not throw and must not block. */
  receive(delivery: Delivery): void
  /**
   * The subscriber's principal's check for private events (principal.ts `visibilityOf`): a private
   * event it says no to is not handed over, whichever selector matched. Called only for private
   * events; absent, the subscriber gets them all. Read once, when the subscriber is first added.
   */
  readonly sees?: ((event: HubEvent) => boolean) | undefined
  /** Herald's own (the native fan-out, catch-up buffers, observers), not a client: left out of `size`. */
  readonly internal?: boolean
}

interface Entry {
  readonly subscriber: Subscriber
  readonly sees: ((event: HubEvent) => boolean) | undefined
  /** This subscriber's selectors, by source. */
  readonly selectors: Map<string, Selector>
  /** The last delivery number handed to this subscriber: one event is delivered once even when several of its selectors match. */
  lastMark: number
}

/**
 * The subscribers holding one selector: the entry itself while there is one (most patterns are
 * held by one subscriber, and a one-element Set costs ~300 bytes), a Set from the second on.
 */
type Holders = Entry | Set<Entry>

/** `holders` plus `entry` (the same object, or a new one). */
function withHolder(holders: Holders | undefined, entry: Entry): Holders {
  if (holders === undefined || holders === entry) return entry
  if (holders instanceof Set) return holders.add(entry)
  return new Set([holders, entry])
}

/** `holders` minus `entry`: undefined when none is left. */
function withoutHolder(holders: Holders | undefined, entry: Entry): Holders | undefined {
  if (holders === undefined || holders === entry) return undefined
  if (!(holders instanceof Set)) return holders
  holders.delete(entry)
  if (holders.size > 1) return holders
  const [only] = holders
  return only
}

function holds(holders: Holders, entry: Entry): boolean {
  return holders === entry || (holders instanceof Set && holders.has(entry))
}

/**
 * Topic → subscribers, for every transport. Concrete selectors are a map lookup; patterns live in
 * a segment trie (PatternIndex), so delivering an event costs what matches its topic, not the
 * number of patterns held. A subscriber's selectors are added and removed one by one: changing
 * a subscription costs what changes, not what the subscriber already holds.
 */
export class Registry {
  private readonly exact = new Map<string, Holders>()
  private readonly patterns = new PatternIndex<Holders>()
  private readonly entries = new Map<Subscriber, Entry>()
  /** Entries of `internal` subscribers. */
  private internals = 0
  private registrations = 0
  private mark = 0
  /** The delivery being handed out and its mark, for `handPattern` (one function, not a closure per event). */
  private current: Delivery | undefined
  private currentMark = 0
  private readonly handPattern = (holders: Holders): void => handAll(holders, this.currentMark, this.current as Delivery)

  /** Number of client subscribers (not `internal`) holding at least one selector. */
  get size(): number {
    return this.entries.size - this.internals
  }

  /** Selectors held, summed over subscribers (a selector held by two subscribers counts twice). */
  get selectorCount(): number {
    return this.registrations
  }

  /** Distinct patterns held. */
  get patternCount(): number {
    return this.patterns.size
  }

  /**
   * Adds `selectors` to what `subscriber` receives; ones it already holds are skipped. Returns the
   * ones added. Costs the selectors given, not the ones already held.
   */
  add(subscriber: Subscriber, selectors: Iterable<Selector>): Selector[] {
    let entry = this.entries.get(subscriber)
    const added: Selector[] = []
    for (const selector of selectors) {
      if (entry?.selectors.has(selector.source)) continue
      if (!entry) {
        this.entries.set(subscriber, (entry = { subscriber, sees: subscriber.sees, selectors: new Map(), lastMark: 0 }))
        if (subscriber.internal) this.internals++
      }
      entry.selectors.set(selector.source, selector)
      const map = selector.isPattern ? this.patterns : this.exact
      map.set(selector.source, withHolder(map.get(selector.source), entry))
      added.push(selector)
    }
    this.registrations += added.length
    return added
  }

  /**
   * Removes `selectors` (by source) from what `subscriber` receives, or all of them when omitted;
   * sources it does not hold are skipped. Returns how many were removed. A subscriber left with
   * none is forgotten.
   */
  remove(subscriber: Subscriber, selectors?: Iterable<Selector | string>): number {
    const entry = this.entries.get(subscriber)
    if (!entry) return 0
    let removed = 0
    for (const item of selectors ?? [...entry.selectors.keys()]) {
      const source = typeof item === 'string' ? item : item.source
      const selector = entry.selectors.get(source)
      if (!selector) continue
      entry.selectors.delete(source)
      removed++
      const map = selector.isPattern ? this.patterns : this.exact
      const left = withoutHolder(map.get(source), entry)
      if (left === undefined) map.delete(source)
      else map.set(source, left)
    }
    if (entry.selectors.size === 0) {
      this.entries.delete(subscriber)
      if (subscriber.internal) this.internals--
    }
    this.registrations -= removed
    return removed
  }

  /** True when one of `subscriber`'s selectors matches `topic` (a concrete topic). */
  covers(subscriber: Subscriber, topic: string): boolean {
    const entry = this.entries.get(subscriber)
    if (!entry) return false
    if (entry.selectors.has(topic)) return true
    return this.patterns.match(topic, (holders) => holds(holders, entry))
  }

  /** Hands the delivery to every subscriber with a selector matching its topic, once each (a private event: only those that `sees` it). */
  deliver(delivery: Delivery): void {
    const topic = delivery.event.topic
    const mark = ++this.mark
    const exact = this.exact.get(topic)
    if (exact) handAll(exact, mark, delivery)
    if (this.patterns.size === 0) return
    // Should a receive ever deliver again (re-entrancy), restore what this call was handing out.
    const outer = this.current
    const outerMark = this.currentMark
    this.current = delivery
    this.currentMark = mark
    try {
      this.patterns.match(topic, this.handPattern)
    } finally {
      this.current = outer
      this.currentMark = outerMark
    }
  }
}

function handAll(holders: Holders, mark: number, delivery: Delivery): void {
  if (holders instanceof Set) for (const entry of holders) hand(entry, mark, delivery)
  else hand(holders, mark, delivery)
}

function hand(entry: Entry, mark: number, delivery: Delivery): void {
  if (entry.lastMark === mark) return
  entry.lastMark = mark
  // Only private events are checked: an accepted subscribe is the permission for the rest.
  if (entry.sees !== undefined && delivery.event.private === true && !entry.sees(delivery.event)) return
  entry.subscriber.receive(delivery)
}

import type { Broker } from '../broker/broker'
import type { HistoryStore } from '../history/store'
import { Delivery } from './delivery'
import { HubError } from './errors'
import { type HubEvent, type PublishInput, validatePublish } from './event'
import { compareIds, type EventId, formatEventId, IdGenerator, parseEventId, ZERO_ID } from './id'
import { SelectorQuota } from './quota'
import { Registry, type Subscriber } from './registry'
import { Subscription } from './subscription'
import { parseSelector, type Selector } from './topics'

export interface HubOptions {
  history: HistoryStore
  broker: Broker
  /** Largest `data`, in UTF-8 bytes, a publish may carry (0 = no limit). */
  maxDataBytes: number
  /** Deliveries an SSE subscription may hold unread before it is ended with `overflow`. */
  queueLimit: number
  /** Most events one resume replays; a client that missed more gets `reset` instead. */
  maxReplay: number
  /** Most selectors one subscription may name. */
  maxSelectors: number
  /** Most subscriber connections (SSE streams + WebSockets) open at once; 0 or absent = no limit. */
  maxConnections?: number
  /** Most topics and patterns subscribed at once, summed over all connections (see `quota`); 0 or absent = no limit. */
  maxTotalSelectors?: number
  /** Clock for event ids (tests pin it). */
  now?: () => number
  /** How far from `now` a publisher-chosen id's milliseconds may be, either way (default 60 s; see id.ts). */
  maxIdSkewMs?: number
  /**
   * When the history was opened (the `startedAt` it was given). While the hub has issued no id and
   * its history holds none, `head` is this position, which the store serves with nothing missed,
   * rather than `0-0`, which it must answer with a reset (older than its start). Absent = ZERO_ID.
   */
  startedAt?: EventId
}

export interface SubscribeOptions {
  /** Resume position: events after it are replayed first. Malformed → `invalid_last_event_id`. */
  lastEventId?: string
  /** Ends the subscription when aborted (pass the request's signal). */
  signal?: AbortSignal
}

/** What /stats shows of the hub: counters since start and gauges of what is alive now. */
export interface HubStats {
  published: number
  subscribers: number
  subscriptions: number
  head: string
  history: { topics: number; events: number }
  /** Subscriber connections open now (SSE streams + WebSockets), as counted for maxConnections. */
  connections: number
  /** Deliveries waiting unread in SSE subscription queues, summed (bounded by queueLimit each). */
  queued: number
  /** Topics and patterns subscribed now, summed over SSE subscriptions and WebSockets (as counted for maxTotalSelectors). */
  selectors: number
  /** Subscribers cut since start because they read too slowly, by transport (`sse` is counted here; others report theirs). */
  slowConsumers: Record<string, number>
  /** Resources alive now, for leak checks: SSE abort listeners, plus what transports report (timers…). */
  gauges: Record<string, number>
}

/** Called with each delivery after subscribers got it: the WebSocket transport's native fan-out. */
export type Fanout = (delivery: Delivery) => void

/**
 * The topic registry and the one path every event takes: validate → id → broker → (back from the
 * broker) history → subscribers and fan-outs. Knows nothing of HTTP, WebSockets or Elysia.
 */
export class Hub {
  private readonly registry = new Registry()
  /**
   * Room for subscribed selectors under maxTotalSelectors. SSE subscriptions take theirs in
   * `subscribe`; a WebSocket takes room for each selector it adds and gives it back when it drops it.
   */
  readonly quota: SelectorQuota
  private readonly subscriptions = new Set<Subscription>()
  private readonly fanouts = new Set<Fanout>()
  private readonly ids: IdGenerator
  private readonly startedAt: EventId | undefined
  private published = 0
  /** Subscriber connections open now (SSE streams + WebSockets), for maxConnections. */
  private connections = 0
  /** SSE subscriptions ended with `overflow`. */
  private overflowed = 0
  /** Subscriptions whose abort listener is still attached (created, not yet ended). */
  private abortListeners = 0
  private readonly reporters = { slowConsumers: new Map<string, () => number>(), gauges: new Map<string, () => number>() }
  /** Deliveries made so far; numbers each Delivery (see Delivery.sequence). */
  private deliveries = 0
  private closed = false

  constructor(private readonly options: HubOptions) {
    this.ids = new IdGenerator(options.now, options.maxIdSkewMs)
    this.quota = new SelectorQuota(options.maxTotalSelectors ?? 0)
    this.ids.advanceTo(options.history.head())
    // A store holding ids already has a head that resumes; only an empty one needs its start.
    if (compareIds(this.ids.current, ZERO_ID) === 0) this.startedAt = options.startedAt
    options.broker.onDeliver((events) => this.deliver(events))
  }

  /** The newest id the hub has assigned or delivered (before the first: when its empty history started, see HubOptions.startedAt). */
  get head(): string {
    return formatEventId(this.position)
  }

  /** A generated id; always after `startedAt`, so a head handed out before the first event is no event's id. */
  private nextId(): EventId {
    if (this.startedAt) this.ids.advanceTo(this.startedAt)
    return this.ids.next()
  }

  /** The newest id issued, or the store's start before there is one (see HubOptions.startedAt). */
  private get position(): EventId {
    const current = this.ids.current
    return this.startedAt && compareIds(this.startedAt, current) > 0 ? this.startedAt : current
  }

  /**
   * Publishes a batch atomically: every input is validated and given an id before any is sent,
   * so one bad input rejects the whole batch and publishes nothing. Resolves with the stored
   * events, in order, once the broker has accepted them.
   */
  async publish(inputs: readonly PublishInput[]): Promise<HubEvent[]> {
    if (this.closed) throw new HubError('shutting_down', 'Herald is shutting down; publish again after it restarts')
    const validated = inputs.map((input) => validatePublish(input, this.options.maxDataBytes))
    const before = this.ids.current
    const time = Date.now()
    let events: HubEvent[]
    try {
      events = validated.map(({ topic, event, data, json, id }) => {
        const position = id ? this.ids.accept(id) : this.nextId()
        return { id: formatEventId(position), position, topic, event, data, json, time }
      })
    } catch (error) {
      this.ids.rollback(before)
      throw error
    }
    if (events.length > 0) await this.options.broker.publish(events)
    return events
  }

  /** Parses client selectors (a string or a list), enforcing `maxSelectors`; at least one is required. */
  parseSelectors(list: unknown): Selector[] {
    const items = typeof list === 'string' ? [list] : list
    if (!Array.isArray(items) || items.length === 0) {
      throw new HubError('invalid_selector', 'name at least one topic (a string or a list of strings)')
    }
    if (items.length > this.options.maxSelectors) {
      throw new HubError('too_many_topics', `a subscription may name at most ${this.options.maxSelectors} topics`)
    }
    return [...new Set(items)].map(parseSelector)
  }

  /**
   * Throws `too_many_connections` when `maxConnections` subscriber connections are open. Transports
   * call it before accepting one (SSE in `subscribe`, WebSocket before the upgrade).
   */
  checkCapacity(): void {
    const max = this.options.maxConnections ?? 0
    if (max > 0 && this.connections >= max) {
      throw new HubError('too_many_connections', `Herald is at its limit of ${max} connections; try again later`)
    }
  }

  /**
   * Counts one subscriber connection until the returned release is called (idempotent). Does not
   * check the limit: concurrent WebSocket upgrades checked in the same instant may pass it by a few.
   */
  admit(): () => void {
    this.connections++
    let released = false
    return () => {
      if (released) return
      released = true
      this.connections--
    }
  }

  /** Parses a resume position; undefined and '' mean "no resume". */
  parseLastEventId(text: string | null | undefined): EventId | undefined {
    if (text === undefined || text === null || text === '') return undefined
    return parseEventId(text, 'invalid_last_event_id')
  }

  /**
   * A pull subscription (SSE). With a resume position, the events missed come first, then live
   * ones, with no gap and no duplicate; `resetTo` is set when the position could not be served.
   */
  async subscribe(selectors: readonly Selector[], options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.closed) throw new HubError('shutting_down', 'Herald is shutting down; reconnect after it restarts')
    const after = this.parseLastEventId(options.lastEventId)
    this.checkCapacity()
    this.quota.take(selectors.length)
    const release = this.admit()
    this.abortListeners++
    const subscription = new Subscription(selectors, this.options.queueLimit, options.signal, (ended) => {
      release()
      this.quota.give(selectors.length)
      this.abortListeners--
      if (ended.ended === 'overflow') this.overflowed++
      this.registry.remove(ended)
      this.subscriptions.delete(ended)
    })
    try {
      await this.catchUp(selectors, after, (missed, resetTo) => {
        if (subscription.ended) return
        subscription.resetTo = resetTo
        subscription.replay(missed)
        this.subscriptions.add(subscription)
        this.registry.add(subscription, selectors)
      })
    } catch (error) {
      // A failed history read must not leave the abort listener behind.
      subscription.end('aborted')
      throw error
    }
    return subscription
  }

  /**
   * The resume algorithm, for any transport: listen first (into a buffer), read history after
   * `after`, then call `goLive` synchronously with history + buffered events (deduplicated) so the
   * caller can attach its live path with nothing slipping between. `resetTo` (the head id at the
   * time of the call) is given when the history cannot prove it holds everything after `after`:
   * the position is too old, unknown (newer than any id), or more than `maxReplay` events back.
   * Without `after`, nothing is replayed.
   */
  async catchUp(
    selectors: readonly Selector[],
    after: EventId | undefined,
    goLive: (missed: HubEvent[], resetTo: string | undefined) => void,
  ): Promise<void> {
    if (after === undefined) {
      goLive([], undefined)
      return
    }
    const head = this.position
    const buffered: HubEvent[] = []
    const listener: Subscriber = { receive: (delivery) => buffered.push(delivery.event) }
    this.registry.add(listener, selectors)
    try {
      const accepts = (topic: string) => selectors.some((selector) => selector.matches(topic))
      // Without a pattern the selectors are the topics: the store looks them up instead of testing all it holds.
      const named = selectors.some((selector) => selector.isPattern) ? undefined : selectors.map((selector) => selector.source)
      const found = compareIds(after, head) > 0 ? { events: [], complete: false } : await this.options.history.since(after, accepts, this.options.maxReplay, named)
      this.registry.remove(listener)
      const missed = found.complete ? found.events : []
      const last = missed.at(-1)?.position ?? (found.complete ? after : head)
      for (const event of buffered) if (compareIds(event.position, last) > 0) missed.push(event)
      goLive(missed, found.complete ? undefined : formatEventId(head))
    } finally {
      this.registry.remove(listener)
    }
  }

  /**
   * Adds selectors to a live subscriber (the WebSocket transport's patterns and catch-up buffers);
   * ones it already holds are skipped. Returns the ones added. Costs what is added, not what the
   * subscriber holds. Does not touch `quota`: the caller accounts for what it holds.
   */
  attach(subscriber: Subscriber, selectors: Iterable<Selector>): Selector[] {
    return this.registry.add(subscriber, selectors)
  }

  /** Removes selectors (by source) from a subscriber, or all of them when omitted; returns how many went. */
  detach(subscriber: Subscriber, selectors?: Iterable<Selector | string>): number {
    return this.registry.remove(subscriber, selectors)
  }

  /** True when one of the subscriber's attached selectors matches `topic`; costs what matches the topic, not what is held. */
  covers(subscriber: Subscriber, topic: string): boolean {
    return this.registry.covers(subscriber, topic)
  }

  /** Registers a fan-out called once per delivered event; returns its remover. */
  addFanout(fanout: Fanout): () => void {
    this.fanouts.add(fanout)
    return () => this.fanouts.delete(fanout)
  }

  /** Live SSE-style subscriptions, for keep-alive timers and shutdown. */
  liveSubscriptions(): ReadonlySet<Subscription> {
    return this.subscriptions
  }

  /**
   * Lets a transport add a counter of slow consumers it cut (`slowConsumers`) or a gauge of what it
   * holds alive (`gauges`, e.g. timers) to `stats()`, so /stats shows everything in one place.
   * Returns the remover.
   */
  report(kind: 'slowConsumers' | 'gauges', name: string, read: () => number): () => void {
    this.reporters[kind].set(name, read)
    return () => this.reporters[kind].delete(name)
  }

  stats(): HubStats {
    let queued = 0
    for (const subscription of this.subscriptions) queued += subscription.queued
    const read = (reporters: Map<string, () => number>) => Object.fromEntries([...reporters].map(([name, value]) => [name, value()]))
    return {
      published: this.published,
      subscribers: this.registry.size,
      subscriptions: this.subscriptions.size,
      head: this.head,
      history: this.options.history.stats(),
      connections: this.connections,
      queued,
      selectors: this.quota.held,
      slowConsumers: { sse: this.overflowed, ...read(this.reporters.slowConsumers) },
      gauges: { sseAbortListeners: this.abortListeners, ...read(this.reporters.gauges) },
    }
  }

  /**
   * Stops accepting publishes and ends every subscription; each still hands out what was queued
   * (events already acknowledged to their publishers) before it ends. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const subscription of [...this.subscriptions]) subscription.end('closed')
    // Synchronous stores close before this returns its promise: an app's onStop hooks are not
    // awaited (Elysia 1.4.30), and a restarted server must be able to open the same file at once.
    const broker = this.options.broker.close()
    if (broker) await broker
    const history = this.options.history.close()
    if (history) await history
  }

  private deliver(events: readonly HubEvent[]): void {
    const last = events.at(-1)
    if (last) this.ids.advanceTo(last.position)
    // A synchronous store (memory, sqlite) has stored the batch when append returns: before any
    // subscriber sees it and, since the memory broker delivers inside publish, before the publish
    // is acknowledged. If it throws (store_unavailable), nothing is delivered and the publish fails.
    void this.options.history.append(events)
    for (const event of events) {
      this.published++
      const delivery = new Delivery(event, ++this.deliveries)
      this.registry.deliver(delivery)
      for (const fanout of this.fanouts) fanout(delivery)
    }
  }
}


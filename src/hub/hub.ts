import type { Broker } from './broker'
import { Delivery } from './delivery'
import { HubError } from './errors'
import { type HubEvent, type PublishInput, validatePublish } from './event'
import type { HistoryStore } from './history'
import { compareIds, type EventId, formatEventId, parseEventId } from './id'
import { type Principal, SERVER, visibilityOf } from './principal'
import { SelectorQuota } from './quota'
import { Registry, type Subscriber } from './registry'
import { Subscription } from './subscription'
import { parseSelector, type Selector } from './topics'

export interface HubOptions {
  /** Where resumes read from (the broker writes to it). Closed by `close`. */
  history: HistoryStore
  /** Gives published batches their ids, keeps them (in `history`) and announces them; see hub/broker.ts. */
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
  /** Selectors (topics or patterns) only the server's own code (the SERVER principal) may publish to; anyone else gets `forbidden_topic`. */
  serverTopics?: readonly string[]
}

export interface SubscribeOptions {
  /** Resume position: events after it are replayed first. Malformed → `invalid_last_event_id`. */
  lastEventId?: string
  /** Ends the subscription when aborted (pass the request's signal). */
  signal?: AbortSignal
  /** Who subscribes: every selector must be allowed (else `forbidden_topic`), and only the private events it may see are delivered. Default SERVER (code). */
  principal?: Principal
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

/**
 * The topic registry and the one path every event takes: validate and check the principal → the
 * broker (ids, history, announcement) → back from the broker's announcement, the registry's
 * subscribers (SSE subscriptions, WebSocket connections and their native fan-out, observers).
 * Knows nothing of HTTP, WebSockets or Elysia.
 */
export class Hub {
  private readonly registry = new Registry()
  /**
   * Room for subscribed selectors under maxTotalSelectors. SSE subscriptions take theirs in
   * `subscribe`; a WebSocket takes room for each selector it adds and gives it back when it drops it.
   */
  readonly quota: SelectorQuota
  private readonly subscriptions = new Set<Subscription>()
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
  /** `serverTopics`, parsed. */
  private readonly serverOwned: readonly Selector[]

  constructor(private readonly options: HubOptions) {
    this.quota = new SelectorQuota(options.maxTotalSelectors ?? 0)
    this.serverOwned = (options.serverTopics ?? []).map(parseSelector)
    options.broker.onDeliver((events) => this.deliver(events))
  }

  /** The newest id delivered (or held by the store at start), from the broker. */
  get head(): string {
    return formatEventId(this.options.broker.head())
  }

  /**
   * Publishes a batch atomically: every input is validated and `principal` must be allowed to
   * publish to every topic (`forbidden_topic`) before any is sent, so one bad input publishes nothing.
   * Topics matching `serverTopics` are refused to every principal but SERVER (the default: code).
   * Resolves with the events, in order, once the broker has kept them and they are queued to every
   * subscriber here; rejects, having delivered nothing, when it could not keep them.
   */
  async publish(inputs: readonly PublishInput[], principal: Principal = SERVER): Promise<HubEvent[]> {
    if (this.closed) throw new HubError('shutting_down', 'Herald is shutting down; publish again after it restarts')
    const validated = inputs.map((input) => validatePublish(input, this.options.maxDataBytes))
    for (const { topic } of validated) {
      if (principal !== SERVER && this.isServerTopic(topic)) {
        throw new HubError('forbidden_topic', `${JSON.stringify(topic)} is written only by the server itself; nothing in this batch was published`)
      }
      if (!principal.mayPublish(topic)) throw new HubError('forbidden_topic', `you may not publish to ${JSON.stringify(topic)}; nothing in this batch was published`)
    }
    if (validated.length === 0) return []
    return await this.options.broker.publish(validated)
  }

  /** True when `topic` matches one of `serverTopics` (only the SERVER principal may publish there). */
  isServerTopic(topic: string): boolean {
    for (const selector of this.serverOwned) if (selector.matches(topic)) return true
    return false
  }

  /** Throws `forbidden_topic` unless `principal` may subscribe with every one of `selectors`. */
  checkSubscribe(selectors: readonly Selector[], principal: Principal): void {
    for (const selector of selectors) {
      if (!principal.maySubscribe(selector)) throw new HubError('forbidden_topic', `you may not subscribe to ${JSON.stringify(selector.source)}`)
    }
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
    const principal = options.principal ?? SERVER
    this.checkSubscribe(selectors, principal)
    this.checkCapacity()
    this.quota.take(selectors.length)
    const release = this.admit()
    this.abortListeners++
    const subscription = new Subscription(selectors, this.options.queueLimit, options.signal, visibilityOf(principal), (ended) => {
      release()
      this.quota.give(selectors.length)
      this.abortListeners--
      if (ended.ended === 'overflow') this.overflowed++
      this.registry.remove(ended)
      this.subscriptions.delete(ended)
    })
    try {
      await this.catchUp(
        selectors,
        after,
        (missed, resetTo) => {
          if (subscription.ended) return
          subscription.resetTo = resetTo
          if (after === undefined) subscription.startedAfter = this.head
          subscription.replay(missed)
          this.subscriptions.add(subscription)
          this.registry.add(subscription, selectors)
        },
        principal,
      )
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
   * Without `after`, nothing is replayed. Throws `forbidden_topic` unless `principal` may subscribe with
   * every selector; of the private events, only those it may see are replayed (the live path
   * filters the same way through the subscriber's `sees`, which the caller sets with `visibilityOf`).
   */
  async catchUp(
    selectors: readonly Selector[],
    after: EventId | undefined,
    goLive: (missed: HubEvent[], resetTo: string | undefined) => void,
    principal: Principal = SERVER,
  ): Promise<void> {
    this.checkSubscribe(selectors, principal)
    if (after === undefined) {
      goLive([], undefined)
      return
    }
    // A position another node already sent may be a moment ahead of this one: wait for it, briefly.
    if (compareIds(after, this.options.broker.head()) > 0) await this.options.broker.reach?.(after)
    const head = this.options.broker.head()
    const buffered: HubEvent[] = []
    const listener: Subscriber = { receive: (delivery) => buffered.push(delivery.event), sees: visibilityOf(principal), internal: true }
    this.registry.add(listener, selectors)
    try {
      const accepts = (topic: string) => selectors.some((selector) => selector.matches(topic))
      // Without a pattern the selectors are the topics: the store looks them up instead of testing all it holds.
      const named = selectors.some((selector) => selector.isPattern) ? undefined : selectors.map((selector) => selector.source)
      const found = compareIds(after, head) > 0 ? { events: [], complete: false } : await this.options.history.since(after, accepts, this.options.maxReplay, named)
      this.registry.remove(listener)
      let read = found.complete ? found.events : []
      // An async store may already hold events the broker has not announced yet: they come live
      // after goLive, so replaying them too would send them twice.
      const announced = this.options.broker.head()
      const newest = read.at(-1)
      if (newest && compareIds(newest.position, announced) > 0) read = read.filter((event) => compareIds(event.position, announced) <= 0)
      // Replay is filtered like live delivery (only private events are asked about); `last` is the newest id read, seen or not.
      const missed = principal.seesEverything ? read : read.filter((event) => event.private !== true || principal.maySee(event))
      const last = found.complete ? (read.at(-1)?.position ?? after) : head
      for (const event of buffered) if (compareIds(event.position, last) > 0) missed.push(event)
      goLive(missed, found.complete ? undefined : formatEventId(head))
    } finally {
      this.registry.remove(listener)
    }
  }

  /**
   * Adds selectors to a live subscriber (a WebSocket connection, its catch-up buffer, the native
   * fan-out); ones it already holds are skipped. Returns the ones added. Costs what is added, not
   * what the subscriber holds. Does not touch `quota`: the caller accounts for what it holds, and
   * checks the principal (`checkSubscribe`, or `catchUp`) and sets `sees` (`visibilityOf`) itself.
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

  /**
   * Calls `receive` with every event on `selectors` (topics or patterns, parsed), as a registry
   * subscriber that sees everything and is not a client (not counted in `stats().subscribers`):
   * for in-process observers such as the demos' server side. Returns the remover.
   */
  watch(selectors: readonly string[], receive: (delivery: Delivery) => void): () => void {
    const observer: Subscriber = { receive, internal: true }
    this.registry.add(observer, selectors.map(parseSelector))
    return () => this.registry.remove(observer)
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
    // Publishes already accepted are kept and delivered first, so their subscribers get them.
    // Synchronous parts run before this returns its promise: an app's onStop hooks are not
    // awaited (Elysia 1.4.30), and a restarted server must be able to open the same file at once.
    const broker = this.options.broker.close()
    if (broker) await broker
    for (const subscription of [...this.subscriptions]) subscription.end('closed')
    const history = this.options.history.close()
    if (history) await history
  }

  /** The broker's announcement: the only way events reach subscribers (already kept, in id order). */
  private deliver(events: readonly HubEvent[]): void {
    for (const event of events) {
      this.published++
      this.registry.deliver(new Delivery(event, ++this.deliveries))
    }
  }
}


import type { ServerWebSocket } from 'bun'
import type { Delivery } from '../hub/delivery'
import type { HubEvent } from '../hub/event'
import { HubError } from '../hub/errors'
import type { Hub } from '../hub/hub'
import type { Principal } from '../hub/principal'
import type { Subscriber } from '../hub/registry'
import type { Selector } from '../hub/topics'
import { wsEventFrame } from './frames'
import type { NativeFanout } from './ws-native'
import { TokenBucket } from './rate-limit'

/** Limits one connection works within (from WsOptions). */
export interface ConnectionLimits {
  /** Bun's backpressureLimit: past it Bun drops the send and closes the socket. */
  backpressureBytes: number
  /** Events a catching-up connection may have waiting (beyond its replay) before it is cut as too slow. */
  queueSize: number
  /** Messages per second the client may send (0 = no limit). */
  messageRate: number
  /** Most topics and patterns the socket may hold at once, over all its subscribe messages. */
  maxTopics: number
}

/** Close code for a client cut because it read too slowly (1013: try again later — resume from your last id). */
export const TOO_SLOW_CLOSE = 1013

/**
 * Events replayed to a resuming client, handed to Bun only as its send buffer drains. While it
 * is not empty, live events for the topics being caught up queue behind it (`listener`), and the
 * connection joins those topics natively only once it is empty, in one synchronous step.
 */
interface CatchUp {
  readonly selectors: readonly Selector[]
  frames: string[]
  next: number
  readonly limit: number
  detach: () => void
  done: () => void
}

/**
 * One WebSocket's state. Every event reaches it through the hub's registry, by one of two
 * subscribers: the connection itself (its patterns, added and removed one by one as the client
 * changes them), and for its concrete topics the transport's NativeFanout, which Bun turns into
 * one `server.publish` per event (`ws.subscribe` makes the socket a native subscriber). The
 * connection skips topics it gets natively, so an event matching both a topic and a pattern
 * arrives once. Whatever its principal, a connection's topics are native: only private events are
 * checked (by the fan-out per member, and by the registry through `sees` for its patterns), and
 * both read the principal at delivery time, so a refreshed token applies at once.
 *
 * Everything it holds (topics and patterns, live or still catching up) counts against
 * `limits.maxTopics` and the hub's quota; room is taken before a subscribe starts (`hold`) and
 * given back on unsubscribe and close.
 *
 * Slow consumers: Bun closes a socket whose unsent bytes pass backpressureLimit and reports only
 * code 1006, as for a client that vanished. What is observable is the moment it happens: a send
 * (or server.publish) answers 0, "dropped", while the socket holds more than the limit. `noteSend`
 * and `checkCut` look at that moment and set `cut`, so the close can be counted as a slow consumer.
 */
export class Connection implements Subscriber {
  /** True once the connection was cut for reading too slowly (by Bun's backpressure limit, or by us). */
  cut = false
  /** The native fan-out this connection's topics join. */
  private readonly native: NativeFanout<Connection>
  /** Every selector the socket holds (live or catching up), by source. */
  private readonly held = new Map<string, Selector>()
  /** Set by `close`: a subscribe still queued behind a catch-up must not take room any more. */
  private closed = false
  private catchUp: CatchUp | undefined
  private idle: Promise<void> = Promise.resolve()
  /** The client's message allowance. */
  readonly rate: TokenBucket
  /** Frees this connection's place under maxConnections. */
  private readonly release: () => void

  /**
   * @param principal who is connected: checked by the hub on every subscribe and publish, and its
   *   `maySee` filters the private events this socket receives (live and replayed). The WebSocket
   *   transport replaces it when the client authenticates or refreshes its token (ws-auth.ts).
   * @param native the transport's native fan-out, which this connection's topics join
   */
  constructor(
    private readonly socket: ServerWebSocket<unknown>,
    private readonly hub: Hub,
    private readonly limits: ConnectionLimits,
    public principal: Principal,
    native: NativeFanout<Connection>,
  ) {
    this.rate = new TokenBucket(limits.messageRate)
    this.release = hub.admit()
    this.native = native
  }

  /**
   * The check for private events, reading the principal when called (it may change). A getter,
   * not a field: the registry reads it once per subscriber, and a field costs every socket.
   */
  get sees(): (event: HubEvent) => boolean {
    return (event) => this.maySee(event)
  }

  /** Whether the current principal may receive this private event. */
  maySee(event: HubEvent): boolean {
    return this.principal.seesEverything || this.principal.maySee(event)
  }

  /** The selectors the socket holds (live or catching up). */
  selectors(): IterableIterator<Selector> {
    return this.held.values()
  }

  /** How many selectors the socket holds (live or catching up). */
  get holding(): number {
    return this.held.size
  }

  /** Sends one text message, noting a drop by Bun's backpressure limit. */
  send(text: string): void {
    if (this.socket.send(text) === 0) this.checkCut()
  }

  /** After a send that answered 0: was it Bun's backpressure limit? */
  checkCut(): void {
    if (this.socket.readyState === 1 && this.socket.getBufferedAmount() > this.limits.backpressureBytes) this.cut = true
  }

  /**
   * Takes room for the selectors not held yet, all or nothing, and returns them: throws
   * `too_many_topics` past `limits.maxTopics` and `too_many_subscriptions` past the hub's quota,
   * having changed nothing. Call it inside `serially`, so it sees earlier changes; give the room
   * back with `remove` if the subscribe then fails. Once closed it takes nothing.
   */
  hold(selectors: readonly Selector[]): Selector[] {
    if (this.closed) return []
    const fresh = selectors.filter((selector) => !this.held.has(selector.source))
    const max = this.limits.maxTopics
    if (this.held.size + fresh.length > max) {
      throw new HubError(
        'too_many_topics',
        `a WebSocket may hold at most ${max} topics and patterns (--max-connection-topics); this one holds ${this.held.size} and the subscribe adds ${fresh.length}: unsubscribe some first`,
      )
    }
    this.hub.quota.take(fresh.length)
    for (const selector of fresh) this.held.set(selector.source, selector)
    return fresh
  }

  receive(delivery: Delivery): void {
    // Already sent by the native fan-out (this socket is live on that topic natively).
    if (this.socket.isSubscribed(delivery.event.topic)) return
    this.send(delivery.encode(wsEventFrame))
  }

  /**
   * Runs subscription changes one at a time, each after any catch-up before it has drained, so a
   * later subscribe or unsubscribe never overtakes an earlier one.
   */
  serially<T>(change: () => Promise<T>): Promise<T> {
    const result = this.idle.then(change)
    this.idle = result.then(
      () => this.drained(),
      () => this.drained(),
    )
    return result
  }

  /**
   * Goes live on `selectors` after replaying `missed`. A replay that fits well inside the send
   * buffer is sent at once; a longer one is paced by `flush` (called from Bun's drain handler), so
   * a client that missed a lot is not cut by the backpressure limit for catching up.
   * Must be called synchronously from `Hub.catchUp`'s goLive.
   */
  goLive(selectors: readonly Selector[], missed: readonly HubEvent[]): void {
    const frames = missed.map(wsEventFrame)
    let bytes = 0
    for (const frame of frames) bytes += frame.length
    if (bytes <= this.limits.backpressureBytes / 4) {
      for (const frame of frames) this.send(frame)
      this.add(selectors)
      return
    }
    const catchUp: CatchUp = { selectors, frames, next: 0, limit: frames.length + this.limits.queueSize, detach: () => {}, done: () => {} }
    const listener: Subscriber = {
      receive: (delivery) => {
        const topic = delivery.event.topic
        // Already delivered natively or by this connection's live selectors: not ours to queue.
        if (this.socket.isSubscribed(topic) || this.hub.covers(this, topic)) return
        catchUp.frames.push(delivery.encode(wsEventFrame))
        if (catchUp.frames.length - catchUp.next > catchUp.limit) this.tooSlow()
      },
      sees: this.sees,
      internal: true,
    }
    this.hub.attach(listener, selectors)
    catchUp.detach = () => this.hub.detach(listener)
    this.catchUp = catchUp
    this.flush()
  }

  /** Sends queued catch-up frames while Bun's buffer has room; goes live when none are left. */
  flush(): void {
    const catchUp = this.catchUp
    if (!catchUp) return
    const room = this.limits.backpressureBytes / 4
    while (catchUp.next < catchUp.frames.length) {
      if (this.socket.readyState !== 1 || this.socket.getBufferedAmount() > room) return
      this.send(catchUp.frames[catchUp.next++] as string)
    }
    // Nothing can be delivered between these lines: the switch to live is atomic.
    catchUp.detach()
    this.catchUp = undefined
    this.add(catchUp.selectors)
    catchUp.done()
  }

  /** Drops the selectors it holds among these and gives their room back; costs the selectors named. */
  remove(selectors: readonly Selector[]): void {
    const own: Selector[] = []
    let dropped = 0
    for (const { source } of selectors) {
      const selector = this.held.get(source)
      if (!selector) continue
      this.held.delete(source)
      dropped++
      if (selector.isPattern) own.push(selector)
      else if (this.socket.isSubscribed(source)) {
        // Both in one step: a member of the fan-out is exactly a native subscriber.
        this.socket.unsubscribe(source)
        this.native.leave(this, source)
      }
    }
    if (own.length > 0) this.hub.detach(this, own)
    this.hub.quota.give(dropped)
  }

  /** Releases hub subscribers and the room held (call from the close handler); idempotent. */
  close(): void {
    this.closed = true
    this.release()
    this.hub.detach(this)
    // Bun drops a closed socket's native subscriptions itself; the fan-out forgets it here.
    for (const selector of this.held.values()) if (!selector.isPattern) this.native.leave(this, selector.source)
    this.hub.quota.give(this.held.size)
    this.held.clear()
    this.catchUp?.detach()
    this.catchUp?.done()
    this.catchUp = undefined
  }

  closeSocket(code: number, reason: string): void {
    this.socket.close(code, reason)
  }

  /**
   * Makes held selectors live: topics through the native fan-out, patterns as this connection's
   * own registry selectors. Costs the selectors given.
   */
  private add(selectors: readonly Selector[]): void {
    const own: Selector[] = []
    for (const selector of selectors) {
      // Dropped since (the socket closed while catching up): nothing to make live.
      if (!this.held.has(selector.source)) continue
      if (selector.isPattern) own.push(selector)
      else if (!this.socket.isSubscribed(selector.source)) {
        this.socket.subscribe(selector.source)
        this.native.join(this, selector)
      }
    }
    if (own.length > 0) this.hub.attach(this, own)
  }

  /** Resolves once no catch-up is pending. */
  private drained(): Promise<void> {
    const catchUp = this.catchUp
    if (!catchUp) return Promise.resolve()
    return new Promise((resolve) => {
      const previous = catchUp.done
      catchUp.done = () => {
        previous()
        resolve()
      }
    })
  }

  /** Cuts a connection whose catch-up queue outgrew its limit; it resumes from its last id. */
  private tooSlow(): void {
    if (this.cut) return
    this.cut = true
    this.close()
    this.socket.close(TOO_SLOW_CLOSE, 'too slow: reconnect and resume with lastEventId')
  }
}

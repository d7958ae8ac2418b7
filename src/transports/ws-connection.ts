import type { ServerWebSocket } from 'bun'
import type { Delivery } from '../hub/delivery'
import type { HubEvent } from '../hub/event'
import type { Hub } from '../hub/hub'
import type { Subscriber } from '../hub/registry'
import type { Selector } from '../hub/topics'
import { wsEventFrame } from './frames'
import { TokenBucket } from './rate-limit'

/** Limits one connection works within (from WsOptions). */
export interface ConnectionLimits {
  /** Bun's backpressureLimit: past it Bun drops the send and closes the socket. */
  backpressureBytes: number
  /** Events a catching-up connection may have waiting (beyond its replay) before it is cut as too slow. */
  queueSize: number
  /** Messages per second the client may send (0 = no limit). */
  messageRate: number
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
 * One WebSocket's state. Concrete topics are Bun-native subscriptions (`ws.subscribe`, delivered by
 * one `server.publish` per event). Patterns cannot be native, so the connection registers one hub
 * subscriber for all its patterns; it skips topics the socket already gets natively, so an event
 * matching both a topic and a pattern arrives once.
 *
 * Slow consumers: Bun closes a socket whose unsent bytes pass backpressureLimit and reports only
 * code 1006, as for a client that vanished. What is observable is the moment it happens: a send
 * (or server.publish) answers 0, "dropped", while the socket holds more than the limit. `noteSend`
 * and `checkCut` look at that moment and set `cut`, so the close can be counted as a slow consumer.
 */
export class Connection implements Subscriber {
  selectors: Selector[] = []
  /** True once the connection was cut for reading too slowly (by Bun's backpressure limit, or by us). */
  cut = false
  private detach: (() => void) | undefined
  private catchUp: CatchUp | undefined
  private idle: Promise<void> = Promise.resolve()
  /** The client's message allowance. */
  readonly rate: TokenBucket
  /** Frees this connection's place under maxConnections. */
  private readonly release: () => void

  constructor(
    private readonly socket: ServerWebSocket<unknown>,
    private readonly hub: Hub,
    private readonly limits: ConnectionLimits,
  ) {
    this.rate = new TokenBucket(limits.messageRate)
    this.release = hub.admit()
  }

  /** Sends one text message, noting a drop by Bun's backpressure limit. */
  send(text: string): void {
    if (this.socket.send(text) === 0) this.checkCut()
  }

  /** After a send that answered 0: was it Bun's backpressure limit? */
  checkCut(): void {
    if (this.socket.readyState === 1 && this.socket.getBufferedAmount() > this.limits.backpressureBytes) this.cut = true
  }

  isSubscribed(topic: string): boolean {
    return this.socket.isSubscribed(topic)
  }

  receive(delivery: Delivery): void {
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
      selectors,
      receive: (delivery) => {
        const topic = delivery.event.topic
        // Already delivered natively or by this connection's patterns: not ours to queue.
        if (this.socket.isSubscribed(topic) || this.selectors.some((selector) => selector.matches(topic))) return
        catchUp.frames.push(delivery.encode(wsEventFrame))
        if (catchUp.frames.length - catchUp.next > catchUp.limit) this.tooSlow()
      },
    }
    catchUp.detach = this.hub.attach(listener)
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

  remove(selectors: readonly Selector[]): void {
    const gone = new Set(selectors.map((selector) => selector.source))
    for (const source of gone) if (this.socket.isSubscribed(source)) this.socket.unsubscribe(source)
    this.setPatterns(this.selectors.filter((selector) => !gone.has(selector.source)))
  }

  /** Every topic and pattern this socket is subscribed to. */
  topics(): string[] {
    return [...this.socket.subscriptions, ...this.selectors.map((selector) => selector.source)]
  }

  /** Releases hub subscribers (call from the close handler). */
  close(): void {
    this.release()
    this.detach?.()
    this.detach = undefined
    this.catchUp?.detach()
    this.catchUp?.done()
    this.catchUp = undefined
  }

  closeSocket(code: number, reason: string): void {
    this.socket.close(code, reason)
  }

  private add(selectors: readonly Selector[]): void {
    const patterns = new Map(this.selectors.map((selector) => [selector.source, selector]))
    for (const selector of selectors) {
      if (selector.isPattern) patterns.set(selector.source, selector)
      else this.socket.subscribe(selector.source)
    }
    this.setPatterns([...patterns.values()])
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

  private setPatterns(selectors: Selector[]): void {
    this.detach?.()
    this.detach = undefined
    this.selectors = selectors
    if (selectors.length > 0) this.detach = this.hub.attach(this)
  }
}

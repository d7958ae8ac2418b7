/**
 * Subscriptions over WebSocket (`{base}/ws`, JSON messages: README "WebSocket"). The subscriptions
 * of one `connect()` share a socket, except that two whose selectors overlap never do: then every
 * event frame belongs to exactly one subscription, so routing is unambiguous and one subscription's
 * replay can never be interleaved with another's live events for the same topic.
 *
 * With a token, a socket's first message is `auth` (never the URL: URLs end up in logs), and its
 * subscribes wait for `authenticated`, so none is ever handled without the token. Before the token
 * expires a fresh one is sent in another `auth` (the socket and its subscriptions stay as they
 * are); a socket closed for an expired token (4401) reconnects at once with a fresh one, resuming
 * every subscription from its position.
 */
import type { WsServerType } from '../hub/event'
import { Backoff } from './backoff'
import { asHeraldError, HeraldError, retryable } from './errors'
import type { Feed } from './feed'
import { isEventId, PROBE_ID } from './ids'
import { matches, overlaps } from './selectors'
import type { Settings } from './settings'
import { expiry, refreshDelay } from './token'
import type { HeraldErrorCode } from './types'

/** One subscription on a socket. */
interface Member {
  feed: Feed
  /** The `ref` of its latest subscribe message; replies with another ref are stale. */
  ref: number
  /** The lastEventId that subscribe carried. */
  from: string | undefined
  /** True between the server's `subscribed` and the end of that subscribe (socket lost, paused). */
  live: boolean
  /** True while its selectors are subscribed (or being subscribed) on the current socket. */
  held: boolean
  /** True while its queue is full: unsubscribed until the app's loop catches up. */
  paused: boolean
  /** Schedule for subscribes the server refused for now (rate limit, capacity). */
  refusals: Backoff
  /** Cancels a pending retry of a refused subscribe. */
  retry: AbortController | undefined
}

type Message = { type?: unknown; ref?: unknown } & Record<string, unknown>

/** The server's close code for a socket whose token expired (src/transports/ws-auth.ts). */
const TOKEN_EXPIRED_CLOSE = 4401
/** Longest delay one setTimeout takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** The sockets of one `connect()`. */
export class WsPool {
  private readonly channels = new Set<Channel>()

  constructor(private readonly settings: Settings) {}

  /** Runs the feed on a socket none of whose subscriptions overlap it, opening one if needed. */
  add(feed: Feed): void {
    let channel = [...this.channels].find((candidate) => !candidate.overlaps(feed.selectors))
    if (!channel) {
      const created = new Channel(this.settings, () => this.channels.delete(created))
      this.channels.add(created)
      channel = created
    }
    channel.add(feed)
  }
}

/** One WebSocket and the subscriptions on it; closes itself when the last one ends. */
class Channel {
  private socket: WebSocket | undefined
  private open = false
  private readonly members = new Set<Member>()
  private readonly refs = new Map<number, Member>()
  private nextRef = 1
  private readonly backoff: Backoff
  private waiting: AbortController | undefined
  private idle: ReturnType<typeof setInterval> | undefined
  private heardAt = 0
  private pingedAt = 0
  /** The token the socket sent last; the ref of an `auth` awaiting its answer (0: none); the refresh timer. */
  private token: string | undefined
  private authRef = 0
  private refresh: ReturnType<typeof setTimeout> | undefined
  /** Authentications in a row refused as expired. */
  private expiries = 0

  constructor(
    private readonly settings: Settings,
    private readonly onEmpty: () => void,
  ) {
    this.backoff = new Backoff(settings.backoff)
  }

  overlaps(selectors: readonly string[]): boolean {
    for (const { feed } of this.members) {
      for (const a of feed.selectors) for (const b of selectors) if (overlaps(a, b)) return true
    }
    return false
  }

  add(feed: Feed): void {
    const member: Member = { feed, ref: 0, from: undefined, live: false, held: false, paused: false, refusals: new Backoff(this.settings.backoff), retry: undefined }
    this.members.add(member)
    feed.ended.signal.addEventListener('abort', () => this.remove(member), { once: true })
    this.subscribe(member)
    if (!this.socket && !this.waiting) this.connect()
  }

  private remove(member: Member): void {
    if (!this.members.delete(member)) return
    this.refs.delete(member.ref)
    member.retry?.abort()
    if (this.members.size === 0) return this.shutdown()
    if (member.held) this.send({ type: 'unsubscribe', topics: member.feed.selectors })
  }

  /** (Re)subscribes a member under a fresh ref; sent now if the socket is open, else on open. */
  private subscribe(member: Member): void {
    member.retry?.abort()
    this.refs.delete(member.ref)
    member.ref = this.nextRef++
    member.live = false
    this.refs.set(member.ref, member)
    if (!this.open || member.paused) return
    member.from = member.feed.resumeFrom()
    member.held = true
    this.send({ type: 'subscribe', topics: member.feed.selectors, ...(member.from && { lastEventId: member.from }), ref: member.ref })
  }

  private send(message: Record<string, unknown>): void {
    if (this.open) this.socket?.send(JSON.stringify(message))
  }

  private async connect(): Promise<void> {
    // Set while the token is got, so nothing else connects meanwhile and an end cancels it.
    const waiting = (this.waiting = new AbortController())
    let token: string | undefined
    try {
      token = await this.settings.token?.()
    } catch (error) {
      if (waiting.signal.aborted) return
      this.waiting = undefined
      return this.failed(asHeraldError(error))
    }
    if (waiting.signal.aborted) return
    this.waiting = undefined
    let socket: WebSocket
    try {
      socket = new WebSocket(`${this.settings.base.replace(/^http/, 'ws')}/ws`)
    } catch (error) {
      return this.lost(asHeraldError(error))
    }
    this.socket = socket
    socket.onopen = () => {
      this.heardAt = this.pingedAt = Date.now()
      const timeout = this.settings.idleTimeoutMs
      // Quiet is fine, silence is not: ping after a third of the timeout; give up once nothing has
      // come for all of it and a ping has gone unanswered for a third of it. The second condition
      // keeps a background tab (whose timers a browser may slow to one a minute) from mistaking
      // its own late tick for silence.
      if (timeout > 0) {
        this.idle = setInterval(() => {
          const now = Date.now()
          const unanswered = this.pingedAt > this.heardAt ? now - this.pingedAt : 0
          if (now - this.heardAt >= timeout && unanswered >= timeout / 3) this.lost(new HeraldError('network_error', `no data for ${timeout} ms`))
          else if (now - this.heardAt >= timeout / 3 && !unanswered) {
            this.pingedAt = now
            this.send({ type: 'ping' })
          }
        }, timeout / 3)
      }
      if (token) this.authenticate(token)
      else this.ready()
    }
    socket.onmessage = (event) => {
      this.heardAt = Date.now()
      this.message(event.data)
    }
    socket.onclose = (event) =>
      this.lost(new HeraldError(event.code === TOKEN_EXPIRED_CLOSE ? 'token_expired' : 'network_error', `the WebSocket closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`))
    // A close event follows every error.
    socket.onerror = () => {}
  }

  /** The socket may carry subscriptions: (re)subscribe every member. */
  private ready(): void {
    this.open = true
    this.backoff.opened()
    for (const member of this.members) this.subscribe(member)
  }

  /** Sends `token` in an `auth` message; the answer comes to `authenticated`. */
  private authenticate(token: string): void {
    this.token = token
    this.authRef = this.nextRef++
    this.socket?.send(JSON.stringify({ type: 'auth', token, ref: this.authRef }))
  }

  /** The server accepted the token: subscribe (the first time), and get the next one before it expires. */
  private authenticated(): void {
    this.expiries = 0
    if (!this.open) this.ready()
    clearTimeout(this.refresh)
    const at = this.token && expiry(this.token)
    if (at) this.refresh = setTimeout(() => this.renew(at), Math.min(refreshDelay(at), MAX_TIMER_MS))
  }

  /** Sends a fresh token on the same socket, if the token function gives one that lives longer. */
  private async renew(at: number): Promise<void> {
    const socket = this.socket
    let token: string
    try {
      token = await (this.settings.token as () => Promise<string>)()
    } catch {
      return // at expiry the server closes the socket, and the reconnect asks again
    }
    // The same token again would only be refused at the same moment (and a timer at once, a loop).
    if (socket === this.socket && (expiry(token) ?? Infinity) > at) this.authenticate(token)
  }

  /** A token could not be got or was refused: retry what may pass later, end every subscription on the rest. */
  private failed(error: HeraldError): void {
    if (retryable(error)) return this.lost(error)
    for (const { feed } of [...this.members]) feed.fail(error)
  }

  /** Forgets the socket and everything tied to it; returns it, still to be closed. */
  private detach(): WebSocket | undefined {
    const socket = this.socket
    if (socket) socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null
    clearInterval(this.idle)
    clearTimeout(this.refresh)
    this.authRef = 0
    this.socket = undefined
    this.open = false
    for (const member of this.members) member.live = member.held = false
    return socket
  }

  /** The socket is gone (or taken for dead): every subscription waits, then resubscribes from its position. */
  private lost(error: HeraldError): void {
    this.detach()?.close()
    if (this.members.size === 0 || this.waiting) return
    // The token expired: at once with a fresh one; each subscription resumes from its position.
    if (error.code === 'token_expired' && this.settings.token) return void this.connect()
    const delayMs = this.backoff.next()
    const waiting = (this.waiting = new AbortController())
    this.settings.backoff.sleep(delayMs, waiting.signal).then(() => {
      if (!waiting.signal.aborted) this.connect()
    })
    // Last: an onRetry may end subscriptions, even the last one (which cancels the wait).
    for (const { feed } of this.members) feed.retrying({ attempt: this.backoff.attempt, delayMs, error })
  }

  private shutdown(): void {
    this.waiting?.abort()
    this.waiting = undefined
    this.detach()?.close(1000)
    this.onEmpty()
  }

  private message(raw: unknown): void {
    if (typeof raw !== 'string') return
    let message: Message
    try {
      message = JSON.parse(raw)
    } catch {
      return
    }
    if (typeof message !== 'object' || message === null) return
    if (this.authRef && message.ref === this.authRef) return this.answered(message)
    const member = typeof message.ref === 'number' ? this.refs.get(message.ref) : undefined
    switch (message.type as WsServerType) {
      case 'event':
        return this.event(message)
      case 'subscribed':
        if (member && !member.live) {
          member.live = true
          member.refusals.opened()
          member.feed.opened()
        }
        return
      case 'reset':
        if (member?.live && isEventId(message.head)) member.feed.reset(typeof message.lastEventId === 'string' ? message.lastEventId : null, message.head)
        return
      case 'error':
        if (member && !member.live && typeof message.code === 'string') this.refused(member, new HeraldError(message.code as HeraldErrorCode, String(message.message)))
    }
  }

  /**
   * The answer to an `auth`. A refused refresh changes nothing: the socket keeps its token until
   * the server closes it at expiry. A refused first one: an expired token is asked for once more
   * (on a new socket), anything else retried or ended by its code.
   */
  private answered(message: Message): void {
    this.authRef = 0
    if (message.type === 'authenticated') return this.authenticated()
    if (message.type !== 'error' || this.open) return
    const error = new HeraldError(message.code as HeraldErrorCode, String(message.message))
    if (error.code === 'token_expired' && ++this.expiries < 2) {
      this.detach()?.close()
      return void this.connect()
    }
    this.failed(error)
  }

  private event({ topic, id, event = 'message', data }: Message): void {
    if (typeof topic !== 'string' || !isEventId(id) || typeof event !== 'string' || data === undefined) return
    for (const member of this.members) {
      if (!member.live || !member.feed.selectors.some((selector) => matches(selector, topic))) continue
      member.feed.event({ type: 'event', topic, id, event, data, text: typeof data === 'string' ? data : JSON.stringify(data) })
      if (member.feed.full) this.pause(member)
      return
    }
  }

  /**
   * The app's loop is behind: stop taking this subscription's events (they stay on the server)
   * and resubscribe from the last one queued once the loop has taken them all.
   */
  private pause(member: Member): void {
    member.paused = true
    member.live = member.held = false
    this.refs.delete(member.ref)
    this.send({ type: 'unsubscribe', topics: member.feed.selectors })
    member.feed.drained().then(() => {
      member.paused = false
      if (this.members.has(member)) this.subscribe(member)
    })
  }

  /** The server refused a subscribe: retry what may pass later, end the subscription on the rest. */
  private refused(member: Member, error: HeraldError): void {
    member.held = false
    this.refs.delete(member.ref)
    if (member.from === PROBE_ID && error.code === 'invalid_last_event_id') {
      member.feed.noProbe = true
      return this.subscribe(member)
    }
    if (!retryable(error)) return member.feed.fail(error)
    const delayMs = member.refusals.next()
    member.feed.retrying({ attempt: member.refusals.attempt, delayMs, error })
    const retry = (member.retry = new AbortController())
    this.settings.backoff.sleep(delayMs, retry.signal).then(() => {
      if (!retry.signal.aborted && this.members.has(member)) this.subscribe(member)
    })
  }
}

/**
 * The client's public types. Publish request and answer come from the server's own TypeBox schemas
 * (src/api/publish.ts), item and error names from the server's lists (src/hub/event.ts,
 * src/hub/errors.ts), all by `import type`: a change on the server fails the client's type check,
 * and nothing of the server reaches the browser bundle.
 */
import type { Static } from 'elysia'
import type { publishSchemas } from '../api/publish'
import type { HubErrorCode } from '../hub/errors'
import type { SseControlEvent, WsServerType } from '../hub/event'
import type { HeraldError } from './errors'

/** The body of one `POST /publish` item, as the server's schema declares it. */
type PublishItem = Extract<Static<typeof publishSchemas.BatchPublish>, { topic: unknown }>

/** What `publish()` takes besides topic and data: the optional fields of a publish body (`event`, `id`, `private`), and a signal. */
export type PublishOptions = Partial<Pick<PublishItem, 'event' | 'id' | 'private'>> & {
  /** Aborts the request (the publish may still have happened). */
  signal?: AbortSignal
}

/** The server's answer to one publish: the id the event was stored under, and its topic. */
export type Published = Static<typeof publishSchemas.Published>

/** One event from a subscription. */
export interface HeraldEvent {
  type: Extract<WsServerType, 'event'>
  /**
   * The event's topic. Over SSE the stream does not name it: it is the subscription's topic when
   * that is one concrete topic, else undefined (subscribe over WebSocket to learn it).
   */
  topic: string | undefined
  /** `<ms>-<seq>`; a subscription's ids only increase. */
  id: string
  /** The event name; `message` when the publisher gave none. */
  event: string
  /**
   * The payload. WebSocket: the value published (a string, or any JSON value). SSE carries text
   * only: `JSON.parse(text)` when that succeeds, else `text` (so a published string "42" arrives
   * as the number 42 over SSE; read `text` to tell).
   */
  data: unknown
  /** The payload as text: the string published, or the JSON text of any other value. */
  text: string
}

/**
 * The server could not replay everything after the position the subscription resumed from (it is
 * older than what is kept, from before a restart, or unknown). Events from `head` on follow, but
 * some before it are lost: reload the state this subscription feeds.
 */
export interface HeraldReset {
  type: Extract<SseControlEvent & WsServerType, 'reset'>
  /** The position that could not be served. */
  lastEventId: string | null
  /** The server's newest id when it answered; the subscription continues from here. */
  head: string
}

/** What a subscription yields. */
export type HeraldItem = HeraldEvent | HeraldReset

/**
 * Codes the client raises itself: `network_error` (no answer, or the connection broke),
 * `bad_response` (an answer that is not Herald's), `closed` (`close()` was called).
 */
type ClientErrorCode = 'network_error' | 'bad_response' | 'closed'

/** Every `HeraldError.code` (a newer server may add codes). */
export type HeraldErrorCode = HubErrorCode | ClientErrorCode

/** Reconnect timing. Delays grow from `initialMs` by `factor` per failed attempt up to `maxMs`. */
export interface BackoffOptions {
  /** First delay, in milliseconds (default 500). */
  initialMs?: number
  /** Longest delay, in milliseconds (default 30000); also caps the server's `retry:` hint. */
  maxMs?: number
  /** Growth per failed attempt (default 2). */
  factor?: number
  /** Fraction of each delay drawn at random, 0 to 1 (default 0.5), so clients cut together do not return together. */
  jitter?: number
  /** A connection that stayed open this long (ms, default 5000) was healthy: the next delay starts from `initialMs` again. */
  healthyMs?: number
  /** Random numbers in [0, 1) (tests pass their own). */
  random?: () => number
  /** Milliseconds now (tests pass their own). */
  now?: () => number
  /** Waits `ms` or until `signal` aborts (tests pass their own). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

/** A transport: one WebSocket shared by the subscriptions of a `connect()`, or one SSE stream each. */
export type Transport = 'ws' | 'sse'

/**
 * A token (a JWT the server verifies), or a function that returns one. The function is called at
 * every connect and reconnect, before the token in use expires (read from its `exp`), and for every
 * publish; return a cached token while it is fresh. A HeraldError it throws ends the subscriptions
 * that needed the token (the code is the app's: say why); anything else it throws is retried like a
 * network failure.
 */
export type TokenOption = string | (() => string | Promise<string>)

export interface ConnectOptions {
  /** The server's base URL, including any path prefix it is mounted under. Default: the page's origin. */
  url?: string
  /**
   * Sent with every subscription and publish: SSE and publish as `Authorization: Bearer`, a
   * WebSocket in its first message (`auth`, never in the URL) and again before the token expires,
   * so the socket stays open. When the server says the token expired, the client gets a fresh one
   * and resumes from the last event: nothing is lost or repeated.
   */
  token?: TokenOption
  /** Default transport for `subscribe` (default `ws`). */
  transport?: Transport
  backoff?: BackoffOptions
  /**
   * Milliseconds without a byte from the server before a connection is taken for dead and
   * replaced (default 45000; 0 = never). Keep it above the server's `--keep-alive` (15 s); a
   * WebSocket sends `ping` after a third of it.
   */
  idleTimeoutMs?: number
  /** Longest SSE event, in characters (default 1 MiB); a longer one ends the subscription with `payload_too_large`. */
  maxEventSize?: number
  /**
   * Characters of event text one subscription may hold for a loop that is not reading (each event
   * counts at least 64; default 4 MiB). Past it SSE stops reading (the server then ends the
   * stream and the client resumes), a WebSocket subscription stops taking events and resubscribes
   * from its last one once the loop has caught up. Nothing is lost either way.
   */
  bufferSize?: number
}

/** What a failed attempt to (re)connect tells `onRetry`. */
export interface RetryInfo {
  /** 1 for the first retry since the last healthy connection. */
  attempt: number
  /** Milliseconds until the next attempt. */
  delayMs: number
  /** Why the connection failed or ended. */
  error: HeraldError
}

export interface SubscribeOptions {
  /** Resume after this id: the events since come first (or a `reset` when they cannot). */
  lastEventId?: string
  /** Ends the subscription: the loop finishes, the server forgets it. */
  signal?: AbortSignal
  /** Overrides the connection's transport for this subscription. */
  transport?: Transport
  /** Called each time the subscription is live: first connect and every reconnect (before the events it replays). */
  onOpen?: () => void
  /** Called each time the connection is lost, before waiting to reconnect. */
  onRetry?: (info: RetryInfo) => void
}

import type { Server } from 'bun'
import type { ClusterMembership } from '../cluster/membership'
import type { ClusterStats } from '../cluster/report'
import { HubError } from '../hub/errors'
import type { PublishInput } from '../hub/event'
import type { HubStats } from '../hub/hub'
import type { HeraldRuntime } from '../runtime'
import { SSE_HEADERS, topicStream } from '../transports/sse'
import { errorBody, STATUS_BY_CODE } from './errors'
import { forHost } from './http-error'
import { HeraldSubscription } from './subscription-iterator'

/** What a publish from code answers: the id the event was stored under, and its topic. */
export interface Published {
  id: string
  topic: string
}

/**
 * Options of `herald.publish`. Every field also takes `undefined` (= left out), so values that may be
 * missing pass as they are under `exactOptionalPropertyTypes`; the same holds for the options below.
 */
export interface PublishOptions {
  /** SSE event name (default `message`): 1-64 of `A-Z a-z 0-9 _ . : -`, not one Herald reserves. */
  event?: string | undefined
  /** Your own `<ms>-<seq>` id, newer than every id so far (usually left out: Herald assigns one). */
  id?: string | undefined
  /** A private event: delivered only to subscribers whose token covers its topic (and to your own code's subscriptions). */
  private?: boolean | undefined
}

/** Options of `herald.subscribe` and `herald.stream`. */
export interface SubscribeOptions {
  /** Resume after this id (a `Last-Event-ID`); undefined, null or '' = live events only. */
  lastEventId?: string | null | undefined
  /** Ends the subscription when aborted: pass the request's signal, so a client leaving ends it. */
  signal?: AbortSignal | undefined
  /**
   * The request this subscription streams to. Gives `signal` and `lastEventId` (its
   * `Last-Event-ID` header, else a `?lastEventId=` query) when they are not set, and lifts Bun's
   * idle timeout for it, which would otherwise cut a quiet stream after 10 s.
   */
  request?: Request | undefined
}

/** Rejections of `herald.*` reach a host route as HeraldHttpErrors (answered with their status if the route lets them through). */
function rethrowForHost(error: unknown): never {
  throw forHost(error)
}

/** /stats: the hub's counters plus open WebSockets and process memory (this node's), and with `redis` the cluster's. */
export type HeraldStats = HubStats & { websockets: number; memory: { rss: number; heapUsed: number }; cluster?: ClusterStats }

/**
 * The `herald` object a host app's handlers receive (`({ herald }) => …`) and `herald()` exposes:
 * publish and subscribe from code, on the same topics as the HTTP, SSE and WebSocket clients.
 * Code is trusted: it may publish to any topic (server-owned ones included) and its subscriptions
 * get every event, private ones too. Deciding what a request of yours may see is your route's job.
 */
export class HeraldApi {
  /** Bun's server, once the app listens (for lifting the idle timeout of streams). */
  server: Server<unknown> | undefined
  /** This node's membership of the cluster (with `redis`; undefined on a single node). */
  cluster: ClusterMembership | undefined

  constructor(private readonly runtime: HeraldRuntime) {}

  /** The hub itself, for what the API here does not cover (the demos watch deliveries with it). */
  get hub(): HeraldRuntime['hub'] {
    return this.runtime.hub
  }

  /**
   * How clients are authenticated: `tokens` (a key is configured), `loopback` (no key: anyone may
   * subscribe, only this machine may publish) or `dev` (no key, `dev` on: anyone may publish).
   */
  get authMode(): 'tokens' | 'loopback' | 'dev' {
    return this.runtime.edge.mode
  }

  /** The newest event id issued: a resume position that means "from now on". */
  get head(): string {
    return this.runtime.hub.head
  }

  /**
   * Publishes one event and resolves once it is stored and queued to every subscriber. `data` is a
   * string (sent as is) or any JSON value. Rejects with a `HubError` (its `code` as over HTTP; a
   * route that lets it through answers with that code's status and Herald's JSON error body).
   */
  async publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<Published> {
    const [event] = await this.runtime.hub.publish([{ topic, data, ...options }]).catch(rethrowForHost)
    return { id: (event as { id: string }).id, topic }
  }

  /** Publishes a batch atomically: one bad input rejects them all and publishes nothing. */
  async publishBatch(inputs: readonly PublishInput[]): Promise<Published[]> {
    const events = await this.runtime.hub.publish(inputs).catch(rethrowForHost)
    return events.map(({ id, topic }) => ({ id, topic }))
  }

  /**
   * The events of topics or patterns (`orders/1`, `orders/*`, `orders/**`) as an async iterator of
   * `HeraldEvent`s (and a first `HeraldReset` when a resume position could not be served). Each
   * item written from an Elysia generator route (`yield event`) is a correct SSE frame. Throws
   * `invalid_selector` / `too_many_topics` / `invalid_last_event_id` at once (a route that lets
   * them through answers 400 with Herald's JSON error body); pass a `signal` (or
   * the `request`) so a client leaving ends it: a subscription waiting for events cannot be
   * finalized otherwise.
   */
  subscribe(selectors: string | readonly string[], options: SubscribeOptions = {}): HeraldSubscription {
    const { signal, lastEventId } = this.resolve(options)
    const hub = this.runtime.hub
    try {
      const parsed = hub.parseSelectors(selectors)
      hub.parseLastEventId(lastEventId)
      return new HeraldSubscription(hub, parsed, lastEventId, signal)
    } catch (error) {
      throw forHost(error)
    }
  }

  /**
   * A complete SSE response for some topics, exactly what `GET /events` serves (`retry:`, `reset`,
   * events in batches, keep-alives, a closing notice), for a route of your own that decides which
   * topics a request may see. Bad selectors or ids answer the JSON error with its status.
   */
  async stream(selectors: string | readonly string[], options: SubscribeOptions & { request: Request }): Promise<Response> {
    const { signal, lastEventId } = this.resolve(options)
    const hub = this.runtime.hub
    let subscription: Awaited<ReturnType<typeof hub.subscribe>>
    try {
      subscription = await hub.subscribe(hub.parseSelectors(selectors), { lastEventId, signal })
    } catch (hubError) {
      if (!(hubError instanceof HubError)) throw hubError
      return Response.json(errorBody(hubError.code, hubError.message), { status: STATUS_BY_CODE[hubError.code] })
    }
    this.runtime.keepAlive.ensure()
    const chunks = topicStream(subscription, this.runtime.settings, this.runtime.encode, lastEventId)
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { value, done } = await chunks.next()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      async cancel() {
        await chunks.return(undefined)
      },
    })
    return new Response(body, { headers: SSE_HEADERS })
  }

  /**
   * Resolves once Herald can serve: at once on one process; with `redis`, once connected to Redis
   * and in step with the cluster. Rejects when the first attempt failed; Herald keeps trying (with
   * backoff) and `/readyz` answers 200 once it is connected.
   */
  ready(): Promise<void> {
    return this.runtime.started
  }

  /** Counters and gauges, as `GET /stats` shows them. */
  stats(): HeraldStats {
    const memory = process.memoryUsage()
    const cluster = this.cluster?.stats()
    return { ...this.runtime.hub.stats(), websockets: this.runtime.ws.count(), memory: { rss: memory.rss, heapUsed: memory.heapUsed }, ...(cluster && { cluster }) }
  }

  /**
   * Graceful shutdown of Herald (not of your app): its routes answer 503, publishes in flight
   * finish, SSE streams end with a `retry:` hint and WebSockets close with 1001. Bounded by
   * `timeoutMs` (default the `shutdownTimeoutMs` option). Also runs when the app stops.
   */
  shutdown(timeoutMs?: number): Promise<void> {
    return this.runtime.shutdown(timeoutMs)
  }

  private resolve(options: SubscribeOptions): { signal: AbortSignal | undefined; lastEventId: string | undefined } {
    const request = options.request
    if (request) this.server?.timeout(request, 0)
    const fromRequest = request ? (request.headers.get('last-event-id') ?? new URL(request.url).searchParams.get('lastEventId')) : null
    const lastEventId = options.lastEventId ?? fromRequest ?? undefined
    return { signal: options.signal ?? request?.signal, lastEventId: lastEventId === '' ? undefined : lastEventId }
  }
}

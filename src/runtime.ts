import { HeraldCors } from './api/cors'
import { EdgeAuth, type RemoteAddress } from './api/edge-auth'
import { createAuthenticator } from './auth/authenticator'
import { Lifecycle } from './api/lifecycle'
import { RouteGuard } from './api/route-guard'
import { createBackend } from './backend'
import type { Readiness, RedisBroker } from './broker/redis'
import type { Authenticator } from './auth/types'
import { SqliteHistory } from './history/sqlite'
import { Hub } from './hub/hub'
import { type Logger, silentLogger } from './log'
import type { HubSettings } from './options'
import { type BatchEncoder, type KeepAliveTimer, keepAliveTimer, sharedBatchEncoder } from './transports/sse'
import { type WsOptions, wsTransport } from './transports/ws'

/** The close code for sockets a resync ends (1012, "service restart"): reconnect and resume. */
export const RESYNC_CLOSE = 1012

/** What a Herald is built with besides its settings: code, not command-line values. */
export interface RuntimeParts {
  /** Verifies tokens; default: the one the `jwt*` / `public` settings describe (createAuthenticator). */
  auth?: Authenticator | undefined
  /** Topics only the server's code may publish to. */
  serverTopics?: readonly string[] | undefined
  /** The peer's address, for the no-key loopback rule (default: Bun's). */
  remoteAddress?: RemoteAddress | undefined
}

/**
 * One Herald: the hub with its history and broker, the WebSocket transport's connections, and the
 * shutdown state of its routes. The `herald()` plugin mounts one in an Elysia app; nothing here
 * knows about routes. Opening the `--store` happens here, so construction throws
 * `store_unavailable` when it cannot be opened.
 */
export class HeraldRuntime {
  readonly hub: Hub
  /** Who each request is, at every edge: tokens, origins, and the no-key / dev rules. */
  readonly edge: EdgeAuth
  readonly ws: ReturnType<typeof wsTransport>
  readonly lifecycle = new Lifecycle()
  /** CORS for Herald's routes (the `corsOrigins` setting). */
  readonly cors: HeraldCors
  /** How Herald's routes answer their own errors, whatever the host app's hooks do. */
  readonly guard: RouteGuard
  readonly wsOptions: WsOptions
  /** One keep-alive timer for every SSE stream of this hub; runs only while streams are open. */
  readonly keepAlive: KeepAliveTimer
  /** Joins each distinct batch of SSE frames once, for all streams (see sharedBatchEncoder). */
  readonly encode: BatchEncoder = sharedBatchEncoder()
  /** Tokens → principals (`--jwt-*`, `--public`); `enabled` false when no key is configured. */
  readonly auth: Authenticator
  /** With `--redis`: the node's Redis broker (connections, readiness); undefined for one process. */
  readonly cluster: RedisBroker | undefined
  /**
   * Resolves once Herald can serve: at once for one process; with Redis, once connected. Rejects
   * when the first connection attempt failed (Herald keeps trying; `readiness` says when it is back).
   */
  readonly started: Promise<void>
  private closing: Promise<void> | undefined

  constructor(
    readonly settings: HubSettings,
    readonly log: Logger = silentLogger,
    parts: RuntimeParts = {},
  ) {
    // Resume positions from before this moment were never served by this store; an empty store's head.
    const startedAt = { ms: Date.now(), seq: 0 }
    // Before the store is opened: a bad key is a bad option (ConfigError), nothing to clean up.
    this.auth = parts.auth ?? createAuthenticator(settings)
    const { history, broker, cluster } = createBackend(settings, startedAt, log)
    this.cluster = cluster
    if (history instanceof SqliteHistory && history.repaired) {
      log.warn('repaired event ids the store must not serve (written by an older Herald or edited by hand); clients holding them get a reset', { store: settings.store, ...history.repaired })
    }
    this.hub = new Hub({
      history,
      broker,
      maxDataBytes: settings.maxMessageBytes,
      queueLimit: settings.queueSize,
      maxReplay: Math.max(settings.historySize, 10_000),
      maxSelectors: settings.maxSubscriptionTopics,
      maxConnections: settings.maxConnections,
      maxTotalSelectors: settings.maxServerTopics,
      serverTopics: parts.serverTopics,
    })
    this.edge = new EdgeAuth({
      auth: this.auth,
      tokenCookie: settings.jwtCookie,
      dev: settings.dev,
      // An origin allowed to call Herald cross-origin (CORS) is trusted with sockets and cookies too.
      allowedOrigins: [...settings.allowedOrigins, ...settings.corsOrigins.filter((origin) => origin !== '*')],
      remoteAddress: parts.remoteAddress,
    })
    this.wsOptions = {
      maxMessageBytes: settings.maxMessageBytes,
      backpressureBytes: settings.wsBackpressureBytes,
      queueSize: settings.queueSize,
      messageRate: settings.wsMessageRate,
      maxConnectionTopics: settings.maxConnectionTopics,
      authTimeoutMs: settings.wsAuthTimeoutMs,
    }
    this.cors = new HeraldCors(settings.corsOrigins)
    this.guard = new RouteGuard(log, this.cors, this.lifecycle)
    this.ws = wsTransport(this.hub, this.wsOptions, log, this.guard, this.edge)
    this.keepAlive = keepAliveTimer(this.hub, settings.keepAliveMs)
    this.hub.report('gauges', 'sseKeepAliveTimers', () => (this.keepAlive.running() ? 1 : 0))
    cluster?.onResync((reason) => this.resync(reason))
    this.started = cluster?.start() ?? Promise.resolve()
    // Awaited by whoever must (main.ts with --redis-start require); never an unhandled rejection.
    this.started.catch(() => {})
  }

  /** For `/readyz`: not ready while shutting down, or (with Redis) while not connected and in step. */
  readiness(): Readiness | { ready: false; reason: 'draining'; message: string } {
    if (this.lifecycle.draining) return { ready: false, reason: 'draining', message: 'Herald is shutting down' }
    return this.cluster?.readiness() ?? { ready: true }
  }

  /**
   * Ends every subscription and WebSocket so its client resumes from its last id (SSE streams end
   * as on a shutdown, sockets close with 1012): the node could not prove it delivered every event
   * (Redis lost its data, or the cluster log was trimmed past this node's read).
   */
  private resync(reason: string): void {
    this.log.warn('every subscriber resumes', { reason, subscriptions: this.hub.stats().subscriptions, websockets: this.ws.count() })
    for (const subscription of [...this.hub.liveSubscriptions()]) subscription.end('closed')
    this.ws.closeAll(RESYNC_CLOSE, 'Herald resynchronized with the cluster: reconnect and resume with lastEventId')
  }

  /** True once shutdown has begun: Herald's routes answer 503 `shutting_down`. */
  get draining(): boolean {
    return this.lifecycle.draining
  }

  /**
   * Graceful shutdown of Herald (not of the app it is mounted in), bounded by `timeoutMs`: its
   * routes refuse new requests (503), publishes already being read finish and are delivered, then
   * every SSE stream ends (flushed, with a `retry:` hint) and every WebSocket is closed with 1001.
   * Idempotent: later calls wait for the first.
   */
  shutdown(timeoutMs = this.settings.shutdownTimeoutMs): Promise<void> {
    this.closing ??= this.close(timeoutMs)
    return this.closing
  }

  /**
   * Stops at once, for an app that is stopping (its onStop hooks are not awaited): refuses new
   * requests, ends every stream and socket, and closes a synchronous store before returning.
   */
  stopNow(): void {
    this.lifecycle.draining = true
    this.closing ??= this.hub.close()
    this.keepAlive.stop()
    this.ws.closeAll(1001, 'server shutting down')
  }

  private async close(timeoutMs: number): Promise<void> {
    this.lifecycle.draining = true
    this.log.info('shutting down', { publishesInFlight: this.lifecycle.publishesInFlight, subscriptions: this.hub.stats().subscriptions, websockets: this.ws.count() })
    await within(this.lifecycle.drained(), timeoutMs)
    await this.hub.close()
    this.keepAlive.stop()
    this.ws.closeAll(1001, 'server shutting down')
  }
}

/** Waits for `promise`, at most `ms`; resolves with its value, or undefined on time-out. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let cancel = () => {}
  const timeout = new Promise<undefined>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, ms))
    cancel = () => clearTimeout(timer)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    cancel()
  }
}

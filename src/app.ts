import { cors } from '@elysiajs/cors'
import { Elysia } from 'elysia'
import { docs } from './api/docs'
import { errorHandler } from './api/errors'
import { healthApi } from './api/health'
import { pages } from './api/pages'
import { Lifecycle } from './api/lifecycle'
import { RouteMethods } from './api/methods'
import { publishApi } from './api/publish'
import { MemoryBroker } from './broker/memory'
import { DEFAULTS, type HeraldOptions } from './config'
import { MemoryHistory } from './history/memory'
import { SqliteHistory } from './history/sqlite'
import type { HistoryStore } from './history/store'
import { Hub } from './hub/hub'
import { type Logger, silentLogger } from './log'
import { builtInStreams } from './streams/builtin'
import { exampleStreams } from './streams/examples'
import { liveFeed } from './streams/feed/routes'
import { chatPresence } from './streams/chat/plugin'
import { sseTransport } from './transports/sse'
import { wsServerOptions, wsTransport } from './transports/ws'

/**
 * Builds the whole server without listening (main.ts calls `listen`; tests may call `app.listen`
 * on port 0). Opening the `--store` happens here, so it throws `store_unavailable`. The one place
 * where concrete parts (memory history, memory broker) are chosen and wired together.
 */
export function createApp(overrides: Partial<HeraldOptions> = {}, log: Logger = silentLogger) {
  const options: HeraldOptions = { ...DEFAULTS, ...overrides }
  const history = historyStore(options)
  if (history instanceof SqliteHistory && history.repaired) {
    log.warn('repaired event ids the store must not serve (written by an older Herald or edited by hand); clients holding them get a reset', { store: options.store, ...history.repaired })
  }
  const hub = new Hub({
    history,
    broker: new MemoryBroker(history, { maxIdSkewMs: options.maxIdSkewMs }),
    maxDataBytes: options.maxMessageBytes,
    queueLimit: options.queueSize,
    maxReplay: Math.max(options.historySize, 10_000),
    maxSelectors: options.maxSubscriptionTopics,
    maxConnections: options.maxConnections,
    maxTotalSelectors: options.maxServerTopics,
  })
  const lifecycle = new Lifecycle()
  const wsOptions = { maxMessageBytes: options.maxMessageBytes, backpressureBytes: options.wsBackpressureBytes, queueSize: options.queueSize, messageRate: options.wsMessageRate, maxConnectionTopics: options.maxConnectionTopics }
  const ws = wsTransport(hub, wsOptions, log)
  // The route table, for 405 on a wrong method; read on the first unrouted request.
  const methods = new RouteMethods()
  const app = new Elysia({ name: 'herald', websocket: wsServerOptions(wsOptions) })
    .use(lifecycle.plugin())
    .use(errorHandler(log, methods))
    .use(corsFor(options.corsOrigins))
    .use(docs())
    .use(healthApi(hub, ws))
    .use(publishApi(hub, options))
    .use(sseTransport(hub, options))
    .use(ws.plugin)
    .use(exampleStreams())
    .use(builtInStreams(options))
    .use(liveFeed(hub, options, log))
    .use(chatPresence(hub))
    .use(pages())
    .onStop(() => hub.close())
  methods.from(() => app.routes)

  /**
   * Graceful shutdown, bounded by `shutdownTimeoutMs`: stop accepting (new requests get 503), let
   * publishes in flight finish, then end every SSE stream (each is flushed and gets a `retry:`
   * hint) and close every WebSocket with 1001, then stop the server. Resolves when it is down.
   */
  async function shutdown(timeoutMs = options.shutdownTimeoutMs): Promise<void> {
    const server = app.server
    if (!server || lifecycle.draining) return
    const deadline = Date.now() + timeoutMs
    const remaining = () => Math.max(0, deadline - Date.now())
    lifecycle.draining = true
    log.info('shutting down', { publishesInFlight: lifecycle.publishesInFlight, subscriptions: hub.stats().subscriptions, websockets: ws.count() })
    const stopped = app.stop(false)
    await within(lifecycle.drained(), remaining())
    await hub.close()
    ws.closeAll(1001, 'server shutting down')
    if (!(await within(stopped.then(() => true), remaining()))) {
      log.warn('shutdown timed out; closing the remaining connections', { timeoutMs })
      await server.stop(true)
    }
  }

  /**
   * Listens as the product must: alone on its port (`reusePort: false`). Elysia's Bun adapter
   * defaults to `reusePort: true` (Elysia 1.4.30), so a second server on the same port would start
   * without error and take part of the connections, each process being a separate hub. Throws
   * Bun's listen error (its `code` is EADDRINUSE, EADDRNOTAVAIL, EACCES, …); returns the port.
   */
  function listen(port = options.port, hostname = options.host): number {
    app.listen({ port, hostname, reusePort: false })
    return app.server?.port ?? port
  }

  return { app, hub, options, listen, shutdown }
}

/** The history store `--store` names; both keep `--history` events per topic and honour `--history-ttl`. */
function historyStore(options: HeraldOptions): HistoryStore {
  const retention = { perTopic: options.historySize, maxTopics: options.historyTopics, ttlMs: options.historyTtlMs, startedAt: { ms: Date.now(), seq: 0 } }
  if (options.store.startsWith('sqlite:')) return new SqliteHistory({ path: options.store.slice('sqlite:'.length), maxIdSkewMs: options.maxIdSkewMs, ...retention })
  return new MemoryHistory(retention)
}

/** Waits for `promise`, at most `ms`; resolves with its value, or undefined on time-out. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let cancel = () => {}
  const timeout = new Promise<undefined>((resolve) => {
    const timer = setTimeout(resolve, ms)
    cancel = () => clearTimeout(timer)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    cancel()
  }
}

/** CORS only when origins are configured: by default browsers may use Herald from its own origin only. */
function corsFor(origins: string[]) {
  if (origins.length === 0) return new Elysia({ name: 'herald-cors-off' })
  return cors({ origin: origins.includes('*') ? true : origins, methods: ['GET', 'POST', 'OPTIONS'], exposeHeaders: ['content-type'], maxAge: 600 })
}

export type HeraldApp = ReturnType<typeof createApp>['app']

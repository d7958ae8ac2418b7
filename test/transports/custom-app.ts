/**
 * A Herald made of the real parts (hub, memory broker, SSE, WebSocket, publish API, error handler)
 * around a store and an authenticator the test chooses: for what createServer does not let a test
 * inject (a slow or failing store, a fake authenticator, a fake peer address). Listens on port 0.
 */
import type { Server } from 'bun'
import { Elysia } from 'elysia'
import type { Authenticator } from '../../src/auth/types'
import { createAuthenticator } from '../../src/auth/authenticator'
import { hubSettings } from '../../src/options'
import { HeraldCors } from '../../src/api/cors'
import { EdgeAuth, type RemoteAddress } from '../../src/api/edge-auth'
import { errorHandler } from '../../src/api/errors'
import { Lifecycle } from '../../src/api/lifecycle'
import { RouteGuard } from '../../src/api/route-guard'
import { publishApi } from '../../src/api/publish'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import type { HistoryStore } from '../../src/hub/history'
import { Hub } from '../../src/hub/hub'
import { silentLogger } from '../../src/log'
import { keepAliveTimer, sharedBatchEncoder, sseTransport } from '../../src/transports/sse'
import { wsServerOptions, wsTransport } from '../../src/transports/ws'

export interface CustomServer {
  base: string
  wsBase: string
  hub: Hub
  /** Bun's server, to look at native subscriptions. */
  server: Server<unknown>
  stop(): Promise<void>
}

export interface CustomServerOptions {
  history?: HistoryStore
  /** Default: no key configured. */
  auth?: Authenticator
  /** Default: false. */
  dev?: boolean
  allowedOrigins?: string[]
  /** Default: Bun's (127.0.0.1 in tests). */
  remoteAddress?: RemoteAddress
  /** WebSocket auth deadline (default 10 s). */
  authTimeoutMs?: number
  serverTopics?: string[]
}

export function startCustomServer(options: CustomServerOptions = {}): CustomServer {
  const history = options.history ?? new MemoryHistory({ perTopic: 1000, maxTopics: 1000, startedAt: { ms: 0, seq: 0 } })
  const hub = new Hub({ history, broker: new MemoryBroker(history), maxDataBytes: 65_536, queueLimit: 10_000, maxReplay: 10_000, maxSelectors: 16, serverTopics: options.serverTopics })
  const edge = new EdgeAuth({ auth: options.auth ?? createAuthenticator(hubSettings({})), dev: options.dev ?? false, allowedOrigins: options.allowedOrigins ?? [], remoteAddress: options.remoteAddress })
  const wsOptions = { maxMessageBytes: 65_536, backpressureBytes: 1 << 20, authTimeoutMs: options.authTimeoutMs }
  const guard = new RouteGuard(silentLogger, new HeraldCors([]), new Lifecycle())
  const ws = wsTransport(hub, wsOptions, silentLogger, guard, edge)
  const sse = { hub, settings: { keepAliveMs: 15_000, retryMs: 1000 }, keepAlive: keepAliveTimer(hub, 15_000), encode: sharedBatchEncoder(), guard, edge }
  const app = new Elysia({ websocket: wsServerOptions(wsOptions) })
    .use(errorHandler(silentLogger))
    .use(publishApi(hub, { maxMessageBytes: 65_536 }, guard, edge))
    .use(sseTransport(sse))
    .use(ws.plugin)
    .onStop(() => {
      sse.keepAlive.stop()
      void hub.close()
    })
  app.listen({ port: 0, hostname: '127.0.0.1', reusePort: false })
  const server = app.server
  if (!server?.port) throw new Error('server did not start')
  return {
    base: `http://127.0.0.1:${server.port}`,
    wsBase: `ws://127.0.0.1:${server.port}`,
    hub,
    server: server as Server<unknown>,
    stop: async () => {
      await app.stop(true)
    },
  }
}

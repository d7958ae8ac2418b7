import { Elysia } from 'elysia'
import { errorBody, errorResponse, STATUS_BY_CODE } from './api/errors'
import { healthApi } from './api/health'
import { readyApi } from './api/ready'
import { staticHandler } from './api/static'
// An embedded file (a path: see src/assets.d.ts). A program that compiles this module without
// assets.d.ts (an app type-checking Herald's sources) has no type for a .js import; the path is
// only used below, as a string, and never reaches the emitted .d.ts.
// @ts-ignore TS7016 outside this repo's program
import heraldClient from './client/bundle/herald.js' with { type: 'file' }
import { HubError } from './hub/errors'
import { HeraldApi } from './api/herald-api'
import { publishApi } from './api/publish'
import { frameSseGenerator } from './api/sse-routes'
import { silentLogger } from './log'
import { type HeraldPluginOptions, hubSettings } from './options'
import { HeraldRuntime } from './runtime'
import { sseTransport } from './transports/sse'
import { wsServerOptions } from './transports/ws'
import { checkWebSocketSettings, type WebSocketSettings } from './websocket-settings'
import { clusterMembership, listenAddress } from './cluster/attach'

/** Herald's paths (under the prefix) and the methods each serves; any other method gets 405. */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/client/herald.js': ['GET'],
  '/events': ['GET'],
  '/ws': ['GET'],
  '/topics/*': ['POST'],
  '/publish': ['POST'],
  '/healthz': ['GET'],
  '/readyz': ['GET'],
  '/stats': ['GET'],
}

/** The root apps a Herald is mounted in (one each: see `herald`). */
const MOUNTED = new WeakMap<object, string>()

function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix)) {
    throw new TypeError(`herald(): prefix ${JSON.stringify(prefix)} must look like "/rt" or "/api/realtime" (starts with "/", no trailing "/", no wildcards or parameters)`)
  }
  return prefix
}

/** The slice of an app `herald()` reads and writes when it is used. */
interface AppWithConfig {
  config: { websocket?: WebSocketSettings }
  stop: (closeActiveConnections?: boolean) => Promise<unknown>
}

/**
 * Makes the app's graceful `stop()` end Herald's streams and sockets (`shutdown`) while the server
 * stops: Bun's graceful `server.stop()` waits for every open request, and Elysia runs onStop hooks
 * only after it (Elysia 1.4.30), so Herald's streams, open until Herald ends them, held it forever.
 * `stop(true)` cuts every connection anyway; onStop then stops Herald at once.
 */
function shutdownOnStop(app: AppWithConfig, shutdown: () => Promise<void>): void {
  const stop = app.stop
  app.stop = async (closeActiveConnections) => {
    // Called first, so the server refuses new connections while Herald drains.
    const stopped = stop(closeActiveConnections)
    if (!closeActiveConnections) await shutdown()
    return stopped
  }
}

/**
 * Herald as an Elysia plugin: `new Elysia().use(herald({ prefix: '/rt' }))` serves the publish API
 * (`POST /rt/topics/…`, `POST /rt/publish`), `GET /rt/events` (SSE), `/rt/ws` (WebSocket),
 * `/rt/healthz`, `/rt/readyz` and `/rt/stats`, and gives every handler a `herald` to publish and subscribe from
 * code. Options are the CLI's (see `herald --help`); defaults are the same.
 *
 * It changes nothing of the host's own routes: its error format, CORS and the 503 while shutting
 * down apply to Herald's routes only. The one thing it adds to the routes declared after it: a
 * generator route whose first value is a Herald item may also yield plain `{ data, event, id }`
 * objects, written as SSE events (see api/sse-routes.ts); other routes pass through unchanged.
 *
 * Bun takes WebSocket settings from the root app only (Elysia 1.4): used on the root app, Herald
 * adds its own (slow-consumer cut, message size) to the app's `websocket` config; mounted deeper,
 * or with settings of the host's that weaken them, the app refuses to start and says what to set.
 * One Herald per app: a second one refuses to start (one registry is the point: separate topic
 * spaces with topic prefixes). Stopping the app shuts Herald down (a graceful `app.stop()` drains it
 * first, as `herald.shutdown()` does, so its open streams cannot hold the stop).
 *
 * Throws at once on a bad option or a `store` that cannot be opened (`store_unavailable`). With
 * `redis` it connects in the background: `herald.ready()` resolves once connected, and until then
 * `/readyz` answers 503 and publishes `store_unavailable`.
 */
export function herald(options: HeraldPluginOptions = {}) {
  const { prefix: rawPrefix, logger, auth, serverTopics, remoteAddress, ...rest } = options
  const prefix = checkPrefix(rawPrefix ?? '')
  const log = logger ?? silentLogger
  const runtime = new HeraldRuntime(hubSettings(rest), log, { auth, serverTopics, remoteAddress })
  const api = new HeraldApi(runtime)
  // With `redis`: this node heartbeats into the cluster from the moment the app listens (see src/cluster/).
  api.cluster = clusterMembership(runtime, log)
  const cors = runtime.cors
  const required = wsServerOptions(runtime.wsOptions)
  const serveClient = staticHandler({ path: heraldClient as string, type: 'text/javascript; charset=utf-8' })

  const routes = new Elysia({ name: 'herald', seed: prefix, prefix })
    .decorate('herald', api)
    .onError((context) => {
      cors.apply(context.request, context.set)
      return errorResponse(context, log)
    })
    .onTransform(({ request, set }) => cors.apply(request, set))
    // Publishes are refused (and counted) as their body starts being read: see publishApi's parse.
    .onBeforeHandle((context) => {
      // /readyz answers for itself while draining: a load balancer reads the reason there.
      if (runtime.draining && context.request.method !== 'POST' && context.path !== `${prefix}/readyz`) return runtime.guard.answer(new HubError('shutting_down', 'Herald is shutting down; retry shortly'), context)
    })
    .use(healthApi(api))
    .use(readyApi(() => runtime.readiness()))
    .use(publishApi(runtime.hub, runtime.settings, runtime.guard, runtime.edge))
    .use(sseTransport(runtime))
    .use(runtime.ws.plugin)
    // The browser client (src/client/, built by scripts/build-client.ts), at a stable path under
    // the prefix, so a page of the host app can `import { connect } from '/rt/client/herald.js'`.
    .get('/client/herald.js', ({ request }) => serveClient(request), { detail: { hide: true } })
  for (const [path, served] of Object.entries(ROUTES)) {
    // Bun answers HEAD with a GET route's headers.
    const methods = served.includes('GET') ? [...served, 'HEAD'] : served
    routes.all(
      path,
      ({ request, set }) => {
        if (request.method === 'OPTIONS') return cors.preflight(request, methods)
        set.status = STATUS_BY_CODE.method_not_allowed
        set.headers.allow = methods.join(', ')
        return errorBody('method_not_allowed', `${request.method} is not allowed here: use ${methods.join(' or ')}`)
      },
      { detail: { hide: true } },
    )
  }
  const plugin = routes
    // An afterHandle hook, not mapResponse: a scoped mapResponse empties the host's 404 bodies
    // (Elysia 1.4.30). A generator returned here is streamed like one the handler returned.
    .onAfterHandle({ as: 'scoped' }, ({ responseValue, request, server }) => frameSseGenerator(responseValue, runtime.settings, request, server))
    .onStart((root) => {
      const app = root as unknown as AppWithConfig & object
      const other = MOUNTED.get(app)
      if (other !== undefined && other !== prefix) {
        throw new Error(`herald() is mounted twice in one app (prefixes "${other}" and "${prefix}"): one Herald serves one app; keep one and separate topic spaces with topic prefixes instead`)
      }
      if (other === undefined) shutdownOnStop(app, () => api.shutdown())
      MOUNTED.set(app, prefix)
      const problems = checkWebSocketSettings(app.config.websocket, required)
      if (problems.length > 0) {
        throw new Error(
          `herald(): the app's WebSocket settings ${problems.join('; ')}. Bun reads them from the root app only: use herald() on the root app, or pass its settings there: new Elysia({ websocket: heraldWebSocket(options) })`,
        )
      }
      api.server = root.server ?? undefined
      api.cluster?.start(listenAddress(root.server))
    })
    .onStop(() => {
      runtime.stopNow()
      // Leaves the cluster at once (not awaited: Elysia does not await onStop); without Redis it runs out within --node-ttl.
      void api.cluster?.stop().finally(() => api.cluster?.link.close())
    })

  /** Used on the root app, adds Herald's WebSocket settings to it (the host's own keys win, and are checked at start). */
  const mount = (app: Elysia) => {
    const config = (app as unknown as AppWithConfig).config
    config.websocket = { ...required, ...config.websocket }
    return app.use(plugin)
  }
  return Object.assign(mount, { herald: api })
}

/** The `herald` object handlers receive: `publish`, `subscribe`, `stream`, `stats`, `shutdown`. */
export type { HeraldApi }

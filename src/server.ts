import { staticPlugin } from '@elysiajs/static'
import { Elysia } from 'elysia'
import { docs } from './api/docs'
import { errorBody, errorHandler } from './api/errors'
import { RouteMethods } from './api/methods'
import { DEFAULTS, type HeraldOptions } from './config'
import { builtInStreams } from './demos/builtin'
import { chatDemo } from './demos/chat/plugin'
import { CHAT_SERVER_TOPICS } from './demos/chat/topics'
import { serverAuth } from './demos/demo-tokens'
import { exampleStreams } from './demos/examples'
import { FEED_TOPIC, liveFeed } from './demos/feed/routes'
import { pages } from './demos/pages'
import { RedisDemoSecret } from './demos/shared-secret'
import { type Logger, silentLogger } from './log'
import { herald } from './plugin'
import { within } from './runtime'

/**
 * Topics of the demos that only the server's code may publish to (publishers get 403
 * `forbidden_topic`): the feed's markup, and everything of the chat (its routes publish for a token).
 */
export const DEMO_SERVER_TOPICS: readonly string[] = [FEED_TOPIC, CHAT_SERVER_TOPICS]

/** Topics of the demos anyone may read, with a key configured too (added to `--public`): the feed, which GET /feed shows anyone anyway. */
export const DEMO_PUBLIC_TOPICS: readonly string[] = [FEED_TOPIC]

/**
 * The standalone server (`bun run dev`, the binary): the `herald()` plugin at the root, plus what
 * only the server has: the demos and their pages, Swagger UI at /swagger, the user's own
 * front-end folder (`--static`), JSON 404/405 for every path, and a 503 for every request once
 * shutdown has begun. Builds without listening (main.ts calls `listen`; tests may call
 * `app.listen` on port 0). Throws `store_unavailable` when the `--store` cannot be opened.
 */
export function createServer(overrides: Partial<HeraldOptions> = {}, log: Logger = silentLogger) {
  const options: HeraldOptions = { ...DEFAULTS, ...overrides }
  const { port: _port, host: _host, logLevel: _level, logFormat: _format, feedDb: _feed, staticDir, demoTokens: _demo, redisStart: _start, ...settings } = options
  // Tokens for the demos, with or without a key (see demo-tokens.ts); throws ConfigError for a bad key.
  // On a cluster the nodes share the generated demo secret (kept in Redis), so a token works on every node.
  const secret = options.redis === '' ? undefined : new RedisDemoSecret()
  const authentication = serverAuth(options, DEMO_PUBLIC_TOPICS, secret)
  // Pages trust what arrives there (markup every /feed page swaps in, who said what, who is online): only the server writes it.
  const realtime = herald({ ...settings, logger: log, serverTopics: DEMO_SERVER_TOPICS, auth: authentication.auth })
  const api = realtime.herald
  // With --redis: the demos keep their shared state (feed posts, chat names and rosters) in the cluster's Redis.
  const cluster = api.cluster
  if (cluster) secret?.attach(cluster)
  // The route table, for 405 on a wrong method; read on the first unrouted request.
  const methods = new RouteMethods()
  let draining = false
  const app = new Elysia({ name: 'herald-server' })
    .onRequest(({ set, request }) => {
      // /readyz says why itself (reason "draining"), for load balancers.
      if (!draining || new URL(request.url).pathname === '/readyz') return
      set.status = 503
      set.headers['retry-after'] = '5'
      set.headers.connection = 'close'
      return errorBody('shutting_down', 'Herald is shutting down; retry shortly')
    })
    .use(errorHandler(log, methods))
    .use(docs())
    .use(realtime)
    .use(exampleStreams())
    .use(builtInStreams(options))
    .use(liveFeed(api.hub, options, log, cluster))
    .use(chatDemo(api.hub, authentication, {}, cluster))
    .use(pages({ index: staticDir === '' }))
    .use(staticDir === '' ? new Elysia({ name: 'herald-no-static' }) : staticPlugin({ assets: staticDir, prefix: '/', alwaysStatic: false, indexHTML: true }))
  methods.from(() => app.routes)

  /**
   * Graceful shutdown, bounded by `timeoutMs`: every new request gets 503, publishes in flight
   * finish, every SSE stream ends (flushed, with a `retry:` hint) and every WebSocket closes with
   * 1001, then the server stops. Resolves when it is down.
   */
  async function shutdown(timeoutMs = options.shutdownTimeoutMs): Promise<void> {
    const server = app.server
    if (!server || draining) return
    const deadline = Date.now() + timeoutMs
    const remaining = () => Math.max(0, deadline - Date.now())
    draining = true
    // Herald's drain starts first, with this deadline; the app's stop then waits for the same one.
    const drained = api.shutdown(remaining())
    const stopped = app.stop(false)
    await drained
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

  return { app, hub: api.hub, herald: api, options, listen, shutdown, demoTokens: authentication.demo !== undefined }
}

export type HeraldServer = ReturnType<typeof createServer>['app']

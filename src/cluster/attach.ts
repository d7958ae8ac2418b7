import { hostname } from 'node:os'
import type { Server } from 'bun'
import { VERSION } from '../config'
import type { Logger } from '../log'
import type { HeraldRuntime } from '../runtime'
import { ClusterKeys } from './keys'
import { ClusterLink } from './link'
import { ClusterMembership } from './membership'

/**
 * This node's cluster membership when `redis` is set (undefined without it: one node, nothing of
 * this runs). It has its own connection to Redis, which the demos' shared state uses too; Redis
 * going away and coming back is logged once each way.
 */
export function clusterMembership(runtime: HeraldRuntime, log: Logger): ClusterMembership | undefined {
  const { redis, redisPrefix, nodeTtlMs, maxConnections } = runtime.settings
  if (redis === '') return undefined
  // The broker's connection settings, where this build has them: the password kept out of the URL, the command timeout.
  const { redisPassword = '', redisTimeoutMs = 2000 } = runtime.settings as { redisPassword?: string; redisTimeoutMs?: number }
  const link = new ClusterLink(withPassword(redis, redisPassword), {
    connectTimeoutMs: redisTimeoutMs,
    commandTimeoutMs: redisTimeoutMs,
    onChange: (up, error) => (up ? log.info('redis connected', { prefix: redisPrefix }) : log.warn('redis unreachable; retrying with backoff', { prefix: redisPrefix, error })),
  })
  return new ClusterMembership(link, new ClusterKeys(redisPrefix), {
    ttlMs: nodeTtlMs,
    version: VERSION,
    log,
    counters: () => {
      const stats = runtime.hub.stats()
      const websockets = runtime.ws.count()
      return {
        connections: stats.connections,
        sse: stats.subscriptions,
        websockets,
        subscribers: stats.subscribers,
        selectors: stats.selectors,
        queued: stats.queued,
        published: stats.published,
        slowConsumers: stats.slowConsumers,
        maxConnections,
      }
    },
  })
}

/** `url` with `password` in it, unless it has one already (or there is none). */
export function withPassword(url: string, password: string): string {
  if (password === '') return url
  const parsed = new URL(url)
  if (parsed.password !== '') return url
  parsed.password = encodeURIComponent(password)
  return parsed.toString()
}

/** Where a server listens, as other nodes and people would reach it: `http://<host>:<port>` (the machine's name for a wildcard address). */
export function listenAddress(server: Server<unknown> | null | undefined): string {
  if (!server) return ''
  const host = server.hostname === undefined || ['0.0.0.0', '::', ''].includes(server.hostname) ? hostname() : server.hostname
  return `${server.protocol ?? 'http'}://${host.includes(':') ? `[${host}]` : host}:${server.port}`
}

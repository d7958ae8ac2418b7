import { MemoryBroker } from './broker/memory'
import { RedisBroker } from './broker/redis'
import { ConfigError } from './config'
import { MemoryHistory } from './history/memory'
import { RedisHistory } from './history/redis'
import { SqliteHistory } from './history/sqlite'
import type { HistoryStore } from './history/store'
import type { Broker } from './hub/broker'
import type { EventId } from './hub/id'
import type { Logger } from './log'
import type { HubSettings } from './options'
import { RedisLink } from './redis/link'
import { checkRedisPrefix, checkRedisUrl, redisTarget } from './redis/url'

/** The history and broker the settings name, and the Redis broker when it is one (it has a life of its own: connections, readiness). */
export interface Backend {
  history: HistoryStore
  broker: Broker
  cluster: RedisBroker | undefined
}

/**
 * One process (`--store memory` or `sqlite:PATH`, the memory broker) or a cluster node (`--redis`:
 * history and broker in Redis). Throws ConfigError for `--store sqlite:…` with `--redis` (one
 * process's file cannot be a cluster's history) and for a `redis` that is not a Redis URL (or a bad `redisPrefix`), `store_unavailable` when a sqlite file cannot be
 * opened. A Redis backend is not connected yet: call `cluster.start()`.
 */
export function createBackend(settings: HubSettings, startedAt: EventId, log: Logger): Backend {
  const retention = { perTopic: settings.historySize, maxTopics: settings.historyTopics, ttlMs: settings.historyTtlMs, startedAt }
  if (settings.redis !== '') {
    if (settings.store !== 'memory') {
      throw new ConfigError(`--store ${settings.store} keeps one process's history, but with --redis every node shares the history in Redis: remove --store`)
    }
    let url: string
    try {
      url = redisTarget(checkRedisUrl(settings.redis), settings.redisPassword)
      checkRedisPrefix(settings.redisPrefix)
    } catch (error) {
      throw new ConfigError(`redis: ${(error as Error).message}`)
    }
    const links = { commands: new RedisLink(url, { timeoutMs: settings.redisTimeoutMs }), reader: new RedisLink(url, { timeoutMs: settings.redisTimeoutMs }) }
    const history = new RedisHistory(links.commands, { prefix: settings.redisPrefix, logSize: settings.redisLogSize, ...retention })
    const cluster = new RedisBroker(history, links, { maxIdSkewMs: settings.maxIdSkewMs, timeoutMs: settings.redisTimeoutMs, log })
    return { history, broker: cluster, cluster }
  }
  const history = settings.store.startsWith('sqlite:')
    ? new SqliteHistory({ path: settings.store.slice('sqlite:'.length), maxIdSkewMs: settings.maxIdSkewMs, ...retention })
    : new MemoryHistory(retention)
  return { history, broker: new MemoryBroker(history, { maxIdSkewMs: settings.maxIdSkewMs }), cluster: undefined }
}

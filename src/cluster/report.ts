/**
 * What each node tells the cluster about itself, and what `/stats` shows of the cluster. Reports
 * come from other processes (possibly another Herald version): `parseReport` keeps only what has
 * the right shape.
 */

/** A node's counters, as its own `/stats` shows them (gauges of now, except `published`). */
export interface NodeCounters {
  /** Subscriber connections open (SSE streams + WebSockets), as counted for `--max-connections`. */
  connections: number
  /** SSE streams open. */
  sse: number
  /** WebSockets open. */
  websockets: number
  /** Registry subscribers (SSE subscriptions and WebSockets holding a topic). */
  subscribers: number
  /** Topics and patterns subscribed, as counted for `--max-server-topics`. */
  selectors: number
  /** Deliveries waiting unread in SSE queues. */
  queued: number
  /** Events this node's hub delivered since it started. Not summed: with a cluster broker every node delivers every event. */
  published: number
  /** Subscribers cut for reading too slowly since start, by transport. */
  slowConsumers: Record<string, number>
  /** This node's `--max-connections` (0 = no limit): the limit is per node. */
  maxConnections: number
}

/** One node's entry in the cluster. */
export interface NodeReport {
  /** Random per process start: a restarted node is a new node. */
  id: string
  /** Where it listens, e.g. `http://10.0.0.5:3000` ('' before it listens). */
  address: string
  /** When it started, RFC 3339. */
  startedAt: string
  pid: number
  version: string
  counters: NodeCounters
}

/** A node as `/stats` lists it. */
export interface ClusterMember extends NodeReport {
  /** True for the node that answered this `/stats` (its counters are live; the others' are as of their last heartbeat). */
  self: boolean
  /** When its membership runs out unless it heartbeats again, RFC 3339 (Redis's clock). */
  expiresAt: string
}

/** The additive counters summed over the nodes alive. */
export type ClusterTotals = Omit<NodeCounters, 'published' | 'maxConnections'>

/** `cluster` in `GET /stats` (present only with `--redis`). */
export interface ClusterStats {
  /** This node's id. */
  self: string
  /** Whether this node reaches Redis right now. */
  redis: 'up' | 'down'
  /** When this node last heartbeat successfully (Redis's clock), RFC 3339; null before its first. */
  updatedAt: string | null
  /** Nodes alive (heartbeat within `--node-ttl`), this one included. */
  alive: number
  totals: ClusterTotals
  nodes: ClusterMember[]
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

/** Most named counts (transports) kept from one report: a report with thousands cannot bloat /stats. */
const MAX_COUNTS = 16

/** A record without a prototype, so a name such as `__proto__` is just a name. */
function record(): Record<string, number> {
  return Object.create(null) as Record<string, number>
}

function counts(value: unknown): Record<string, number> {
  const out = record()
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out
  let kept = 0
  for (const [name, n] of Object.entries(value)) {
    if (kept >= MAX_COUNTS) break
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) continue
    out[name] = count(n)
    kept++
  }
  return out
}

function text(value: unknown, max = 200): string {
  return typeof value === 'string' ? value.slice(0, max) : ''
}

/** Counters from untrusted JSON: anything missing or of the wrong type is 0. */
export function parseCounters(value: unknown): NodeCounters {
  const c = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  return {
    connections: count(c.connections),
    sse: count(c.sse),
    websockets: count(c.websockets),
    subscribers: count(c.subscribers),
    selectors: count(c.selectors),
    queued: count(c.queued),
    published: count(c.published),
    slowConsumers: counts(c.slowConsumers),
    maxConnections: count(c.maxConnections),
  }
}

/** A report read from Redis; undefined when it is not JSON of the right shape. */
export function parseReport(id: string, json: string): NodeReport | undefined {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const r = value as Record<string, unknown>
  return { id, address: text(r.address), startedAt: text(r.startedAt, 40), pid: count(r.pid), version: text(r.version, 40), counters: parseCounters(r.counters) }
}

/** Sums the additive counters. */
export function sumCounters(list: readonly NodeCounters[]): ClusterTotals {
  const totals: ClusterTotals = { connections: 0, sse: 0, websockets: 0, subscribers: 0, selectors: 0, queued: 0, slowConsumers: record() }
  for (const c of list) {
    totals.connections += c.connections
    totals.sse += c.sse
    totals.websockets += c.websockets
    totals.subscribers += c.subscribers
    totals.selectors += c.selectors
    totals.queued += c.queued
    for (const [name, n] of Object.entries(c.slowConsumers)) {
      // At most MAX_COUNTS names in the sum too, whatever the nodes report.
      if (totals.slowConsumers[name] === undefined && Object.keys(totals.slowConsumers).length >= MAX_COUNTS) continue
      totals.slowConsumers[name] = (totals.slowConsumers[name] ?? 0) + n
    }
  }
  return totals
}

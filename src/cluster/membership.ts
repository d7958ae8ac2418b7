import { type Logger, silentLogger } from '../log'
import type { ClusterKeys } from './keys'
import type { ClusterLink } from './link'
import { type ClusterMember, type ClusterStats, type NodeCounters, type NodeReport, parseReport, sumCounters } from './report'

/**
 * One heartbeat, atomically, in Redis time (so the nodes' clocks do not matter): forget nodes whose
 * membership ran out, renew this one's, store its report, and answer the cluster as it is now:
 * `[now, wasAlive, id, expiresAt, report, id, expiresAt, report, …]`. `wasAlive` is 1 when this
 * node's previous membership had not run out (0 on its first beat, or after it was away too long).
 * KEYS: nodes (zset), reports (hash). ARGV: id, report JSON, ttl ms.
 */
export const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
local was = 0
if previous and tonumber(previous) >= now then was = 1 end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)) do redis.call('HDEL', KEYS[2], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local out = { now, was }
local alive = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #alive, 2 do
  local report = redis.call('HGET', KEYS[2], alive[i])
  if report then
    table.insert(out, alive[i])
    table.insert(out, alive[i + 1])
    table.insert(out, report)
  end
end
return out
`

/** A clean leave: KEYS nodes, reports; ARGV id. */
const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`

export interface MembershipOptions {
  /** This node's id; default a random one (a restarted process is a new node). */
  id?: string
  /** How long a membership lasts without a heartbeat, in ms; heartbeats come every ttlMs / 5. */
  ttlMs: number
  /** This node's counters now (read at every heartbeat and every `stats()`). */
  counters: () => NodeCounters
  version: string
  log?: Logger
}

/** Called after each successful heartbeat; `rejoined` is true when the cluster had counted this node as gone (it was cut from Redis longer than the TTL). */
export type BeatListener = (rejoined: boolean) => void | Promise<void>

/** A new node id: 12 random hex digits, one key segment. */
export function newNodeId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex')
}

/**
 * This node's membership of the cluster: a heartbeat every ttlMs / 5 that renews it (a sorted set
 * of expiry times, in Redis's clock) and stores its report (address, start time, counters), and
 * reads everyone else's in the same round trip. Redis traffic per node is one EVAL per heartbeat,
 * whatever the node's subscribers and events; `stats()` reads nothing from Redis. A node that stops
 * heartbeating (killed, or cut from Redis) drops out of every view within ttlMs.
 */
export class ClusterMembership {
  readonly id: string
  private readonly startedAt = new Date().toISOString()
  private address = ''
  private timer: ReturnType<typeof setInterval> | undefined
  private inFlight: Promise<void> | undefined
  private beats = 0
  /** The last view: the other nodes, when it was read (Redis time and local time). */
  private view: { others: { report: NodeReport; expiresAt: number }[]; redisNow: number; localAt: number } | undefined
  private readonly listeners = new Set<BeatListener>()
  private readonly log: Logger
  private failing = false

  constructor(
    readonly link: ClusterLink,
    readonly keys: ClusterKeys,
    private readonly options: MembershipOptions,
  ) {
    this.id = options.id ?? newNodeId()
    this.log = options.log ?? silentLogger
  }

  /** Milliseconds between heartbeats. */
  get intervalMs(): number {
    return Math.max(50, Math.floor(this.options.ttlMs / 5))
  }

  /** Starts heartbeating (the first at once) as the node listening at `address`. Idempotent. */
  start(address: string): void {
    this.address = address
    if (this.timer) return
    void this.beat()
    this.timer = setInterval(() => void this.beat(), this.intervalMs)
  }

  /** Adds a listener called after each successful heartbeat; returns the remover. */
  onBeat(listener: BeatListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** One heartbeat now (skipped while the previous one is still out). Never rejects: a failure is logged once until Redis answers again. */
  beat(): Promise<void> {
    this.inFlight ??= this.heartbeat().finally(() => {
      this.inFlight = undefined
    })
    return this.inFlight
  }

  /** True when `id` was alive at the last heartbeat (this node always is). */
  isAlive(id: string): boolean {
    if (id === this.id) return true
    const view = this.view
    if (!view) return false
    const now = view.redisNow + (Date.now() - view.localAt)
    return view.others.some((other) => other.report.id === id && other.expiresAt >= now)
  }

  /** The `cluster` object of `/stats`: this node live, the others as of the last heartbeat (minus those whose membership has run out since). */
  stats(): ClusterStats {
    const view = this.view
    const self: ClusterMember = { ...this.report(), self: true, expiresAt: new Date((view ? view.redisNow + (Date.now() - view.localAt) : Date.now()) + this.options.ttlMs).toISOString() }
    const members: ClusterMember[] = [self]
    if (view) {
      const now = view.redisNow + (Date.now() - view.localAt)
      for (const { report, expiresAt } of view.others) if (expiresAt >= now) members.push({ ...report, self: false, expiresAt: new Date(expiresAt).toISOString() })
    }
    members.sort((a, b) => a.id.localeCompare(b.id))
    return {
      self: this.id,
      redis: this.link.up ? 'up' : 'down',
      updatedAt: view ? new Date(view.redisNow).toISOString() : null,
      alive: members.length,
      totals: sumCounters(members.map((member) => member.counters)),
      nodes: members,
    }
  }

  /** Stops heartbeating and leaves the cluster at once (best effort: a node that cannot reach Redis just runs out). */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.inFlight
    try {
      await this.link.eval(LEAVE, [this.keys.nodes, this.keys.reports], [this.id])
    } catch {
      // Redis is away: the membership runs out by itself within the TTL.
    }
  }

  private report(): NodeReport {
    return { id: this.id, address: this.address, startedAt: this.startedAt, pid: process.pid, version: this.options.version, counters: this.options.counters() }
  }

  private async heartbeat(): Promise<void> {
    const { id: _id, ...report } = this.report()
    let reply: unknown
    try {
      reply = await this.link.eval(HEARTBEAT, [this.keys.nodes, this.keys.reports], [this.id, JSON.stringify(report), this.options.ttlMs])
    } catch (error) {
      if (!this.failing) this.log.warn('cluster heartbeat failed; this node drops out of the cluster if Redis stays away longer than --node-ttl', { error, ttlMs: this.options.ttlMs })
      this.failing = true
      return
    }
    if (this.failing) this.log.info('cluster heartbeat back', { node: this.id })
    this.failing = false
    const list = Array.isArray(reply) ? reply : []
    const redisNow = Number(list[0])
    const rejoined = this.beats > 0 && Number(list[1]) !== 1
    this.beats++
    const others: { report: NodeReport; expiresAt: number }[] = []
    for (let i = 2; i + 2 < list.length; i += 3) others.push(...this.other(list, i))
    this.view = { others, redisNow, localAt: Date.now() }
    if (rejoined) this.log.warn('this node was counted as gone (cut from Redis longer than --node-ttl) and is back in the cluster', { node: this.id })
    for (const listener of this.listeners) {
      try {
        await listener(rejoined)
      } catch (error) {
        this.log.warn('cluster heartbeat listener failed', { error })
      }
    }
  }

  private other(list: unknown[], i: number): { report: NodeReport; expiresAt: number }[] {
    const id = String(list[i])
    if (id === this.id) return []
    const report = parseReport(id, String(list[i + 2]))
    return report ? [{ report, expiresAt: Number(list[i + 1]) }] : []
  }
}

import { HubError } from '../hub/errors'
import type { HubEvent } from '../hub/event'
import { compareIds, type EventId, formatEventId, ZERO_ID } from '../hub/id'
import { type AppendItem, appendArguments, entryId } from '../redis/entries'
import { RedisFailure, type RedisCommands, reasonOf } from '../redis/link'
import { APPEND, EXPIRE, OPEN, STATS } from '../redis/scripts'
import { REPLAY_PAGE } from './replay'
import { replayFromRedis } from './redis-replay'
import type { HistoryStore, ReplayResult } from './store'
import { Sweeper, sweepInterval } from './sweeper'

export interface RedisHistoryOptions {
  /** Key prefix: one Herald cluster's keys (`<prefix>:log`, `<prefix>:t:<topic>`, …). */
  prefix: string
  /** Events kept per topic (exactly: the oldest goes as a new one comes). */
  perTopic: number
  /** Topics kept; past it the least recently published topic's history is dropped. */
  maxTopics: number
  /** The floor of a cluster with no history yet: positions older than it were never stored. Usually "now". */
  startedAt: EventId
  /** Events older than this many milliseconds are dropped by a background sweep (0 = keep forever). */
  ttlMs?: number
  /** Clock for the TTL, milliseconds since the epoch (tests pin it). */
  now?: () => number
  /** Entries the cluster log (`<prefix>:log`) keeps for nodes catching up after a disconnection. */
  logSize: number
  /** Events per read of a resume (default REPLAY_PAGE; tests make it small). */
  replayPage?: number
  /** Waited before each read of a resume after the first (tests change the store here); default none. */
  replayPause?: () => Promise<void>
}

/** What OPEN found. */
export interface OpenState {
  /** True when this call created the cluster's keys (Redis held none). */
  created: boolean
  epoch: string
  floor: EventId
  /** The newest id written (the floor when none was). */
  last: EventId
}

/** Options of `write`: how a publish is checked. */
export interface WriteOptions {
  /** `publish`: publisher ids within `maxSkewMs` of the clock; `append`: ids as given. */
  mode: 'publish' | 'append'
  /** The id clock in ms; undefined = Redis's own TIME (one clock for the whole cluster). */
  now: number | undefined
  maxSkewMs: number
  /** The newest id the writer has seen: ids given out come after it. */
  minId: EventId
}

/** What a write kept. */
export interface Written {
  epoch: string
  ids: EventId[]
}

/** Most events one TTL step drops (one script call). */
const EXPIRE_STEP = 1000

/** A short random epoch name: a new one marks Redis having lost its data. */
export function newEpoch(): string {
  return crypto.randomUUID().replaceAll('-', '').slice(0, 12)
}

/** A Redis failure as the publisher or subscriber sees it. */
export function unavailable(error: unknown, what: string): HubError {
  if (error instanceof HubError) return error
  const reason = reasonOf(error)
  if (error instanceof RedisFailure && !error.sent) return new HubError('store_unavailable', `Redis is unreachable (${reason}); ${what} did not happen, try again`)
  return new HubError('store_unavailable', `Redis failed (${reason}); ${what} may or may not have happened`)
}

/**
 * The history of a Herald cluster, in Redis: one stream per topic with Herald's ids, written by
 * the APPEND script (see src/redis/scripts.ts for every key). Retention is the memory store's:
 * `perTopic` events per topic (exact), `maxTopics` topics (the least recently published dropped,
 * raising the floor), and a TTL swept in the background in small steps. Marks per topic and the
 * floor live in Redis, so every node answers a resume the same way.
 *
 * Methods that need Redis answer with a promise; `head` and `stats` answer at once from what this
 * node last learned (its own writes, the broker's reads, a refresh on each sweep).
 */
export class RedisHistory implements HistoryStore {
  /** The cluster's epoch as this node knows it (undefined before `open`). */
  epoch: string | undefined
  private floor: EventId
  private newest: EventId = ZERO_ID
  private counts = { topics: 0, events: 0 }
  private readonly sweeper: Sweeper | undefined
  private closed = false

  constructor(
    readonly redis: RedisCommands,
    readonly options: RedisHistoryOptions,
  ) {
    this.floor = options.startedAt
    const ttlMs = options.ttlMs ?? 0
    if (ttlMs > 0) this.sweeper = new Sweeper(sweepInterval(ttlMs), () => this.sweep())
  }

  get prefix(): string {
    return this.options.prefix
  }

  /** Reads (or creates, with `floorIfNew`) the cluster's state: its epoch, floor and newest id. Does not change what this node knows. */
  async open(floorIfNew: EventId = this.options.startedAt): Promise<OpenState> {
    const reply = (await this.redis.run(OPEN, [this.prefix, newEpoch(), formatEventId(floorIfNew)])) as [number, string, string, string]
    return { created: reply[0] === 1, epoch: reply[1], floor: entryId(reply[2]), last: entryId(reply[3]) }
  }

  /** Opens and adopts the cluster's state (a store used without a broker: tests, tools). */
  async start(): Promise<OpenState> {
    const state = await this.open()
    this.adopt(state)
    return state
  }

  /** Makes `state` what this node serves (at start, and when Redis changed epoch). */
  adopt(state: { epoch: string; floor: EventId; last: EventId }): void {
    this.epoch = state.epoch
    this.floor = state.floor
    this.observe(state.last)
  }

  /** The newest id this node has seen written (the broker reports each one it reads). */
  observe(position: EventId): void {
    if (compareIds(position, this.newest) > 0) this.newest = position
  }

  /**
   * Writes a batch (ids assigned or checked by the script, see APPEND), all or nothing. Throws
   * `id_not_increasing` / `invalid_id` for a publisher's id, `store_unavailable` when Redis failed.
   */
  async write(items: readonly AppendItem[], options: WriteOptions): Promise<Written> {
    const floorIfNew = { ms: Date.now(), seq: 0 }
    const args = [
      this.prefix,
      options.mode,
      options.now === undefined ? '' : String(Math.floor(options.now)),
      String(options.maxSkewMs),
      formatEventId(options.minId),
      formatEventId(this.epoch === undefined ? this.options.startedAt : compareIds(floorIfNew, this.newest) > 0 ? floorIfNew : this.newest),
      newEpoch(),
      String(this.options.perTopic),
      String(this.options.maxTopics),
      String(this.options.logSize),
      String(items.length),
      ...appendArguments(items),
    ]
    let reply: unknown[]
    try {
      reply = (await this.redis.run(APPEND, args)) as unknown[]
    } catch (error) {
      throw unavailable(error, 'the publish')
    }
    if (reply[0] !== 1) throw refusal(reply[1] as string, reply[2] as string, reply[3] as string, options.maxSkewMs)
    this.counts = { events: Number(reply[3]), topics: Number(reply[4]) }
    const ids = (reply.slice(5) as string[]).map(entryId)
    const last = ids.at(-1)
    if (last) this.observe(last)
    return { epoch: reply[1] as string, ids }
  }

  /** Keeps a batch whose ids are set (seeding, tests): the store interface's append. */
  async append(events: readonly HubEvent[]): Promise<void> {
    if (events.length === 0) return
    const items = events.map((event) => ({ id: event.position, topic: event.topic, event: event.event, data: event.data, json: event.json, private: event.private, time: event.time }))
    await this.write(items, { mode: 'append', now: undefined, maxSkewMs: 0, minId: ZERO_ID })
  }

  /**
   * Events after `after` on accepted topics, up to the newest id written when called, read from
   * Redis in slices of `replayPage` events (see redis-replay.ts); `complete` false when something
   * after `after` was removed, or `limit` is exceeded. Rejects with `store_unavailable` when Redis
   * cannot be read.
   */
  async since(after: EventId, accepts: (topic: string) => boolean, limit: number, topics?: readonly string[]): Promise<ReplayResult> {
    if (compareIds(after, this.floor) < 0) return { events: [], complete: false }
    try {
      return await replayFromRedis(
        {
          redis: this.redis,
          prefix: this.prefix,
          epoch: this.epoch,
          page: Math.max(1, this.options.replayPage ?? REPLAY_PAGE),
          pause: this.options.replayPause,
          seen: (floor, bound) => {
            if (compareIds(floor, this.floor) > 0) this.floor = floor
            this.observe(bound)
          },
        },
        after,
        accepts,
        limit,
        topics,
      )
    } catch (error) {
      throw unavailable(error, 'reading the history')
    }
  }

  /** The newest id known to be written, or the floor when that is newer (never 0-0 for a new cluster). */
  head(): EventId {
    return compareIds(this.newest, this.floor) > 0 ? this.newest : this.floor
  }

  /** Topics and events held cluster-wide, as of this node's last write, sweep or refresh. */
  stats(): { topics: number; events: number } {
    return this.counts
  }

  /** Reads the counts from Redis (the other nodes' publishes change them too). */
  async refresh(): Promise<void> {
    const reply = (await this.redis.run(STATS, [this.prefix])) as [string, number, number, string, string]
    this.counts = { events: Number(reply[1]), topics: Number(reply[2]) }
  }

  /**
   * Drops events older than the TTL (a no-op without one), at most EXPIRE_STEP per call; resolves
   * true when more may be waiting. Run by the background sweep of every node (the script is
   * idempotent); public so tests can drive it.
   */
  async expire(): Promise<boolean> {
    const ttlMs = this.options.ttlMs ?? 0
    if (ttlMs <= 0) return false
    const cutoff = (this.options.now ?? Date.now)() - ttlMs
    const reply = (await this.redis.run(EXPIRE, [this.prefix, String(cutoff), String(EXPIRE_STEP)])) as [number, number, number]
    this.counts = { events: Number(reply[1]), topics: Number(reply[2]) }
    return reply[0] === 1
  }

  close(): void {
    this.closed = true
    this.sweeper?.stop()
  }

  /** One background TTL step; Redis being away only delays retention (the broker reports the outage). */
  private async sweep(): Promise<boolean> {
    if (this.closed) return false
    try {
      return await this.expire()
    } catch {
      return false
    }
  }
}

/** The HubError for an id APPEND refused, worded as the memory broker's (hub/id.ts). */
function refusal(code: string, id: string, other: string, maxSkewMs: number): HubError {
  if (code === 'id_not_increasing') return new HubError('id_not_increasing', `event id ${id} must be greater than the last id ${other}`)
  if (code === 'invalid_id') {
    const now = Number(other)
    const ms = Number(id.split('-')[0])
    const how = ms > now ? 'ahead of' : 'behind'
    return new HubError(
      'invalid_id',
      `event id ${id} is ${Math.abs(ms - now)} ms ${how} the server clock; the milliseconds of a publisher's id may be at most ${maxSkewMs} ms from it (--max-id-skew)`,
    )
  }
  return new HubError('store_unavailable', `the event id space is exhausted after ${id}; nothing was published`)
}

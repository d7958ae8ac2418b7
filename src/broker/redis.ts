import type { Broker } from '../hub/broker'
import { HubError } from '../hub/errors'
import type { HubEvent, ValidatedInput } from '../hub/event'
import { compareIds, type EventId, formatEventId, ZERO_ID } from '../hub/id'
import { newEpoch, type OpenState, type RedisHistory } from '../history/redis'
import { type Logger, silentLogger } from '../log'
import { entryId, eventOf, fieldOf, makeEvent, publishItem, type StreamEntry } from '../redis/entries'
import { type RedisLink, reasonOf, versionProblem } from '../redis/link'
import { RAISE, RESET } from '../redis/scripts'

export interface RedisBrokerOptions {
  /** The id clock in ms (tests pin it); default Redis's own TIME, one clock for the whole cluster. */
  now?: () => number
  /** How far from the clock a publisher-chosen id's milliseconds may be, either way. */
  maxIdSkewMs: number
  /** Longest a Redis command may take (then it fails and the connection is recycled), in ms. */
  timeoutMs: number
  /** How long one read of the log waits for new entries, in ms (default 1000). */
  blockMs?: number
  /** First and longest wait between reconnection attempts, in ms (default 100 and 5000; doubled each time, with jitter). */
  backoff?: { firstMs: number; maxMs: number }
  /** Where connection changes are logged. */
  log?: Logger
}

/** The broker's two connections: commands (shared with the history) and a reader that blocks on the log. */
export interface RedisLinks {
  commands: RedisLink
  reader: RedisLink
}

/** Whether the node can serve: for `/readyz`. */
export type Readiness = { ready: true } | { ready: false; reason: 'redis_unavailable'; message: string }

/** Log entries one read takes at most. */
const READ_COUNT = 1000
/** How often a quiet node refreshes the history counts for /stats, in ms. */
const STATS_REFRESH_MS = 5000

const noop = () => {}

/**
 * Many nodes, one Redis: every node publishes with one APPEND script (ids, the cluster log, the
 * topic histories and retention, atomically; see src/redis/scripts.ts) and reads the cluster log
 * (`XREAD BLOCK` on a dedicated connection, from the last id it read), delivering what it reads in
 * id order. That read is the one delivery path, for the node that published too: its publish
 * resolves once its own read has delivered the batch (or after `timeoutMs`: the batch is kept, the
 * node delivers it when its read catches up). So every node delivers every event once, in the
 * same order, with the same ids, and only after Redis kept it.
 *
 * Redis lost: publishes fail at once with `store_unavailable`; both connections are retried with
 * backoff; on return the read continues from the last id this node delivered, so its subscribers
 * miss nothing the cluster acknowledged meanwhile. Redis back with less than before (restarted
 * empty, or from an older snapshot: a new epoch), or entries this node had not read trimmed from
 * the log: `onResync` is called so every subscriber here resumes (and gets `reset` where history
 * cannot prove a gap-free replay), and new ids stay above every id this node delivered.
 */
export class RedisBroker implements Broker {
  private deliver: (events: readonly HubEvent[]) => void = noop
  private resync: (reason: string) => void = noop
  /** The newest id delivered here (or held by the store at start). */
  private announced: EventId = ZERO_ID
  /** The last log entry read (its id, as written). */
  private cursor = '0-0'
  private up = false
  private everUp = false
  private lastError = 'not connected yet'
  private refusing = false
  private closed = false
  private closing: Promise<void> | undefined
  private readonly inFlight = new Set<Promise<unknown>>()
  private waiters: { position: EventId; resolve: () => void }[] = []
  private loop: Promise<void> | undefined
  private first: Promise<void> | undefined
  private wake: () => void = noop
  private lastRefresh = 0
  private readonly log: Logger

  constructor(
    readonly history: RedisHistory,
    private readonly links: RedisLinks,
    private readonly options: RedisBrokerOptions,
  ) {
    this.log = options.log ?? silentLogger
    // A command that timed out recycled the command connection: reconnect both, together.
    links.commands.onDown = () => links.reader.disconnect()
  }

  /**
   * Connects (and keeps reconnecting, with backoff, until closed). Resolves once connected and in
   * step with the cluster; rejects if the first attempt fails (the attempts go on: a caller that
   * can run degraded ignores it, `--redis-start require` exits). Idempotent.
   */
  start(): Promise<void> {
    if (!this.first) {
      this.first = new Promise<void>((resolve, reject) => {
        this.loop = this.supervise(resolve, reject)
      })
    }
    return this.first
  }

  publish(batch: readonly ValidatedInput[]): Promise<HubEvent[]> {
    if (this.refusing) return Promise.reject(new HubError('shutting_down', 'Herald is shutting down; publish again after it restarts'))
    if (!this.up) return Promise.reject(new HubError('store_unavailable', `Redis is unreachable (${this.lastError}); nothing was published, try again`))
    const kept = this.keep(batch)
    this.inFlight.add(kept)
    const forget = () => this.inFlight.delete(kept)
    kept.then(forget, forget)
    return kept
  }

  onDeliver(deliver: (events: readonly HubEvent[]) => void): void {
    this.deliver = deliver
  }

  /** Called when every subscriber of this node must resume (Redis lost data, or the log was trimmed past this node's read). */
  onResync(resync: (reason: string) => void): void {
    this.resync = resync
  }

  head(): EventId {
    return this.announced
  }

  /**
   * Resolves once this node has delivered everything up to `position`, when Redis has written that
   * far: a client resuming here with an id it got from a faster node is not told its id is unknown.
   * At once when it has, when Redis never wrote that far, or when Redis is away; at most `timeoutMs`.
   */
  async reach(position: EventId): Promise<void> {
    if (compareIds(position, this.announced) <= 0 || !this.up) return
    let last: EventId
    try {
      last = entryId(await this.history.redis.send('HGET', [`${this.history.prefix}:meta`, 'last']))
    } catch {
      return
    }
    if (compareIds(position, last) <= 0) await this.delivered(position)
  }

  /** Whether this node is connected and in step with the cluster. */
  readiness(): Readiness {
    if (this.up) return { ready: true }
    const message = this.everUp ? `lost Redis (${this.lastError}); reconnecting` : `not connected to Redis yet (${this.lastError})`
    return { ready: false, reason: 'redis_unavailable', message }
  }

  /** Refuses new publishes, waits for those accepted (kept and delivered, or failed), then stops reading and disconnects. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.refusing = true
      await Promise.allSettled([...this.inFlight])
      this.closed = true
      this.up = false
      this.deliver = noop
      for (const waiter of this.waiters.splice(0)) waiter.resolve()
      this.links.reader.close()
      this.links.commands.close()
      this.wake()
      await this.loop
    })()
    return this.closing
  }

  /** Writes the batch, then waits for this node's read to deliver it. */
  private async keep(batch: readonly ValidatedInput[]): Promise<HubEvent[]> {
    const time = Date.now()
    // Sent at once, in call order, on one connection: overlapping publishes get ids in call order.
    const written = await this.history.write(
      batch.map((input) => publishItem(input, time)),
      { mode: 'publish', now: this.options.now?.(), maxSkewMs: this.options.maxIdSkewMs, minId: this.announced },
    )
    const events = batch.map((input, i) => makeEvent(written.ids[i] as EventId, input.topic, input.event, input.data, input.json, time, input.private === true))
    const last = written.ids.at(-1)
    if (last) await this.delivered(last)
    return events
  }

  /** Resolves once `position` has been delivered here, or after `timeoutMs` (or at close). */
  private delivered(position: EventId): Promise<void> {
    if (compareIds(position, this.announced) <= 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== entry)
        resolve()
      }, this.options.timeoutMs)
      const entry = {
        position,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      }
      this.waiters.push(entry)
    })
  }

  /** Connects, gets in step, reads until the connection fails; again, with backoff, until closed. */
  private async supervise(resolve: () => void, reject: (error: Error) => void): Promise<void> {
    let settled = false
    let attempt = 0
    while (!this.closed) {
      try {
        await this.links.commands.connect()
        await this.links.reader.connect()
        await this.checkVersion()
        await this.sync()
        this.up = true
        this.everUp = true
        attempt = 0
        this.log.info('connected to Redis', { prefix: this.history.prefix, epoch: this.history.epoch, head: formatEventId(this.announced) })
        if (!settled) resolve()
        settled = true
        await this.read()
      } catch (error) {
        this.lastError = reasonOf(error)
        if (!settled) reject(error instanceof Error ? error : new Error(this.lastError))
        settled = true
      }
      if (this.closed) break
      if (this.up) this.log.warn('lost Redis: publishes fail with 503 store_unavailable until it is back; subscribers stay connected', { error: this.lastError })
      this.up = false
      this.links.reader.disconnect()
      this.links.commands.disconnect()
      const { firstMs = 100, maxMs = 5000 } = this.options.backoff ?? {}
      const delay = Math.min(maxMs, firstMs * 2 ** Math.min(attempt++, 20)) * (0.5 + Math.random() / 2)
      await new Promise<void>((done) => {
        const timer = setTimeout(done, delay)
        this.wake = () => {
          clearTimeout(timer)
          done()
        }
      })
    }
  }

  /** Refuses a Redis too old for the scripts (INFO refused, e.g. by an ACL: assumed fine). */
  private async checkVersion(): Promise<void> {
    let info: unknown
    try {
      info = await this.links.commands.send('INFO', ['server'])
    } catch {
      return
    }
    const problem = versionProblem(String(info))
    if (problem) throw new Error(problem)
  }

  /**
   * Gets in step with the cluster's state on every (re)connection: the first time, head and read
   * position are what Redis holds; later, the read continues where it stopped, unless Redis lost
   * data (a new epoch, or less than this node read), when every subscriber here resumes.
   */
  private async sync(): Promise<void> {
    const known = this.history.epoch
    const raisedFloor = this.lossFloor()
    let state = await this.history.open(known === undefined ? this.history.options.startedAt : raisedFloor)
    if (known === undefined) {
      this.history.adopt(state)
      this.announced = compareIds(state.last, state.floor) > 0 ? state.last : state.floor
      this.cursor = formatEventId(state.last)
      return
    }
    if (state.epoch === known && compareIds(state.last, entryId(this.cursor)) < 0) {
      // Redis came back from an older snapshot: what this node read past `last` is gone for everyone.
      const reply = (await this.history.redis.run(RESET, [this.history.prefix, known, newEpoch(), formatEventId(raisedFloor)])) as [number, string, string, string]
      state = { created: false, epoch: reply[1], floor: entryId(reply[2]), last: entryId(reply[3]) }
    }
    if (state.epoch !== known) await this.adopt(state)
  }

  /** The floor for a history Redis lost: now, or the newest id this node delivered if later. Positions before it get `reset`. */
  private lossFloor(): EventId {
    const now = { ms: Date.now(), seq: 0 }
    return compareIds(now, this.announced) > 0 ? now : this.announced
  }

  /** Serves a new epoch: new ids above everything this node delivered, read from its end, every subscriber resuming. */
  private async adopt(state: OpenState): Promise<void> {
    const reply = (await this.history.redis.run(RAISE, [this.history.prefix, state.epoch, formatEventId(this.announced)])) as [string, string, string]
    const last = entryId(reply[2])
    this.history.adopt({ epoch: reply[0], floor: entryId(reply[1]), last })
    this.cursor = reply[2]
    this.log.warn('Redis lost its data (a new epoch): every subscriber here resumes, and positions from before get reset', { epoch: reply[0], floor: reply[1] })
    this.resync('Redis lost its data')
    // What the new epoch wrote before this node noticed is not delivered here (every subscriber is
    // resuming from history): the node is in step up to `last`, and publishes waiting for it are done.
    if (compareIds(last, this.announced) > 0) this.announced = last
    this.settle()
  }

  /** Reads the log until the connection fails (throws) or the broker closes. */
  private async read(): Promise<void> {
    const key = `${this.history.prefix}:log`
    const blockMs = this.options.blockMs ?? 1000
    while (!this.closed) {
      const reply = await this.links.reader.send('XREAD', ['BLOCK', String(blockMs), 'COUNT', String(READ_COUNT), 'STREAMS', key, this.cursor], blockMs + this.options.timeoutMs)
      if (this.closed) return
      const entries = streamEntries(reply, key)
      if (entries.length > 0) await this.receive(entries)
      else if (Date.now() - this.lastRefresh > STATS_REFRESH_MS) {
        this.lastRefresh = Date.now()
        this.history.refresh().catch(noop)
      }
    }
  }

  /** Delivers what a read returned, in id order, checking that nothing was skipped. */
  private async receive(entries: readonly StreamEntry[]): Promise<void> {
    let batch: HubEvent[] = []
    for (const [id, fields] of entries) {
      if (fieldOf(fields, 'ep') !== this.history.epoch) {
        // Written in another epoch: Redis lost its data while this node stayed connected (FLUSHALL).
        this.announce(batch)
        await this.adopt(await this.history.open(this.lossFloor()))
        return
      }
      if (fieldOf(fields, 'prev') !== this.cursor) {
        this.announce(batch)
        batch = []
        this.log.warn('the cluster log was trimmed past what this node had read (raise --redis-log): every subscriber here resumes', { read: this.cursor, next: id })
        this.resync('events were trimmed from the cluster log before this node read them')
      }
      this.cursor = id
      const position = entryId(id)
      if (compareIds(position, this.announced) > 0) batch.push(eventOf(id, fieldOf(fields, 't') ?? '', fields))
    }
    this.announce(batch)
  }

  private announce(events: readonly HubEvent[]): void {
    const last = events.at(-1)
    if (!last || this.closed) return
    this.history.observe(last.position)
    this.announced = last.position
    this.deliver(events)
    this.settle()
  }

  /** Resolves the publishes (and resumes) waiting for ids up to the head. */
  private settle(): void {
    if (this.waiters.length === 0) return
    const waiting: typeof this.waiters = []
    for (const waiter of this.waiters) {
      if (compareIds(waiter.position, this.announced) <= 0) waiter.resolve()
      else waiting.push(waiter)
    }
    this.waiters = waiting
  }
}

/** The entries of `key` in an XREAD reply (a map under RESP3, a list of [key, entries] under RESP2; null when none came). */
function streamEntries(reply: unknown, key: string): StreamEntry[] {
  if (reply === null || reply === undefined) return []
  if (Array.isArray(reply)) {
    const found = (reply as [string, StreamEntry[]][]).find(([name]) => name === key)
    return found?.[1] ?? []
  }
  return ((reply as Record<string, StreamEntry[]>)[key] ?? []) as StreamEntry[]
}

import type { Database, SQLQueryBindings } from 'bun:sqlite'
import { HubError } from '../hub/errors'
import type { HubEvent } from '../hub/event'
import { compareIds, DEFAULT_MAX_ID_SKEW_MS, type EventId, ZERO_ID } from '../hub/id'
import { type IdRepair, repairIds } from './sqlite-repair'
import { drive, nextSlice, REPLAY_PAGE, ReplayWatch } from './replay'
import { prepareReads, readRows } from './sqlite-replay'
import { openHistoryDatabase } from './sqlite-schema'
import type { HistoryStore, ReplayResult } from './store'
import { Sweeper, sweepInterval } from './sweeper'

export interface SqliteHistoryOptions {
  /** The database file (created if missing). `:memory:` works for tests but is not durable. */
  path: string
  /** Events kept per topic; the oldest go first (trimmed in small batches, see TRIM_SLACK). */
  perTopic: number
  /** Topics kept; past it the least recently published topic's history is dropped. */
  maxTopics: number
  /** The floor of a new, empty database: positions older than it were never stored. Usually "now". */
  startedAt: EventId
  /** Events older than this many milliseconds are dropped by a background sweep (0 = keep forever). */
  ttlMs?: number
  /** Clock for the TTL and the id check at open, milliseconds since the epoch (tests pin it). */
  now?: () => number
  /** Ids more than this many ms past the clock and the newest publish time are repaired at open (see sqlite-repair.ts). */
  maxIdSkewMs?: number
  /** Rows (or topics examined) per slice of a resume (default REPLAY_PAGE; tests make it small). */
  replayPage?: number
  /** Waited between two slices of a resume (default: the next turn, see nextSlice; tests change the store here). */
  replayPause?: () => Promise<void>
  /** How resumes read (see `readRows`); by default whichever the counts say is cheaper. Tests pin it to cover both. */
  replayPlan?: 'scan' | 'windows'
}

/** What the store keeps in memory per topic; the database is the truth, this is its index. */
interface TopicState {
  readonly id: number
  readonly name: string
  count: number
  /** The newest id this topic lost to retention; a resume before it has a gap. */
  evictedThrough: EventId
}

type OldestRow = { rowid: number; ms: number; seq: number; topic: number; time: number }

/** Rows one TTL step deletes before yielding to the event loop. */
const EXPIRE_STEP = 1000

/**
 * A durable HistoryStore on bun:sqlite (WAL mode, one writer). Every `append` is one transaction
 * that has committed when `append` returns, so with the hub's synchronous delivery an event is on
 * disk (in the WAL) before its publish is acknowledged and before any subscriber sees it: it
 * survives a crash or `kill -9` of the process. (`synchronous = NORMAL`: an OS crash or power loss
 * may still lose the last transactions; SQLite never corrupts the file.)
 *
 * Retention matches MemoryHistory: per topic by count (trimmed once a topic is TRIM_SLACK over,
 * so the cost is amortized), by topic count (least recently published dropped, raising the floor),
 * and by age (a background sweep in small batches). The floor and every topic's eviction mark are
 * stored, so a restarted server knows exactly which resume positions it can still serve.
 *
 * The file is opened with an exclusive lock: a second Herald on the same file fails at start
 * instead of interleaving ids.
 */
export class SqliteHistory implements HistoryStore {
  private readonly db: Database
  private readonly topics = new Map<string, TopicState>()
  private readonly names = new Map<number, string>()
  /** Resume positions older than this cannot be served: max(created, dropped). */
  private floor: EventId = ZERO_ID
  /** The newest id of a topic dropped whole (past maxTopics); part of the floor and of the head. */
  private dropped: EventId = ZERO_ID
  private newest: EventId = ZERO_ID
  private events = 0
  private readonly trimSlack: number
  private readonly sweeper: Sweeper | undefined
  private readonly sql: ReturnType<typeof prepare>
  private readonly reads: ReturnType<typeof prepareReads>
  private readonly appendBatch: (events: readonly HubEvent[]) => void
  /** What opening the file repaired: ids a store must never serve (see repairIds); undefined = nothing. */
  readonly repaired: IdRepair | undefined
  /** Resumes paused between slices: told about every row removed meanwhile. */
  private readonly replays = new Set<ReplayWatch>()
  private readonly page: number
  private readonly pause: () => Promise<void>
  private closed = false

  constructor(private readonly options: SqliteHistoryOptions) {
    this.db = openHistoryDatabase(options.path, options.startedAt)
    try {
      this.repaired = repairIds(this.db, (options.now ?? Date.now)(), options.maxIdSkewMs ?? DEFAULT_MAX_ID_SKEW_MS)
    } catch (error) {
      this.db.close()
      throw new HubError('store_unavailable', `cannot repair the event ids in ${JSON.stringify(options.path)}: ${(error as Error).message}`)
    }
    this.page = Math.max(1, options.replayPage ?? REPLAY_PAGE)
    this.pause = options.replayPause ?? nextSlice
    this.sql = prepare(this.db)
    this.reads = prepareReads(this.db)
    // Up to 1/16 over the limit (at most 256 rows) before a trim: one range delete per 16+ appends.
    this.trimSlack = Math.min(256, Math.floor(options.perTopic / 16))
    this.appendBatch = this.db.transaction((events: readonly HubEvent[]) => this.write(events))
    this.load()
    const ttlMs = options.ttlMs ?? 0
    if (ttlMs > 0) this.sweeper = new Sweeper(sweepInterval(ttlMs), () => this.expire())
  }

  append(events: readonly HubEvent[]): void {
    if (events.length === 0) return
    try {
      this.appendBatch(events)
    } catch (error) {
      // The transaction rolled back; the in-memory index may have run ahead of it.
      this.load()
      throw new HubError('store_unavailable', `the event store could not save the events: ${(error as Error).message}`)
    }
  }

  /**
   * Answers at once when the work fits one slice; otherwise returns a promise and lets the event
   * loop run between slices (see `readRows` for how it reads). Returns rows up to the newest id held
   * when called; `topics`, when given, lists every topic `accepts` takes (exact selectors).
   */
  since(after: EventId, accepts: (topic: string) => boolean, limit: number, topics?: readonly string[]): ReplayResult | Promise<ReplayResult> {
    if (compareIds(after, this.floor) < 0) return { events: [], complete: false }
    const bound = this.newest
    if (compareIds(after, bound) >= 0) return { events: [], complete: true }
    const watch = new ReplayWatch(after, bound, accepts)
    return drive(this.replay(watch, accepts, limit, topics), watch, this.replays, this.pause)
  }

  /** The newest id ever appended, or the file's creation position when nothing was (never before the floor). */
  head(): EventId {
    return compareIds(this.newest, this.floor) > 0 ? this.newest : this.floor
  }

  stats(): { topics: number; events: number } {
    return { topics: this.topics.size, events: this.events }
  }

  /**
   * Deletes events older than the TTL (a no-op without one), oldest first, at most EXPIRE_STEP per
   * call in one transaction; returns true when more may be waiting. Called by the background sweep;
   * public so tests can drive it.
   */
  expire(): boolean {
    const ttlMs = this.options.ttlMs ?? 0
    if (ttlMs <= 0) return false
    const cutoff = (this.options.now ?? Date.now)() - ttlMs
    // Rowids follow id order (appends arrive in id order), and so, but for clock steps, does time.
    const oldest = this.sql.oldest.all(EXPIRE_STEP)
    let taken = 0
    while (taken < oldest.length && (oldest[taken] as OldestRow).time < cutoff) taken++
    if (taken === 0) return false
    const expired = oldest.slice(0, taken)
    this.db.transaction(() => {
      this.sql.deleteThroughRowid.run((expired.at(-1) as OldestRow).rowid)
      const touched = new Set<TopicState>()
      for (const row of expired) {
        const topic = this.topicById(row.topic)
        if (!topic) continue
        topic.count--
        this.events--
        const position = { ms: row.ms, seq: row.seq }
        for (const watch of this.replays) watch.removed(topic, topic.name, topic.evictedThrough, position)
        topic.evictedThrough = position
        touched.add(topic)
      }
      for (const topic of touched) this.sql.setEvicted.run(topic.evictedThrough.ms, topic.evictedThrough.seq, topic.id)
    })()
    return taken === EXPIRE_STEP
  }

  close(): void {
    this.closed = true
    this.sweeper?.stop()
    // Open statements would keep the connection (and its exclusive lock) alive past close().
    for (const statement of [...Object.values(this.sql), ...Object.values(this.reads)]) statement.finalize()
    this.db.close()
  }

  /** The body of one append transaction. */
  private write(events: readonly HubEvent[]): void {
    const touched = new Set<TopicState>()
    for (const event of events) {
      let topic = this.topics.get(event.topic)
      if (topic) {
        // Re-insert so Map order is least-recently-published first.
        this.topics.delete(event.topic)
      } else {
        if (this.topics.size >= this.options.maxTopics) this.dropOldestTopic()
        const { id } = this.sql.insertTopic.get(event.topic) as { id: number }
        topic = { id, name: event.topic, count: 0, evictedThrough: ZERO_ID }
        this.names.set(id, event.topic)
      }
      this.topics.set(event.topic, topic)
      this.sql.insertEvent.run(event.position.ms, event.position.seq, topic.id, event.event ?? null, event.data, event.json ? 1 : 0, event.time, event.private ? 1 : 0)
      topic.count++
      this.events++
      this.newest = event.position
      touched.add(topic)
    }
    // A topic this batch dropped (past maxTopics) is gone, rows and all; its id may already be the
    // id of the topic that replaced it, whose rows a trim by that id would delete.
    for (const topic of touched) if (this.topics.get(topic.name) === topic && topic.count > this.options.perTopic + this.trimSlack) this.trim(topic)
  }

  /** Deletes a topic's oldest events down to `perTopic` (one indexed range delete). */
  private trim(topic: TopicState): void {
    const cutoff = this.sql.nthOldest.get(topic.id, topic.count - this.options.perTopic - 1) as { ms: number; seq: number } | null
    if (!cutoff) return
    this.removing(topic, { ms: cutoff.ms, seq: cutoff.seq })
    const deleted = this.sql.deleteTopicThrough.run(topic.id, cutoff.ms, cutoff.seq).changes
    topic.count -= deleted
    this.events -= deleted
    topic.evictedThrough = { ms: cutoff.ms, seq: cutoff.seq }
    this.sql.setEvicted.run(cutoff.ms, cutoff.seq, topic.id)
  }

  /** Forgets the least recently published topic; positions before its last event become unservable. */
  private dropOldestTopic(): void {
    const oldest = this.topics.values().next().value
    if (!oldest) return
    const last = (this.sql.newestOfTopic.get(oldest.id) as { ms: number; seq: number } | null) ?? oldest.evictedThrough
    this.removing(oldest, { ms: last.ms, seq: last.seq })
    this.sql.deleteTopicEvents.run(oldest.id)
    this.sql.deleteTopic.run(oldest.id)
    this.topics.delete(oldest.name)
    this.names.delete(oldest.id)
    this.events -= oldest.count
    if (compareIds(last, this.dropped) > 0) {
      this.dropped = { ms: last.ms, seq: last.seq }
      this.sql.setDropped.run(last.ms, last.seq)
      if (compareIds(last, this.floor) > 0) this.floor = this.dropped
    }
  }

  /** (Re)builds the in-memory index from the database: at open, and after a failed transaction. */
  private load(): void {
    // Paused resumes hold topic objects this replaces, and may have missed a rollback: they give up.
    for (const watch of this.replays) watch.lost = true
    this.topics.clear()
    this.names.clear()
    const meta = this.sql.meta.get() as { createdMs: number; createdSeq: number; droppedMs: number; droppedSeq: number }
    const created = { ms: meta.createdMs, seq: meta.createdSeq }
    this.dropped = { ms: meta.droppedMs, seq: meta.droppedSeq }
    this.floor = compareIds(this.dropped, created) > 0 ? this.dropped : created
    const counts = new Map<number, { count: number; lastRowid: number }>()
    for (const row of this.sql.topicCounts.all()) counts.set(row.topic, { count: row.count, lastRowid: row.lastRowid })
    const states = this.sql.allTopics.all().map((row) => ({
      state: { id: row.id, name: row.name, count: counts.get(row.id)?.count ?? 0, evictedThrough: { ms: row.evictedMs, seq: row.evictedSeq } },
      lastRowid: counts.get(row.id)?.lastRowid ?? 0,
    }))
    // Least recently published first, as append keeps it.
    states.sort((a, b) => a.lastRowid - b.lastRowid)
    this.events = 0
    // The newest id ever appended is still in a row, in a topic's eviction mark, or was the last
    // event of a dropped topic; ZERO_ID when nothing was ever appended.
    let newest = this.dropped
    for (const { state } of states) {
      this.topics.set(state.name, state)
      this.names.set(state.id, state.name)
      this.events += state.count
      if (compareIds(state.evictedThrough, newest) > 0) newest = state.evictedThrough
    }
    const last = this.sql.newest.get() as { ms: number; seq: number } | null
    if (last && compareIds(last, newest) > 0) newest = { ms: last.ms, seq: last.seq }
    this.newest = newest
  }

  /** Tells paused resumes that `topic`'s rows through `through` are about to be deleted (before they are: they may look). */
  private removing(topic: TopicState, through: EventId): void {
    if (this.replays.size === 0 || compareIds(through, topic.evictedThrough) <= 0) return
    const hasEventIn = (lo: EventId, hi: EventId) => this.sql.anyBetween.get(topic.id, lo.ms, lo.seq, hi.ms, hi.seq) !== null
    for (const watch of this.replays) watch.removed(topic, topic.name, topic.evictedThrough, through, hasEventIn)
  }

  /**
   * One resume, in slices; yields between them. First the wanted topics (tested in slices, or
   * looked up by name), then their rows (`readRows`: a scan in id order or windows over the
   * topic index, whichever the counts say is cheaper).
   */
  private *replay(watch: ReplayWatch, accepts: (topic: string) => boolean, limit: number, named: readonly string[] | undefined): Generator<void, ReplayResult, void> {
    const { after } = watch
    const incomplete = (events: HubEvent[]): ReplayResult => ({ events, complete: false })
    const candidates = named ? [...new Set(named)].flatMap((name) => this.topics.get(name) ?? []) : [...this.topics.values()]
    const wanted = new Map<number, string>()
    let rows = 0
    let examined = 0
    for (const topic of candidates) {
      if (++examined % this.page === 0) {
        yield
        if (watch.lost || this.closed) return incomplete([])
      }
      if (!named && !accepts(topic.name)) continue
      if (compareIds(watch.markAtStart(topic, topic.evictedThrough), after) > 0) return incomplete([])
      if (topic.count > 0) {
        wanted.set(topic.id, topic.name)
        rows += topic.count
      }
    }
    if (wanted.size === 0) return { events: [], complete: true }
    const closed = () => this.closed
    return yield* readRows(this.reads, { watch, wanted, wantedRows: rows, totalRows: this.events, limit, page: this.page, plan: this.options.replayPlan, closed })
  }

  private topicById(id: number): TopicState | undefined {
    const name = this.names.get(id)
    return name === undefined ? undefined : this.topics.get(name)
  }
}

/** Every statement the store runs, prepared once. */
function prepare(db: Database) {
  const q = <Row, Params extends SQLQueryBindings[]>(sql: string) => db.prepare<Row, Params>(sql)
  return {
    meta: q<{ createdMs: number; createdSeq: number; droppedMs: number; droppedSeq: number }, []>(
      'SELECT created_ms AS createdMs, created_seq AS createdSeq, dropped_ms AS droppedMs, dropped_seq AS droppedSeq FROM meta WHERE id = 1',
    ),
    setDropped: q<never, [number, number]>('UPDATE meta SET dropped_ms = ?, dropped_seq = ? WHERE id = 1'),
    allTopics: q<{ id: number; name: string; evictedMs: number; evictedSeq: number }, []>('SELECT id, name, evicted_ms AS evictedMs, evicted_seq AS evictedSeq FROM topics'),
    topicCounts: q<{ topic: number; count: number; lastRowid: number }, []>('SELECT topic, count(*) AS count, max(rowid) AS lastRowid FROM events GROUP BY topic'),
    insertTopic: q<{ id: number }, [string]>('INSERT INTO topics (name) VALUES (?) RETURNING id'),
    deleteTopic: q<never, [number]>('DELETE FROM topics WHERE id = ?'),
    setEvicted: q<never, [number, number, number]>('UPDATE topics SET evicted_ms = ?, evicted_seq = ? WHERE id = ?'),
    insertEvent: q<never, [number, number, number, string | null, string, number, number, number]>('INSERT INTO events (ms, seq, topic, event, data, json, time, private) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    newest: q<{ ms: number; seq: number }, []>('SELECT ms, seq FROM events ORDER BY rowid DESC LIMIT 1'),
    newestOfTopic: q<{ ms: number; seq: number }, [number]>('SELECT ms, seq FROM events WHERE topic = ? ORDER BY ms DESC, seq DESC LIMIT 1'),
    nthOldest: q<{ ms: number; seq: number }, [number, number]>('SELECT ms, seq FROM events WHERE topic = ? ORDER BY ms, seq LIMIT 1 OFFSET ?'),
    deleteTopicThrough: q<never, [number, number, number]>('DELETE FROM events WHERE topic = ? AND (ms, seq) <= (?, ?)'),
    deleteTopicEvents: q<never, [number]>('DELETE FROM events WHERE topic = ?'),
    oldest: q<OldestRow, [number]>('SELECT rowid, ms, seq, topic, time FROM events ORDER BY rowid LIMIT ?'),
    deleteThroughRowid: q<never, [number]>('DELETE FROM events WHERE rowid <= ?'),
    anyBetween: q<{ found: number }, [number, number, number, number, number]>('SELECT 1 AS found FROM events WHERE topic = ? AND (ms, seq) > (?, ?) AND (ms, seq) <= (?, ?) LIMIT 1'),
  }
}

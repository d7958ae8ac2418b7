import type { Database, SQLQueryBindings } from 'bun:sqlite'
import type { HubEvent } from '../hub/event'
import { compareIds, type EventId, formatEventId } from '../hub/id'
import type { ReplayWatch } from './replay'
import type { ReplayResult } from './store'

type EventRow = { ms: number; seq: number; topic: number; event: string | null; data: string; json: number; time: number; private: number }
type ScanRow = EventRow & { rowid: number }

/**
 * Planning a read, in units of one row stepped over in id order: what an index seek costs (one
 * per wanted topic per window query) and what a row found by the windowed query costs (it is
 * sorted). Measured with bun:sqlite on 300k rows: ~0.25 µs a row scanned, ~8 µs a seek.
 */
const SEEK_COST = 30
const SORTED_ROW_COST = 4
/** Most seek cost one window may take, in slices' worth of rows scanned (8: ~2 ms at 1,000 rows a slice). */
const MAX_WINDOW_SEEKS_COST = 8

/** The statements resumes read with, prepared once per store (the store finalizes them). */
export function prepareReads(db: Database) {
  const q = <Row, Params extends SQLQueryBindings[]>(sql: string) => db.prepare<Row, Params>(sql)
  return {
    window: q<EventRow, [string, number, number, number, number, number]>(
      'SELECT ms, seq, topic, event, data, json, time, private FROM events WHERE topic IN (SELECT value FROM json_each(?)) AND (ms, seq) > (?, ?) AND (ms, seq) <= (?, ?) ORDER BY ms, seq LIMIT ?',
    ),
    scan: q<ScanRow, [number, number]>('SELECT rowid, ms, seq, topic, event, data, json, time, private FROM events WHERE rowid > ? ORDER BY rowid LIMIT ?'),
    // Two subqueries: SQLite answers min() or max() alone from the rowid tree, both at once by a full scan.
    rowidRange: q<{ low: number | null; high: number | null }, []>(
      'SELECT (SELECT rowid FROM events ORDER BY rowid LIMIT 1) AS low, (SELECT rowid FROM events ORDER BY rowid DESC LIMIT 1) AS high',
    ),
    rowAtOrAfter: q<{ rowid: number; ms: number; seq: number }, [number]>('SELECT rowid, ms, seq FROM events WHERE rowid >= ? ORDER BY rowid LIMIT 1'),
  }
}

export type Reads = ReturnType<typeof prepareReads>

/** One resume's read, once the store knows which topics it wants. */
export interface RowRead {
  readonly watch: ReplayWatch
  /** The wanted topics that hold rows: id → name. */
  readonly wanted: ReadonlyMap<number, string>
  /** Rows the wanted topics hold, and rows the store holds (how thinly the wanted ones are spread). */
  readonly wantedRows: number
  readonly totalRows: number
  readonly limit: number
  /** Rows per slice. */
  readonly page: number
  /** Forces a plan (tests); otherwise the cheaper by the counts. */
  readonly plan: 'scan' | 'windows' | undefined
  /** True once the store is closed: the read gives up at its next slice. */
  readonly closed: () => boolean
}

/**
 * Reads the rows of a resume in slices, yielding between them, by one of two plans:
 * - scan: rows in rowid order, which is id order (appends arrive in id order), from the first
 *   after the position, a slice at a time, keeping those of wanted topics. Suits many wanted
 *   topics, or wanted topics holding most rows: cost ≈ rows stepped over.
 * - windows: the indexed query (topic IN wanted, id in a window, ORDER BY id) over successive id
 *   windows sized (from rowid distances, adjusted as it goes) to hold about a slice of wanted rows:
 *   one seek per wanted topic per window, so it suits a few topics thinly spread. When the wanted
 *   topics hold few rows in all (≤ 4 slices), one window covers everything.
 * Both stop after `limit + 1` rows and never read past `watch.bound`; after each pause they stop
 * if the watch saw a row they still needed removed, or the store closed.
 */
export function* readRows(reads: Reads, read: RowRead): Generator<void, ReplayResult, void> {
  const { watch, wanted, limit, page } = read
  const { after, bound } = watch
  const events: HubEvent[] = []
  const incomplete = (): ReplayResult => ({ events, complete: false })
  const stopped = () => watch.lost || read.closed()
  const take = (row: EventRow) => {
    const event = toEvent(row, wanted.get(row.topic) as string)
    events.push(event)
    watch.cursor = event.position
  }
  const start = firstRowidAfter(reads, after)
  const end = (reads.rowidRange.get() as { high: number | null }).high ?? 0
  // Rows in the store per wanted row; rows after the position (rowids have gaps: an estimate).
  const spread = Math.max(1, read.totalRows / read.wantedRows)
  const rowsAfter = Math.max(0, end - start + 1)
  const found = Math.min(limit + 1, Math.ceil(rowsAfter / spread))
  const scanCost = Math.min(rowsAfter, (limit + 1) * spread)
  const windowCost = Math.ceil(found / page) * wanted.size * SEEK_COST + found * SORTED_ROW_COST
  // A window costs a seek per wanted topic however few rows it holds: past a few hundred topics
  // one window query alone would outlast a slice, so those always scan.
  const windowsFit = wanted.size * SEEK_COST <= MAX_WINDOW_SEEKS_COST * page
  if ((read.plan ?? (scanCost <= windowCost || !windowsFit ? 'scan' : 'windows')) === 'scan') {
    for (let rowid = start - 1; ; ) {
      const rows = reads.scan.all(rowid, page)
      for (const row of rows) {
        if (compareIds(row, bound) > 0) return { events, complete: true }
        if (!wanted.has(row.topic)) continue
        if (events.length === limit) return incomplete()
        take(row)
      }
      if (rows.length < page) return { events, complete: true }
      rowid = (rows.at(-1) as ScanRow).rowid
      yield
      if (stopped()) return incomplete()
    }
  }
  const list = JSON.stringify([...wanted.keys()])
  let width = read.wantedRows <= 4 * page ? Number.POSITIVE_INFINITY : Math.ceil(page * spread)
  for (let from = start, low = after; ; ) {
    const edge = Number.isFinite(width) ? reads.rowAtOrAfter.get(from + width) : null
    const high = edge && compareIds(edge, bound) < 0 ? { ms: edge.ms, seq: edge.seq } : bound
    const rows = reads.window.all(list, low.ms, low.seq, high.ms, high.seq, limit + 1 - events.length)
    for (const row of rows) {
      if (events.length === limit) return incomplete()
      take(row)
    }
    if (high === bound || !edge) return { events, complete: true }
    // Aim the next window at about a slice of rows.
    if (rows.length < page / 2) width *= 2
    else if (rows.length > page * 2) width = Math.max(page, Math.floor(width / 2))
    from = edge.rowid
    low = high
    yield
    if (stopped()) return incomplete()
  }
}

/**
 * The smallest rowid at or after which every row is newer than `after` (a binary search over
 * rowids, which follow ids); one past the last row when none is.
 */
function firstRowidAfter(reads: Reads, after: EventId): number {
  const range = reads.rowidRange.get() as { low: number | null; high: number | null }
  let low = range.low ?? 1
  let high = (range.high ?? 0) + 1
  while (low < high) {
    const mid = Math.floor((low + high) / 2)
    const row = reads.rowAtOrAfter.get(mid)
    if (!row || compareIds(row, after) > 0) high = mid
    else low = mid + 1
  }
  return low
}

function toEvent(row: EventRow, topic: string): HubEvent {
  const position = { ms: row.ms, seq: row.seq }
  const event: HubEvent = { id: formatEventId(position), position, topic, data: row.data, json: row.json === 1, time: row.time }
  const named = row.event === null ? event : { ...event, event: row.event }
  return row.private === 1 ? { ...named, private: true } : named
}

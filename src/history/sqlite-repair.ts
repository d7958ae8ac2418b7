import type { Database, Statement } from 'bun:sqlite'
import { compareIds, type EventId, formatEventId, isEventId, isIdPart, MAX_ID_PART, successor, ZERO_ID } from '../hub/id'

/** What `repairIds` changed, for the start-up log. */
export interface IdRepair {
  /** Events given new ids (every event from the first bad one on, in stored order). */
  readonly events: number
  /** Retention marks (floor, dropped, per-topic eviction) that were bad and were raised to `head`. */
  readonly marks: number
  /** The first bad id found, as stored (it may not be a valid id). */
  readonly first: string
  /** The store's newest id after the repair; new ids continue after it. */
  readonly head: string
  /** Ids whose milliseconds were past this were treated as bad. */
  readonly limitMs: number
}

/** SQL that is true when the (ms, seq) columns named are NOT an id in the space, or ms is past ?1. */
const bad = (ms: string, seq: string) =>
  `(NOT (typeof(${ms}) = 'integer' AND typeof(${seq}) = 'integer' AND ${ms} BETWEEN 0 AND ${MAX_ID_PART} AND ${seq} BETWEEN 0 AND ${MAX_ID_PART}) OR ${ms} > ?1)`

/** How many of the ids that make up the head (newest row, floor and retention marks) are bad. */
const SUSPECT_HEAD = `
SELECT
  (SELECT count(*) FROM (SELECT ms, seq FROM events ORDER BY rowid DESC LIMIT 1) WHERE ${bad('ms', 'seq')}) +
  (SELECT count(*) FROM meta WHERE ${bad('created_ms', 'created_seq')} OR ${bad('dropped_ms', 'dropped_seq')}) +
  (SELECT count(*) FROM topics WHERE ${bad('evicted_ms', 'evicted_seq')}) AS n`

/** Runs one statement and finalizes it: an open statement would keep the file's lock past close(). */
function once<T>(db: Database, sql: string, use: (statement: Statement) => T): T {
  const statement = db.prepare(sql)
  try {
    return use(statement)
  } finally {
    statement.finalize()
  }
}

/**
 * Finds and repairs ids a store must never serve: ids outside the id space, or whose milliseconds
 * are more than `maxSkewMs` past both the clock and the newest publish time stored (`time`). Herald
 * before the id space was bounded accepted any publisher id of up to 15 digits per part, so a file
 * it wrote may hold `999999999999999-…` ids (and the unparseable ids generated after them); a
 * hand-edited file may hold anything. Reference time is max(now, newest `time`) so a server that
 * boots with its clock behind (no NTP yet) does not mistake sound ids for bad ones.
 *
 * The check at open reads only what makes up the head (the newest row, the floor and the retention
 * marks), so it costs well under a millisecond; a bad id hand-edited deep inside the file is not
 * found here, but formatEventId refuses to write it when it would be served.
 *
 * Repair, in one transaction: every event from the first bad row on (rowid order is id order) gets
 * a fresh id after the newest sound id, keeping its order, topic and data; every bad retention mark
 * is raised to an id after them all, so a resume from before the repair on an affected topic gets
 * `reset` rather than a silent gap. Clients holding a bad id are newer than the new head: `reset`.
 * Returns undefined when nothing was bad.
 */
export function repairIds(db: Database, now: number, maxSkewMs: number): IdRepair | undefined {
  const nowMs = Math.floor(now)
  const suspects = (limitMs: number) => once(db, SUSPECT_HEAD, (q) => (q.get(limitMs) as { n: number }).n)
  if (suspects(nowMs + maxSkewMs) === 0) return undefined
  // Rare: something is past the clock. Judge it against the newest publish time too (a full scan).
  const newestTime = once(db, "SELECT max(time) AS t FROM events WHERE typeof(time) = 'integer'", (q) => (q.get() as { t: number | null }).t) ?? 0
  const limitMs = Math.max(nowMs, Math.min(newestTime, MAX_ID_PART)) + maxSkewMs
  if (suspects(limitMs) === 0) return undefined

  return db.transaction((): IdRepair => {
    const firstBad = once(db, `SELECT rowid, ms, seq FROM events WHERE ${bad('ms', 'seq')} ORDER BY rowid LIMIT 1`, (q) => q.get(limitMs) as { rowid: number; ms: unknown; seq: unknown } | null)
    const marks = once(db, 'SELECT created_ms AS ms, created_seq AS seq FROM meta UNION ALL SELECT dropped_ms, dropped_seq FROM meta UNION ALL SELECT evicted_ms, evicted_seq FROM topics', (q) => q.all() as { ms: unknown; seq: unknown }[])
    // Every row before the first bad one is sound (all of them when none is bad).
    const soundRow = once(db, 'SELECT ms, seq FROM events WHERE rowid < ?1 ORDER BY ms DESC, seq DESC LIMIT 1', (q) => q.get(firstBad?.rowid ?? MAX_ID_PART) as EventId | null)
    let base = ZERO_ID
    for (const id of [...marks, soundRow ?? ZERO_ID]) if (isEventId(id) && id.ms <= limitMs && compareIds(id, base) > 0) base = { ms: id.ms, seq: id.seq }

    let head = base
    let events = 0
    if (firstBad) {
      const { span, count } = once(db, 'SELECT max(rowid) - ?1 AS span, count(*) AS count FROM events WHERE rowid >= ?1', (q) => q.get(firstBad.rowid) as { span: number; count: number })
      // The first new id: the clock's millisecond if it is past base, else base's successor; the
      // sequence then grows with the rowid (gaps are harmless), moving on a millisecond if it must.
      let start = isIdPart(nowMs) && nowMs > base.ms ? { ms: nowMs, seq: 0 } : (successor(base) as EventId)
      if (start.seq + span > MAX_ID_PART) start = { ms: start.ms + 1, seq: 0 }
      once(db, 'UPDATE events SET ms = ?1, seq = ?2 + (rowid - ?3) WHERE rowid >= ?3', (q) => q.run(start.ms, start.seq, firstBad.rowid))
      head = { ms: start.ms, seq: start.seq + span }
      events = count
    }
    // Base is at most limitMs, far below MAX_ID_PART, so these successors exist (were a hand-edited
    // `time` to put it at the very end, formatEventId throws and the store refuses to open).
    const mark = successor(head) as EventId
    let raised = 0
    for (const [table, ms, seq] of [['meta', 'created_ms', 'created_seq'], ['meta', 'dropped_ms', 'dropped_seq'], ['topics', 'evicted_ms', 'evicted_seq']] as const) {
      raised += once(db, `UPDATE ${table} SET ${ms} = ?2, ${seq} = ?3 WHERE ${bad(ms, seq)}`, (q) => q.run(limitMs, mark.ms, mark.seq).changes)
    }
    const first = firstBad ? `${String(firstBad.ms)}-${String(firstBad.seq)}` : 'a retention mark'
    return { events, marks: raised, first, head: formatEventId(raised > 0 ? mark : head), limitMs }
  })()
}

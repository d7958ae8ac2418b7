import { Database } from 'bun:sqlite'
import { HubError } from '../hub/errors'
import type { EventId } from '../hub/id'

/**
 * Bumped when the tables change shape. A file of an older version is migrated at open (MIGRATIONS);
 * a newer one is refused, never guessed at. Version 2 added `events.private`: a Herald that reads
 * version 1 refuses a version 2 file, so a downgrade can never deliver private events to everyone.
 */
export const SCHEMA_VERSION = 2

/** What turns a file of version `n` into version `n + 1`, run in the opening transaction. */
const MIGRATIONS: Record<number, (db: Database) => void> = {
  1: (db) => {
    // Every event a version 1 Herald kept was public.
    const columns = db.query('SELECT name FROM pragma_table_info(\'events\')').all() as { name: string }[]
    if (!columns.some((column) => column.name === 'private')) db.run('ALTER TABLE events ADD COLUMN private INTEGER NOT NULL DEFAULT 0')
  },
}

/**
 * - `meta`: one row: the schema version, when the file was created and the newest id of any topic
 *   dropped whole. Resume positions older than either (the floor) cannot be served.
 * - `topics`: name ↔ small integer id (rows carry the id, not the name), and the newest id each
 *   topic lost to retention.
 * - `events`: one row per event (`private` 1 for a private event). Appends arrive in id order, so
 *   rowid order is id order (the TTL sweep and `head` rely on it); the (topic, ms, seq) index
 *   serves resumes and per-topic trims.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  created_seq INTEGER NOT NULL,
  dropped_ms INTEGER NOT NULL DEFAULT 0,
  dropped_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS topics (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  evicted_ms INTEGER NOT NULL DEFAULT 0,
  evicted_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
  ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  topic INTEGER NOT NULL,
  event TEXT,
  data TEXT NOT NULL,
  json INTEGER NOT NULL,
  time INTEGER NOT NULL,
  private INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_by_topic ON events (topic, ms, seq);
`

/**
 * Opens (creating if needed) a history database: WAL journal, `synchronous = NORMAL` (a commit
 * survives a process crash; only an OS crash may lose the last ones), and an exclusive lock so two
 * servers can never write one file. A new file records `startedAt` as its creation; a file of an
 * older schema version is migrated. Throws `store_unavailable` with the reason when the file cannot
 * be opened or belongs to a newer version.
 */
export function openHistoryDatabase(path: string, startedAt: EventId): Database {
  let db: Database | undefined
  try {
    db = new Database(path, { create: true, strict: true })
    // Exclusive before WAL: SQLite then keeps the WAL index in process memory and holds the lock
    // for as long as the connection lives (the OS releases it if the process dies, even on kill -9).
    db.run('PRAGMA locking_mode = EXCLUSIVE')
    db.run('PRAGMA journal_mode = WAL')
    db.run('PRAGMA synchronous = NORMAL')
    db.run('PRAGMA busy_timeout = 0')
    const opened = db
    opened.transaction(() => {
      opened.run(SCHEMA)
      opened.run('INSERT OR IGNORE INTO meta (id, version, created_ms, created_seq) VALUES (1, ?, ?, ?)', [SCHEMA_VERSION, startedAt.ms, startedAt.seq])
      const { version } = opened.query('SELECT version FROM meta WHERE id = 1').get() as { version: number }
      if (version > SCHEMA_VERSION || !Number.isInteger(version) || version < 1) throw new Error(`schema version ${version}, this Herald reads version ${SCHEMA_VERSION}`)
      for (let from = version; from < SCHEMA_VERSION; from++) (MIGRATIONS[from] as (db: Database) => void)(opened)
      if (version < SCHEMA_VERSION) opened.run('UPDATE meta SET version = ? WHERE id = 1', [SCHEMA_VERSION])
    })()
    return db
  } catch (error) {
    db?.close()
    throw new HubError('store_unavailable', `cannot open the event store ${JSON.stringify(path)}: ${(error as Error).message}`)
  }
}

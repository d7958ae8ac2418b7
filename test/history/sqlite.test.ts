import { Database } from 'bun:sqlite'
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteHistory, type SqliteHistoryOptions } from '../../src/history/sqlite'
import { HubError } from '../../src/hub/errors'
import { ZERO_ID } from '../../src/hub/id'
import { event, historyContract } from './contract'

const dirs: string[] = []
const open: SqliteHistory[] = []

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-'))
  dirs.push(dir)
  return join(dir, 'history.db')
}

function make(options: Omit<SqliteHistoryOptions, 'path'>, path = tempPath()): SqliteHistory {
  const store = new SqliteHistory({ path, ...options })
  open.push(store)
  return store
}

/** Closes a store and reopens the same file, as a restarted server would. */
function reopen(store: SqliteHistory, path: string, options: Omit<SqliteHistoryOptions, 'path'>): SqliteHistory {
  store.close()
  open.splice(open.indexOf(store), 1)
  return make(options, path)
}

afterEach(() => {
  for (const store of open.splice(0)) store.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

historyContract('SqliteHistory', (options) => make(options))
// Resumes read by one of two plans, chosen by the counts: the contract holds for each.
historyContract('SqliteHistory, resumes read by scan', (options) => make({ ...options, replayPlan: 'scan' }))
historyContract('SqliteHistory, resumes read by windows', (options) => make({ ...options, replayPlan: 'windows' }))

describe('SqliteHistory schema versions', () => {
  const all = () => true
  const options = { perTopic: 10, maxTopics: 10, startedAt: { ms: 100, seq: 0 } }

  /** A file as Herald with schema version 1 wrote it (before private events): no `private` column. */
  function versionOneFile(path: string): void {
    const db = new Database(path, { create: true })
    db.run(`CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, created_ms INTEGER NOT NULL, created_seq INTEGER NOT NULL, dropped_ms INTEGER NOT NULL DEFAULT 0, dropped_seq INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE topics (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, evicted_ms INTEGER NOT NULL DEFAULT 0, evicted_seq INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE events (ms INTEGER NOT NULL, seq INTEGER NOT NULL, topic INTEGER NOT NULL, event TEXT, data TEXT NOT NULL, json INTEGER NOT NULL, time INTEGER NOT NULL);
      CREATE INDEX events_by_topic ON events (topic, ms, seq);
      INSERT INTO meta (id, version, created_ms, created_seq) VALUES (1, 1, 100, 0);
      INSERT INTO topics (id, name) VALUES (1, 'a');
      INSERT INTO events VALUES (101, 0, 1, NULL, 'old', 0, 101), (102, 0, 1, 'x', '[1]', 1, 102);`)
    db.close()
  }

  test('a version 1 file is migrated, never refused: its events stay public, new private ones survive a reopen', async () => {
    const path = tempPath()
    versionOneFile(path)
    const first = make(options, path)
    expect((await first.since({ ms: 100, seq: 0 }, all, 100)).events.map((e) => [e.id, e.data, e.private === true])).toEqual([
      ['101-0', 'old', false],
      ['102-0', '[1]', false],
    ])
    first.append([event('a', 103, 0, { private: true }), event('a', 104)])
    const second = reopen(first, path, options)
    expect((await second.since({ ms: 102, seq: 0 }, all, 100)).events.map((e) => [e.id, e.private === true])).toEqual([
      ['103-0', true],
      ['104-0', false],
    ])
    second.close()
    open.splice(open.indexOf(second), 1)
    const db = new Database(path)
    expect(db.query('SELECT version FROM meta').get()).toEqual({ version: 2 })
    db.close()
  })

  test('a file of a newer version is refused with store_unavailable, and left as it was', () => {
    const path = tempPath()
    make(options, path).close()
    open.pop()
    const db = new Database(path)
    db.run('UPDATE meta SET version = 3')
    db.close()
    expect(() => make(options, path)).toThrow(HubError)
    try {
      make(options, path)
    } catch (error) {
      expect((error as HubError).code).toBe('store_unavailable')
      expect((error as HubError).message).toContain('schema version 3')
    }
    const after = new Database(path)
    expect(after.query('SELECT version FROM meta').get()).toEqual({ version: 3 })
    after.close()
  })
})

describe('SqliteHistory durability', () => {
  const all = () => true
  const options = { perTopic: 3, maxTopics: 2, startedAt: { ms: 100, seq: 0 } }

  test('events, the head and per-topic gaps survive a reopen', async () => {
    const path = tempPath()
    const first = make(options, path)
    first.append([event('a', 101), event('a', 102), event('a', 103), event('a', 104), event('b', 105, 0, { event: 'x', json: true, data: '[1]' })])
    const before = await first.since({ ms: 100, seq: 0 }, all, 100)
    const second = reopen(first, path, { ...options, startedAt: { ms: 999, seq: 0 } })
    expect(second.head()).toEqual({ ms: 105, seq: 0 })
    expect(second.stats()).toEqual({ topics: 2, events: 4 })
    // The file's own creation time is the floor, not the restart's: positions from before the restart are served.
    expect(await second.since({ ms: 100, seq: 0 }, all, 100)).toEqual(before)
    expect(before.complete).toBe(false) // a@101 was trimmed, and the reopened store still knows it
    expect((await second.since({ ms: 101, seq: 0 }, all, 100)).complete).toBe(true)
    expect((await second.since({ ms: 99, seq: 0 }, all, 100)).complete).toBe(false)
  })

  test('a floor raised by dropping a topic survives a reopen', async () => {
    const path = tempPath()
    const first = make(options, path)
    first.append([event('a', 101), event('b', 102), event('c', 103)])
    const second = reopen(first, path, options)
    expect(second.stats()).toEqual({ topics: 2, events: 2 })
    expect((await second.since({ ms: 100, seq: 0 }, all, 100)).complete).toBe(false)
    expect((await second.since({ ms: 101, seq: 0 }, all, 100)).complete).toBe(true)
    // Least recently published first after the reopen too: d drops b, not c.
    second.append([event('d', 104)])
    expect((await second.since({ ms: 101, seq: 0 }, all, 100)).complete).toBe(false)
    expect((await second.since({ ms: 102, seq: 0 }, all, 100)).events.map((e) => e.topic)).toEqual(['c', 'd'])
  })

  test('a history emptied by the TTL keeps its head and gaps across a reopen', async () => {
    const path = tempPath()
    let now = 0
    const first = make({ ...options, ttlMs: 10, now: () => now }, path)
    first.append([event('a', 101, 0, { time: 0 }), event('a', 102, 0, { time: 0 })])
    now = 1000
    while (first.expire()) {}
    const second = reopen(first, path, options)
    expect(second.stats()).toEqual({ topics: 1, events: 0 })
    expect(second.head()).toEqual({ ms: 102, seq: 0 })
    expect((await second.since({ ms: 101, seq: 0 }, all, 100)).complete).toBe(false)
    expect((await second.since({ ms: 102, seq: 0 }, all, 100)).complete).toBe(true)
  })

  test('a second store on the same file is refused while the first is open', () => {
    const path = tempPath()
    make(options, path)
    expect(() => make(options, path)).toThrow(HubError)
    try {
      make(options, path)
    } catch (error) {
      expect((error as HubError).code).toBe('store_unavailable')
      expect((error as HubError).message).toContain('locked')
    }
  })

  test('a file that is not a Herald database is refused with a clear error', () => {
    const path = tempPath()
    writeFileSync(path, 'not a database, just some text that is long enough to look like a header '.repeat(100))
    expect(() => make({ ...options, startedAt: ZERO_ID }, path)).toThrow(/cannot open the event store/)
  })
})

/**
 * A sqlite store holding ids Herald must never serve: written by a Herald before issue 8's fix (a
 * publisher id `999999999999999-999999999999999`, then the unparseable ids generated after it), or
 * edited by hand. Opening it repairs them (see src/history/sqlite-repair.ts): the server never
 * continues from, or sends, an id its own parser refuses.
 */
import { Database } from 'bun:sqlite'
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from '../../src/server'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import { SqliteHistory, type SqliteHistoryOptions } from '../../src/history/sqlite'
import type { HubEvent } from '../../src/hub/event'
import { Hub } from '../../src/hub/hub'
import { compareIds, type EventId, formatEventId, parseEventId } from '../../src/hub/id'
import { publish, SseClient, startServer, waitFor, WsClient } from '../helpers'
import { fetchStats } from '../stats'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-poisoned-'))
  dirs.push(dir)
  return join(dir, 'events.db')
}

const NOW = 1_764_135_000_000
const all = () => true

/** An event as the old hub handed it to the store: any position, formatted the old way. */
function stored(topic: string, ms: number, seq: number, data: string): HubEvent {
  return { id: `${ms}-${seq}`, position: { ms, seq }, topic, data, json: false, time: NOW }
}

/** Writes what the pre-fix code wrote: sound events, the poisoned publish, then the ids generated after it. */
function writeOldPoisonedFile(path: string, startedAt: number): { sound: HubEvent[]; poisoned: HubEvent[] } {
  const store = new SqliteHistory({ path, perTopic: 100, maxTopics: 10, startedAt: { ms: startedAt, seq: 0 }, now: () => startedAt })
  const sound = [stored('p/a', startedAt + 1, 0, 'sound 1'), stored('p/b', startedAt + 2, 0, 'sound 2')].map((e) => ({ ...e, time: startedAt }))
  const poisoned = [
    stored('p/a', 999_999_999_999_999, 999_999_999_999_999, 'the poisoned publish'),
    stored('p/b', 999_999_999_999_999, 1_000_000_000_000_000, 'generated after it'),
    stored('p/a', 999_999_999_999_999, 1_000_000_000_000_001, 'and after that'),
  ].map((e) => ({ ...e, time: startedAt + 3 }))
  store.append(sound)
  store.append(poisoned)
  store.close()
  return { sound, poisoned }
}

function expectParseable(id: string | undefined): void {
  expect(id).toBeDefined()
  expect(formatEventId(parseEventId(id as string, 'invalid_last_event_id'))).toBe(id as string)
}

describe('restarting on a store poisoned by the old code path', () => {
  test('the server repairs it at start: ids parse, data and order are kept, poisoned positions get reset', async () => {
    const path = tempPath()
    const { sound, poisoned } = writeOldPoisonedFile(path, Date.now() - 10_000)
    const server = await startServer({ store: `sqlite:${path}`, feedDb: ':memory:' })
    let replayedIds: (string | undefined)[] = []
    try {
      // The head is a real, parseable id near the clock, not 999999999999999-1000000000000001.
      expectParseable(server.hub.head)
      expect(parseEventId(server.hub.head).ms).toBeLessThanOrEqual(Date.now() + 60_000)
      expectParseable((await fetchStats(server.base)).head as string)
      const fresh = await publish(server.base, 'p/a', 'after the restart')
      expectParseable(fresh.id)

      // A client that stopped before the poison gets every event after it, in order, with new ids.
      const sse = await SseClient.open(`${server.base}/events?topic=p/*`, { 'last-event-id': sound[1]?.id as string })
      const replayed = await sse.waitForMessages(poisoned.length + 1)
      sse.close()
      expect(replayed.map((m) => m.event)).not.toContain('reset')
      expect(replayed.map((m) => m.data)).toEqual([...poisoned.map((e) => e.data), 'after the restart'])
      for (const message of replayed) expectParseable(message.id)
      replayedIds = replayed.map((m) => m.id)
      const ids = replayed.map((m) => parseEventId(m.id as string))
      for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i] as EventId, ids[i - 1] as EventId)).toBeGreaterThan(0)

      // A client holding a poisoned id is told to reset, to a head it can resume from.
      const stale = await SseClient.open(`${server.base}/events?topic=p/*`, { 'last-event-id': poisoned[1]?.id as string })
      const [reset] = await stale.waitForMessages(1)
      stale.close()
      expect(reset?.event).toBe('reset')
      expectParseable(reset?.id)

      // Resume from every id the restarted server sent works, over SSE and WebSocket.
      for (const id of [...replayed.map((m) => m.id as string), reset?.id as string, server.hub.head]) {
        const again = await SseClient.open(`${server.base}/events?topic=p/*`, { 'last-event-id': id })
        await waitFor(() => again.raw.startsWith('retry:'), 'the resumed stream')
        expect(again.status).toBe(200)
        again.close()
        const ws = await WsClient.open(`${server.wsBase}/ws`)
        expect((await ws.request({ type: 'subscribe', topics: ['p/*'], lastEventId: id })).type).toBe('subscribed')
        ws.close()
      }
    } finally {
      await server.stop()
    }

    // The repair is written to the file: a second restart changes no id.
    const again = await startServer({ store: `sqlite:${path}`, feedDb: ':memory:' })
    try {
      const sse = await SseClient.open(`${again.base}/events?topic=p/*`, { 'last-event-id': sound[1]?.id as string })
      const replayed = await sse.waitForMessages(poisoned.length + 1)
      sse.close()
      expect(replayed.map((m) => m.id)).toEqual(replayedIds)
    } finally {
      await again.stop()
    }
  })
})

test('the repair is logged as a warning naming what changed', async () => {
  const path = tempPath()
  writeOldPoisonedFile(path, Date.now() - 10_000)
  const lines: { message: string; fields?: Record<string, unknown> }[] = []
  const record = (message: string, fields?: Record<string, unknown>) => lines.push({ message, fields })
  const { hub } = createServer({ store: `sqlite:${path}`, feedDb: ':memory:' }, { debug: () => {}, info: () => {}, warn: record, error: record })
  try {
    expect(lines).toHaveLength(1)
    expect(lines[0]?.message).toContain('repaired event ids')
    expect(lines[0]?.fields).toMatchObject({ store: `sqlite:${path}`, events: 3, marks: 0, first: '999999999999999-999999999999999', head: hub.head })
  } finally {
    await hub.close()
  }
})

describe('SqliteHistory repairs ids at open', () => {
  const options = (now: number): Omit<SqliteHistoryOptions, 'path'> => ({ perTopic: 100, maxTopics: 10, startedAt: { ms: NOW - 1000, seq: 0 }, now: () => now })

  function withRows(path: string, rows: [number | string | bigint, number | string | bigint][]): void {
    const store = new SqliteHistory({ path, ...options(NOW) })
    store.append([stored('h/a', NOW - 500, 0, 'sound'), stored('h/a', NOW - 400, 0, 'sound too')])
    store.close()
    const db = new Database(path, { strict: true })
    for (const [i, [ms, seq]] of rows.entries()) db.run('INSERT INTO events (ms, seq, topic, event, data, json, time) VALUES (?, ?, 1, NULL, ?, 0, ?)', [ms, seq, `edited ${i}`, NOW - 300])
    db.close()
  }

  test.each<[string, [number | string | bigint, number | string | bigint][]]>([
    ['text', [['abc', 0]]],
    ['negative', [[-5, 0]]],
    ['a fraction', [[NOW, 1.5]]],
    ['past the safe integers', [[9_223_372_036_854_775_807n, 0]]],
    ['far in the future', [[NOW + 86_400_000, 0], [NOW + 86_400_000, 1]]],
    ['the old unparseable sequence', [[999_999_999_999_999, 1_000_000_000_000_000]]],
  ])('a tail of rows edited to %s gets fresh ids after the sound ones', async (_, rows) => {
    const path = tempPath()
    withRows(path, rows)
    const store = new SqliteHistory({ path, ...options(NOW) })
    try {
      expect(store.repaired).toMatchObject({ events: rows.length, marks: 0 })
      const head = store.head()
      expect(formatEventId(head)).toBe(store.repaired?.head as string)
      expect(head.ms).toBeLessThanOrEqual(NOW + 60_000)
      const { events, complete } = await store.since({ ms: NOW - 1000, seq: 0 }, all, 100)
      expect(complete).toBe(true)
      expect(events.map((e: { data: string }) => e.data)).toEqual(['sound', 'sound too', ...rows.map((_, i) => `edited ${i}`)])
      for (const event of events) expect(formatEventId(parseEventId(event.id))).toBe(event.id)
      expect(compareIds(events.at(-1)?.position as EventId, head)).toBe(0)
      // A hub on it continues after the head with parseable ids.
      const hub = new Hub({ history: store, broker: new MemoryBroker(store, { now: () => NOW }), maxDataBytes: 0, queueLimit: 10, maxReplay: 100, maxSelectors: 10 })
      expect(hub.head).toBe(formatEventId(head))
    } finally {
      store.close()
    }
  })

  test('a server whose clock is behind the store (no NTP yet at boot) repairs nothing', () => {
    const path = tempPath()
    const first = new SqliteHistory({ path, ...options(NOW) })
    first.append([stored('c/a', NOW, 0, 'one'), stored('c/a', NOW + 5, 3, 'two')])
    first.close()
    // Booted an hour behind: the ids are an hour past the clock, but not past their own publish time.
    const second = new SqliteHistory({ path, ...options(NOW - 3_600_000) })
    try {
      expect(second.repaired).toBeUndefined()
      expect(second.head()).toEqual({ ms: NOW + 5, seq: 3 })
    } finally {
      second.close()
    }
  })

  test('a poisoned retention mark is raised, so a resume across it on that topic gets reset, not a gap', async () => {
    const path = tempPath()
    const first = new SqliteHistory({ path, ...options(NOW) })
    first.append([stored('m/a', NOW - 500, 0, 'a'), stored('m/b', NOW - 400, 0, 'b')])
    first.close()
    const db = new Database(path, { strict: true })
    // The old code evicted poisoned events of m/a (their rows are gone) and kept the mark.
    db.run("UPDATE topics SET evicted_ms = 999999999999999, evicted_seq = 5 WHERE name = 'm/a'")
    db.close()
    const store = new SqliteHistory({ path, ...options(NOW) })
    try {
      expect(store.repaired).toMatchObject({ events: 0, marks: 1 })
      const head = store.head()
      expect(compareIds(head, { ms: NOW - 400, seq: 0 })).toBeGreaterThan(0)
      expect(head.ms).toBeLessThanOrEqual(NOW + 60_000)
      expect((await store.since({ ms: NOW - 400, seq: 0 }, (topic) => topic === 'm/a', 100)).complete).toBe(false)
      expect(await store.since({ ms: NOW - 500, seq: 0 }, (topic) => topic === 'm/b', 100)).toMatchObject({ complete: true, events: [{ data: 'b' }] })
    } finally {
      store.close()
    }
  })

  test('a poisoned floor (dropped topic) is raised too', async () => {
    const path = tempPath()
    const first = new SqliteHistory({ path, ...options(NOW) })
    first.append([stored('f/a', NOW - 500, 0, 'a')])
    first.close()
    const db = new Database(path, { strict: true })
    db.run("UPDATE meta SET dropped_ms = 'x', dropped_seq = 0")
    db.close()
    const store = new SqliteHistory({ path, ...options(NOW) })
    try {
      expect(store.repaired).toMatchObject({ events: 0, marks: 1 })
      expectParseable(formatEventId(store.head()))
      expect((await store.since({ ms: NOW - 500, seq: 0 }, all, 100)).complete).toBe(false)
    } finally {
      store.close()
    }
  })
})

test('a hub refuses to continue after a head outside the id space, with store_unavailable', () => {
  class BrokenHead extends MemoryHistory {
    override head(): EventId {
      return { ms: 1e16, seq: 0 }
    }
  }
  const history = new BrokenHead({ perTopic: 10, maxTopics: 10, startedAt: { ms: 0, seq: 0 } })
  expect(() => new Hub({ history, broker: new MemoryBroker(history), maxDataBytes: 0, queueLimit: 10, maxReplay: 100, maxSelectors: 10 })).toThrow(
    expect.objectContaining({ code: 'store_unavailable', message: expect.stringContaining('10000000000000000-0 is not a valid event id') }),
  )
})

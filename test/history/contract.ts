/**
 * The HistoryStore contract, run against every implementation (memory.test.ts, sqlite.test.ts,
 * redis.test.ts). A store under test is built fresh per test by `make`, with a pinned clock for the
 * TTL. Appends and TTL steps are awaited: a remote store (Redis) answers them with a promise.
 */
import { describe, expect, test } from 'bun:test'
import type { HubEvent } from '../../src/hub/event'
import { type EventId, formatEventId, ZERO_ID } from '../../src/hub/id'
import type { HistoryStore } from '../../src/history/store'

export interface StoreOptions {
  perTopic: number
  maxTopics: number
  startedAt: EventId
  ttlMs?: number
  now?: () => number
  replayPage?: number
  replayPause?: () => Promise<void>
}

/** A store plus the TTL step the contract drives by hand (every implementation has one; a remote one answers with a promise). */
export type TestableStore = HistoryStore & { expire(): boolean | Promise<boolean> }

export function event(topic: string, ms: number, seq = 0, extra: Partial<HubEvent> = {}): HubEvent {
  const position: EventId = { ms, seq }
  return { id: formatEventId(position), position, topic, data: `${topic}@${ms}-${seq}`, json: false, time: ms, ...extra }
}

const all = () => true
const ids = (events: readonly HubEvent[]) => events.map((e) => e.id)
const at = (ms: number, seq = 0): EventId => ({ ms, seq })

export function historyContract(name: string, make: (options: StoreOptions) => TestableStore | Promise<TestableStore>): void {
  const defaults: StoreOptions = { perTopic: 10, maxTopics: 10, startedAt: ZERO_ID }
  const open = (options: Partial<StoreOptions> = {}) => make({ ...defaults, ...options })

  describe(`HistoryStore contract: ${name}`, () => {
    test('an empty store has its start as head (never 0-0), no events, and serves positions since it started', async () => {
      const history = await open({ startedAt: at(100) })
      // A reset sent before the first publish carries this head: a resume from it must be served.
      expect(history.head()).toEqual(at(100))
      expect(history.stats()).toEqual({ topics: 0, events: 0 })
      expect(await history.since(at(100), all, 100)).toEqual({ events: [], complete: true })
      expect((await history.since(at(99), all, 100)).complete).toBe(false)
    })

    test('replays events after a position, across topics, in id order', async () => {
      const history = await open()
      await history.append([event('a', 1), event('b', 2), event('a', 3), event('c', 4)])
      const found = await history.since(at(1), (topic) => topic !== 'c', 100)
      expect(found.complete).toBe(true)
      expect(ids(found.events)).toEqual(['2-0', '3-0'])
      expect(history.head()).toEqual(at(4))
    })

    test('what comes back is exactly what went in: name, JSON flag, data, time', async () => {
      const history = await open()
      const stored = [
        event('a', 1, 0, { event: 'chat', data: '{"text":"hi","n":[1,2]}', json: true, time: 1234 }),
        event('a', 1, 1, { data: 'line 1\nline 2\r\nline 3', time: 1235 }),
        event('a', 1, 2, { data: '', time: 1236 }),
        event('a/b/c', 2, 0, { data: 'émoji 🎉 中文 \u0000 nul', event: 'x.y:z-1', time: 1237 }),
      ]
      await history.append(stored)
      expect((await history.since(ZERO_ID, all, 100)).events).toEqual(stored)
    })

    test('a private event comes back private, and an ordinary one without the flag', async () => {
      const history = await open()
      const stored = [event('a', 1, 0, { private: true }), event('a', 1, 1), event('b', 2, 0, { private: true, event: 'dm', json: true, data: '{"x":1}' })]
      await history.append(stored)
      const found = (await history.since(ZERO_ID, all, 100)).events
      expect(found).toEqual(stored)
      expect(found.map((e) => e.private === true)).toEqual([true, false, true])
      expect(Object.hasOwn(found[1] as HubEvent, 'private')).toBe(false)
    })

    test('batches and single appends store the same thing', async () => {
      const one = await open()
      const each = await open()
      const events = [event('a', 1), event('b', 2), event('a', 3), event('a', 4)]
      await one.append(events)
      for (const e of events) await each.append([e])
      expect(await one.since(ZERO_ID, all, 100)).toEqual(await each.since(ZERO_ID, all, 100))
      expect(one.stats()).toEqual(each.stats())
    })

    test('a position older than what a topic retains is incomplete (a gap)', async () => {
      const history = await open({ perTopic: 2 })
      await history.append([event('a', 1), event('a', 2), event('a', 3), event('b', 4)])
      // a@1 was dropped: a client that saw nothing after 0 missed it.
      expect((await history.since(ZERO_ID, all, 100)).complete).toBe(false)
      const fromOne = await history.since(at(1), all, 100)
      expect(fromOne.complete).toBe(true)
      expect(ids(fromOne.events)).toEqual(['2-0', '3-0', '4-0'])
      // Topic b never lost anything: resuming only b from long ago is complete.
      expect((await history.since(ZERO_ID, (topic) => topic === 'b', 100)).complete).toBe(true)
      expect(history.stats()).toEqual({ topics: 2, events: 3 })
    })

    test('count retention keeps at least the newest perTopic events and stays near the limit', async () => {
      const history = await open({ perTopic: 100 })
      const events = Array.from({ length: 1001 }, (_, i) => event('a', 1 + Math.floor(i / 7), i % 7))
      for (let i = 0; i < events.length; i += 7) await history.append(events.slice(i, i + 7))
      const count = history.stats().events
      expect(count).toBeGreaterThanOrEqual(100)
      expect(count).toBeLessThanOrEqual(100 + 100 / 16)
      // The newest 100 are all there: resuming just before them is complete.
      const found = await history.since((events.at(-101) as HubEvent).position, all, 1000)
      expect(found).toEqual({ events: events.slice(-100), complete: true })
      expect((await history.since((events.at(-100 - 16) as HubEvent).position, all, 1000)).complete).toBe(false)
    })

    test('positions from before the store started are incomplete', async () => {
      const history = await open({ startedAt: at(100) })
      await history.append([event('a', 101)])
      expect((await history.since(at(50), all, 100)).complete).toBe(false)
      expect((await history.since(at(100), all, 100)).complete).toBe(true)
    })

    test('past maxTopics the least recently published topic is dropped and older positions become incomplete', async () => {
      const history = await open({ maxTopics: 2 })
      await history.append([event('a', 1), event('b', 2), event('a', 3), event('c', 4)])
      expect(history.stats()).toEqual({ topics: 2, events: 3 })
      expect((await history.since(at(1), all, 100)).complete).toBe(false)
      expect(ids((await history.since(at(2), all, 100)).events)).toEqual(['3-0', '4-0'])
    })

    test('a topic dropped by the same batch that filled it takes nothing of the topic that replaced it', async () => {
      const history = await open({ perTopic: 1, maxTopics: 1 })
      await history.append([event('x', 1)])
      await history.append([event('x', 2), event('d', 3)])
      expect(history.stats()).toEqual({ topics: 1, events: 1 })
      expect(await history.since(at(2), all, 100)).toEqual({ events: [event('d', 3)], complete: true })
    })

    test('more matches than the limit: the oldest `limit`, marked incomplete', async () => {
      const history = await open()
      await history.append([event('a', 1), event('a', 2), event('a', 3)])
      const found = await history.since(ZERO_ID, all, 2)
      expect(found.complete).toBe(false)
      expect(ids(found.events)).toEqual(['1-0', '2-0'])
    })

    test('the TTL drops old events; resuming before them is incomplete, after them complete', async () => {
      let now = 1000
      const history = await open({ ttlMs: 100, now: () => now })
      await history.append([event('a', 1, 0, { time: 900 }), event('b', 2, 0, { time: 950 }), event('a', 3, 0, { time: 990 })])
      now = 1060 // a@1 (900) and b@2 (950) are older than 100 ms
      while (await history.expire()) {}
      expect(history.stats()).toEqual({ topics: 2, events: 1 })
      expect((await history.since(ZERO_ID, all, 100)).complete).toBe(false)
      expect((await history.since(at(1), (topic) => topic === 'a', 100)).complete).toBe(true)
      const fromTwo = await history.since(at(2), all, 100)
      expect(fromTwo).toEqual({ events: [event('a', 3, 0, { time: 990 })], complete: true })
      // Everything expired: the head still remembers the newest id.
      now = 5000
      while (await history.expire()) {}
      expect(history.stats().events).toBe(0)
      expect(history.head()).toEqual(at(3))
      expect((await history.since(at(3), all, 100)).complete).toBe(true)
      expect((await history.since(at(2), all, 100)).complete).toBe(false)
    })

    test('a long TTL backlog is dropped in several small steps', async () => {
      let now = 0
      const history = await open({ perTopic: 100_000, ttlMs: 10, now: () => now })
      const events = Array.from({ length: 25_000 }, (_, i) => event(`t${i % 3}`, 1 + i))
      await history.append(events)
      now = 1_000_000
      let steps = 1
      while (await history.expire()) steps++
      expect(steps).toBeGreaterThan(1)
      expect(history.stats().events).toBe(0)
    })

    test('without a TTL nothing expires', async () => {
      const history = await open({ now: () => Number.MAX_SAFE_INTEGER })
      await history.append([event('a', 1)])
      expect(await history.expire()).toBe(false)
      expect(history.stats().events).toBe(1)
    })

    test('a large resume lets the event loop run before it answers, and answers in full', async () => {
      const history = await open({ perTopic: 5000, maxTopics: 100 })
      const events = Array.from({ length: 20_000 }, (_, i) => event(`t${i % 20}`, 1 + i))
      for (let i = 0; i < events.length; i += 1000) await history.append(events.slice(i, i + 1000))
      let turned = false
      setImmediate(() => {
        turned = true
      })
      const pending = history.since(ZERO_ID, (topic) => topic !== 't3', 20_000)
      expect(turned).toBe(false)
      const found = await pending
      // The immediate queued before the call ran while the resume was in progress.
      expect(turned).toBe(true)
      expect(found.complete).toBe(true)
      expect(ids(found.events)).toEqual(ids(events.filter((e) => e.topic !== 't3')))
    })

    test('resumes in progress at once each get exactly their own answer', async () => {
      const history = await open({ perTopic: 1000, maxTopics: 100 })
      const events = Array.from({ length: 6000 }, (_, i) => event(`t${i % 6}`, 1 + i))
      await history.append(events)
      const asks = [0, 1, 2, 3].map((n) => ({ after: at(1 + n * 1000), accepts: (topic: string) => topic !== `t${n}` }))
      const answers = await Promise.all(asks.map(({ after, accepts }) => history.since(after, accepts, 10_000)))
      answers.forEach((found, n) => {
        const ask = asks[n] as (typeof asks)[number]
        expect(found.complete).toBe(true)
        expect(ids(found.events)).toEqual(ids(events.filter((e) => e.position.ms > ask.after.ms && ask.accepts(e.topic))))
      })
    })

    test('a resume returns events up to the newest id at the call; what is appended while it runs is left to the live path', async () => {
      let next = 100
      const history = await open({
        perTopic: 100,
        replayPage: 1,
        replayPause: async () => history.append([event('a', next++), event('new', next++)]),
      })
      const before = [event('a', 1), event('b', 2), event('a', 3), event('b', 4)]
      await history.append(before)
      const found = await history.since(ZERO_ID, all, 100)
      expect(next).toBeGreaterThan(100) // it did pause
      expect(found).toEqual({ events: before, complete: true })
    })

    test('an event the resume still had to return, evicted while it paused: incomplete', async () => {
      let paused = 0
      const history = await open({
        perTopic: 3,
        replayPage: 1,
        replayPause: async () => {
          if (paused++ === 0) await history.append([event('a', 10), event('a', 11), event('a', 12)])
        },
      })
      await history.append([event('a', 1), event('b', 2), event('a', 3)])
      const found = await history.since(ZERO_ID, all, 100)
      expect(found.complete).toBe(false)
      // What it did return is where it stopped: the oldest, in order, never past a gap.
      expect(ids(found.events)).toEqual(ids([event('a', 1), event('b', 2), event('a', 3)]).slice(0, found.events.length))
    })

    test('evictions while a resume pauses that lose nothing it needed leave it complete', async () => {
      let paused = 0
      const history = await open({
        perTopic: 2,
        replayPage: 1,
        replayPause: async () => {
          // b held only events the client had (1, 2): these push them out, and 6 after them,
          // all while b was not yet examined. a's 4 and 5 are untouched.
          if (paused++ === 0) await history.append([event('b', 6), event('b', 7), event('b', 8)])
        },
      })
      await history.append([event('b', 1), event('b', 2), event('a', 3), event('a', 4), event('a', 5)])
      const found = await history.since(at(3), all, 100)
      expect(paused).toBeGreaterThan(0)
      expect(found).toEqual({ events: [event('a', 4), event('a', 5)], complete: true })
    })

    test('the TTL dropping an event a paused resume still needed makes it incomplete; dropping older ones does not', async () => {
      let now = 0
      let cutoffDuringPause = 0
      const history = await open({
        perTopic: 100,
        ttlMs: 10,
        now: () => now,
        replayPage: 1,
        replayPause: async () => {
          now = cutoffDuringPause + 10
          while (await history.expire()) {}
        },
      })
      await history.append([event('a', 1, 0, { time: 1 }), event('a', 2, 0, { time: 2 }), event('b', 3, 0, { time: 3 }), event('a', 4, 0, { time: 4 })])
      // Expiring 1 and 2 (time < 3) while resuming after 2 loses nothing.
      cutoffDuringPause = 3
      expect(await history.since(at(2), all, 100)).toEqual({ events: [event('b', 3, 0, { time: 3 }), event('a', 4, 0, { time: 4 })], complete: true })
      // Expiring 3 (time < 4) at the first pause, before anything was returned: b@3 is lost.
      cutoffDuringPause = 4
      const found = await history.since(at(2), all, 100)
      expect(found.complete).toBe(false)
      expect(ids(found.events)).not.toContain('4-0')
    })

    test('a topic emptied by the TTL, then dropped past maxTopics, still raises the floor', async () => {
      let now = 0
      const history = await open({ maxTopics: 1, ttlMs: 10, now: () => now })
      await history.append([event('a', 5, 0, { time: 0 })])
      now = 100
      while (await history.expire()) {}
      await history.append([event('b', 6, 0, { time: 100 })])
      expect(history.stats()).toEqual({ topics: 1, events: 1 })
      expect((await history.since(at(4), all, 100)).complete).toBe(false)
      expect(await history.since(at(5), all, 100)).toEqual({ events: [event('b', 6, 0, { time: 100 })], complete: true })
    })
  })
}

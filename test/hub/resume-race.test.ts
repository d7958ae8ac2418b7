/**
 * The resume race with a store that answers in slices: events published while the history is
 * being read come out once each, in order, after the replay (DESIGN.md §3), for both stores.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import { SqliteHistory } from '../../src/history/sqlite'
import type { HistoryStore } from '../../src/history/store'
import { Hub } from '../../src/hub/hub'
import type { HubEvent } from '../../src/hub/event'
import { compareIds, type EventId } from '../../src/hub/id'
import { parseSelector } from '../../src/hub/topics'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

type Paged = { replayPage: number; replayPause: () => Promise<void> }
const stores: Record<string, (paging: Paged) => HistoryStore> = {
  memory: (paging) => new MemoryHistory({ perTopic: 1000, maxTopics: 100, startedAt: { ms: 0, seq: 0 }, ...paging }),
  sqlite: (paging) => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-race-'))
    dirs.push(dir)
    return new SqliteHistory({ path: join(dir, 'history.db'), perTopic: 1000, maxTopics: 100, startedAt: { ms: 0, seq: 0 }, ...paging })
  },
}

function hubWith(history: HistoryStore): Hub {
  return new Hub({ history, broker: new MemoryBroker(history), maxDataBytes: 0, queueLimit: 100_000, maxReplay: 10_000, maxSelectors: 10 })
}

describe.each(Object.keys(stores))('resume while publishing, %s store', (kind) => {
  test('events published while the history is read in slices come out once each, in order', async () => {
    let hub: Hub | undefined
    let pauses = 0
    const published: HubEvent[] = []
    const publish = async (inputs: { topic: string; data: string }[]) => {
      const events = (await hub?.publish(inputs)) ?? []
      published.push(...events)
      return events
    }
    const history = (stores[kind] as (paging: Paged) => HistoryStore)({
      replayPage: 7,
      replayPause: async () => {
        pauses++
        // One on a wanted topic, one on another, at every pause.
        await publish([{ topic: `race/${pauses % 3}`, data: `during ${pauses}` }, { topic: 'other', data: `during ${pauses}` }])
        await Bun.sleep(0)
      },
    })
    hub = hubWith(history)
    const before = await publish(Array.from({ length: 300 }, (_, i) => ({ topic: i % 4 === 3 ? 'other' : `race/${i % 3}`, data: `before ${i}` })))
    const resumeFrom = before[99] as HubEvent
    const subscription = await hub.subscribe([parseSelector('race/*')], { lastEventId: resumeFrom.id })
    expect(pauses).toBeGreaterThan(2)
    expect(subscription.resetTo).toBeUndefined()
    const [after] = await publish([{ topic: 'race/1', data: 'after' }])
    const expected = published.filter((e) => e.topic.startsWith('race/') && compareIds(e.position, resumeFrom.position) > 0).map((e) => e.id)
    const got: string[] = []
    while (got.length < expected.length) {
      const batch = await subscription.next()
      if (!batch) break
      got.push(...batch.map((delivery) => delivery.event.id))
    }
    expect(got).toEqual(expected)
    expect(got.at(-1)).toBe(after?.id as string)
    subscription.end()
    await hub.close()
  })
})

test('a resume of named topics hands the store their names (it looks them up); one with a pattern does not', async () => {
  const asked: (readonly string[] | undefined)[] = []
  class Spy extends MemoryHistory {
    override since(after: EventId, accepts: (topic: string) => boolean, limit: number, topics?: readonly string[]) {
      asked.push(topics)
      return super.since(after, accepts, limit, topics)
    }
  }
  const hub = hubWith(new Spy({ perTopic: 10, maxTopics: 10, startedAt: { ms: 0, seq: 0 } }))
  const [first] = await hub.publish([{ topic: 'a', data: '1' }, { topic: 'b/c', data: '2' }])
  for (const selectors of [['a', 'b/c'], ['a', 'b/*']]) {
    const subscription = await hub.subscribe(selectors.map(parseSelector), { lastEventId: first?.id })
    subscription.end()
  }
  expect(asked).toEqual([['a', 'b/c'], undefined])
  await hub.close()
})

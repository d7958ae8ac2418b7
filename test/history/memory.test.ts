import { describe, expect, test } from 'bun:test'
import { MemoryHistory } from '../../src/history/memory'
import type { HubEvent } from '../../src/hub/event'
import { ZERO_ID } from '../../src/hub/id'
import { event, historyContract } from './contract'

historyContract('MemoryHistory', (options) => new MemoryHistory(options))

describe('MemoryHistory resume cost', () => {
  /** An event that counts every read of its id: how many events a resume looked at. */
  function counted(topic: string, ms: number, reads: { count: number }): HubEvent {
    const plain = event(topic, ms)
    return Object.defineProperty({ ...plain }, 'position', {
      get: () => {
        reads.count++
        return plain.position
      },
      enumerable: true,
    }) as HubEvent
  }

  test('a resume reads a few events per topic plus the ones it returns, not every retained event', () => {
    const reads = { count: 0 }
    const topics = 100
    const perTopic = 200
    const history = new MemoryHistory({ perTopic, maxTopics: topics, startedAt: ZERO_ID })
    for (let i = 0; i < topics * perTopic; i++) history.append([counted(`t${i % topics}`, 1 + i, reads)])
    reads.count = 0
    const limit = 50
    const found = history.since(ZERO_ID, () => true, limit)
    if (found instanceof Promise) throw new Error('a resume this small answers at once')
    expect(found.complete).toBe(false)
    expect(found.events.map((e) => e.id)).toEqual(Array.from({ length: limit }, (_, i) => `${1 + i}-0`))
    // A binary search per topic (log2 200 < 8, plus the start), then about one read per event out.
    expect(reads.count).toBeLessThanOrEqual(topics * 10 + 2 * (limit + 1))
  })

  test('a resume of named topics looks them up instead of testing every topic', async () => {
    const history = new MemoryHistory({ perTopic: 10, maxTopics: 20_000, startedAt: ZERO_ID })
    for (let i = 0; i < 20_000; i++) history.append([event(`t${i}`, 1 + i)])
    let tested = 0
    const accepts = (topic: string) => {
      tested++
      return topic === 't7' || topic === 't19999'
    }
    const found = await history.since(ZERO_ID, accepts, 100, ['t7', 't19999', 'never-published'])
    expect(found).toEqual({ events: [event('t7', 8), event('t19999', 20_000)], complete: true })
    expect(tested).toBe(0)
  })
})

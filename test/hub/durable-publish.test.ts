/**
 * Publishing through an asynchronous store (DESIGN.md §2-3): nothing is delivered that was not
 * kept, batches reach subscribers in id order, and a resume racing slow appends has no gap and no
 * duplicate. The store is the memory store behind FaultyStore, made slow or failing per test.
 */
import { describe, expect, test } from 'bun:test'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import type { HubEvent } from '../../src/hub/event'
import { Hub } from '../../src/hub/hub'
import { compareIds } from '../../src/hub/id'
import type { Subscription } from '../../src/hub/subscription'
import { parseSelector } from '../../src/hub/topics'
import { FaultyStore } from '../broker/faulty-store'
import { Rng } from '../hostile/prng'

function slowStore(): FaultyStore {
  return new FaultyStore(new MemoryHistory({ perTopic: 10_000, maxTopics: 100, startedAt: { ms: 0, seq: 0 } }))
}

function hubOn(store: FaultyStore): Hub {
  return new Hub({ history: store, broker: new MemoryBroker(store), maxDataBytes: 0, queueLimit: 100_000, maxReplay: 10_000, maxSelectors: 10 })
}

/** Reads `count` events from a subscription (fails the test past the deadline). */
async function read(subscription: Subscription, count: number, ms = 5000): Promise<HubEvent[]> {
  const got: HubEvent[] = []
  const deadline = Date.now() + ms
  while (got.length < count) {
    if (Date.now() > deadline) throw new Error(`timed out with ${got.length} of ${count} events`)
    const batch = await Promise.race([subscription.next(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => [])])
    if (batch === null) break
    got.push(...batch.map((delivery) => delivery.event))
  }
  return got
}

const ids = (events: readonly HubEvent[]) => events.map((event) => event.id)

describe('a store that answers with a promise', () => {
  test('a failed append fails the publish with store_unavailable; no subscriber gets it; the next publish works, with a later id', async () => {
    const store = slowStore()
    const hub = hubOn(store)
    const subscription = await hub.subscribe([parseSelector('t')])
    const [first] = await hub.publish([{ topic: 't', data: 'first' }])
    store.faults.before = () => Bun.sleep(2).then(() => Promise.reject(new Error('replica lost')))
    await expect(hub.publish([{ topic: 't', data: 'lost' }, { topic: 't', data: 'lost too' }])).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining('replica lost') })
    expect(hub.head).toBe(first?.id as string)
    store.faults.before = () => Bun.sleep(2)
    const [next] = await hub.publish([{ topic: 't', data: 'kept' }])
    expect(compareIds(next?.position ?? { ms: 0, seq: 0 }, first?.position ?? { ms: 0, seq: 0 })).toBeGreaterThan(0)
    expect((await read(subscription, 2)).map((event) => event.data)).toEqual(['first', 'kept'])
    expect(subscription.queued).toBe(0)
    expect(hub.stats().published).toBe(2)
    expect((await store.since({ ms: 0, seq: 0 }, () => true, 100)).events.map((event) => event.data)).toEqual(['first', 'kept'])
    subscription.end()
    await hub.close()
  })

  test('overlapping publishes with random delays reach every subscriber in id order, once each', async () => {
    const rng = new Rng(0xde1a)
    const store = slowStore()
    const hub = hubOn(store)
    const selectors = [['c/*'], ['c/1', 'c/2'], ['c/**', 'c/0'], ['d']]
    const subscriptions = await Promise.all(selectors.map((list) => hub.subscribe(list.map(parseSelector))))
    store.faults.before = () => (rng.chance(0.3) ? undefined : Bun.sleep(rng.int(0, 3)))
    const results = await Promise.all(
      Array.from({ length: 80 }, (_, i) => hub.publish(Array.from({ length: 1 + (i % 3) }, (_, j) => ({ topic: rng.pick(['c/0', 'c/1', 'c/2', 'd']), data: `${i}.${j}` })))),
    )
    const published = results.flat()
    // Publishes were kept in the order they were made.
    for (let i = 1; i < published.length; i++) expect(compareIds((published[i - 1] as HubEvent).position, (published[i] as HubEvent).position)).toBeLessThan(0)
    for (const [n, subscription] of subscriptions.entries()) {
      const wanted = published.filter((event) => subscription.selectors.some((selector) => selector.matches(event.topic)))
      expect({ n, got: ids(await read(subscription, wanted.length)) }).toEqual({ n, got: ids(wanted) })
      subscription.end()
    }
    await hub.close()
  })

  for (const mode of ['slow appends', 'late acknowledgements'] as const) {
    test(`a resume racing ${mode} replays, then goes live, with no gap and no duplicate`, async () => {
      for (let round = 0; round < 15; round++) {
        const rng = new Rng(0x7ace + round)
        const store = slowStore()
        const hub = hubOn(store)
        const before = await hub.publish(Array.from({ length: 60 }, (_, i) => ({ topic: `r/${i % 4}`, data: `before ${i}` })))
        const from = before[20] as HubEvent
        // Appends land while the history is being read; with late acknowledgements the store
        // already holds (and the read may return) events the broker has not announced yet.
        const delay = () => Bun.sleep(rng.int(0, 2))
        if (mode === 'slow appends') store.faults.before = delay
        else store.faults.after = delay
        store.faults.since = delay
        const publishing = Promise.all(Array.from({ length: 30 }, (_, i) => hub.publish([{ topic: `r/${i % 4}`, data: `during ${i}` }])))
        await Bun.sleep(rng.int(0, 3))
        const subscription = await hub.subscribe([parseSelector('r/*')], { lastEventId: from.id })
        const during = (await publishing).flat()
        const [after] = await hub.publish([{ topic: 'r/1', data: 'after' }])
        const wanted = [...before, ...during, after as HubEvent].filter((event) => compareIds(event.position, from.position) > 0)
        expect({ round, got: ids(await read(subscription, wanted.length)) }).toEqual({ round, got: ids(wanted) })
        expect(subscription.resetTo).toBeUndefined()
        // Nothing more is coming: a duplicate would be waiting here.
        expect(subscription.queued).toBe(0)
        subscription.end()
        await hub.close()
      }
    })
  }
})

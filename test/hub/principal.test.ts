/**
 * Principals in the hub: publish and subscribe are checked whole, and the registry filters each
 * private event per subscriber (live and replayed); ordinary events reach every accepted
 * subscriber without any call, and a principal that sees all is never asked at all.
 */
import { describe, expect, test } from 'bun:test'
import { MemoryBroker } from '../../src/broker/memory'
import { Delivery } from '../../src/hub/delivery'
import { MemoryHistory } from '../../src/history/memory'
import type { HubEvent } from '../../src/hub/event'
import { Hub } from '../../src/hub/hub'
import { ALLOW_ALL, type Principal, visibilityOf } from '../../src/hub/principal'
import { Registry } from '../../src/hub/registry'
import type { Subscription } from '../../src/hub/subscription'
import { parseSelector } from '../../src/hub/topics'
import { ADA } from './principals'

function newHub(): Hub {
  const history = new MemoryHistory({ perTopic: 100, maxTopics: 100, startedAt: { ms: 0, seq: 0 } })
  return new Hub({ history, broker: new MemoryBroker(history), maxDataBytes: 0, queueLimit: 100, maxReplay: 100, maxSelectors: 10, maxTotalSelectors: 100 })
}

/** Everything queued on a subscription now. */
async function drain(subscription: Subscription): Promise<string[]> {
  const got: string[] = []
  while (subscription.queued > 0) got.push(...((await subscription.next()) ?? []).map((delivery) => delivery.event.data))
  return got
}

const mixed = [
  { topic: 'users/ada/inbox', data: 'ada 1', private: true },
  { topic: 'users/bob/inbox', data: 'bob 1', private: true },
  { topic: 'users/ada/notes/x', data: 'ada 2', private: true },
  { topic: 'users/bob/notes/x', data: 'bob 2', private: true },
]

describe('the principal in the hub', () => {
  test('ALLOW_ALL needs no per-event check', () => {
    expect(visibilityOf(ALLOW_ALL)).toBeUndefined()
    expect(visibilityOf(ADA)).toBeFunction()
  })

  test('a wildcard wider than the rights delivers only the private events the principal may see, live and replayed', async () => {
    const hub = newHub()
    const [first] = await hub.publish(mixed)
    const resumed = await hub.subscribe([parseSelector('users/**')], { principal: ADA, lastEventId: '0-0' })
    const live = await hub.subscribe([parseSelector('users/**')], { principal: ADA })
    const everyone = await hub.subscribe([parseSelector('users/**')])
    await hub.publish(mixed.map((input) => ({ ...input, data: `${input.data} live` })))
    expect(await drain(resumed)).toEqual(['ada 1', 'ada 2', 'ada 1 live', 'ada 2 live'])
    expect(await drain(live)).toEqual(['ada 1 live', 'ada 2 live'])
    expect(await drain(everyone)).toEqual(mixed.map((input) => `${input.data} live`))
    // A resume from an event it could not see is still a valid position.
    const fromBob = await hub.subscribe([parseSelector('users/**')], { principal: ADA, lastEventId: first?.id })
    expect(await drain(fromBob)).toEqual(['ada 2', 'ada 1 live', 'ada 2 live'])
    for (const subscription of [resumed, live, everyone, fromBob]) subscription.end()
    await hub.close()
  })

  test('a principal is never asked about an event that is not private, and gets it, live and replayed', async () => {
    let asked = 0
    const counting: Principal = { ...ADA, maySee: (event) => (asked++, ADA.maySee(event)) }
    const hub = newHub()
    const plain = mixed.map(({ topic, data }) => ({ topic, data }))
    await hub.publish(plain)
    const subscription = await hub.subscribe([parseSelector('users/**')], { principal: counting, lastEventId: '0-0' })
    await hub.publish(plain)
    expect(await drain(subscription)).toEqual([...plain, ...plain].map((input) => input.data))
    expect(asked).toBe(0)
    subscription.end()
    await hub.close()
  })

  test('a principal that sees everything is never asked per event', async () => {
    let asked = 0
    const counting: Principal = { ...ALLOW_ALL, maySee: () => (asked++, true) }
    const hub = newHub()
    await hub.publish(mixed)
    const subscription = await hub.subscribe([parseSelector('users/**')], { principal: counting, lastEventId: '0-0' })
    await hub.publish(mixed)
    expect(await drain(subscription)).toHaveLength(8)
    expect(asked).toBe(0)
    subscription.end()
    await hub.close()
  })

  test('a batch with one topic the principal may not publish to is refused whole', async () => {
    const hub = newHub()
    const watcher = await hub.subscribe([parseSelector('users/**')])
    const head = hub.head
    await expect(hub.publish([{ topic: 'users/ada/inbox', data: 'mine' }, { topic: 'users/bob/inbox', data: 'not mine' }], ADA)).rejects.toMatchObject({
      code: 'forbidden_topic',
      message: expect.stringContaining('users/bob/inbox'),
    })
    expect(hub.head).toBe(head)
    expect(watcher.queued).toBe(0)
    expect((await hub.publish([{ topic: 'users/ada/inbox', data: 'mine' }], ADA)).map((event) => event.data)).toEqual(['mine'])
    watcher.end()
    await hub.close()
  })

  test('a subscribe with one selector the principal may not use is refused whole and holds nothing', async () => {
    const hub = newHub()
    await expect(hub.subscribe(['users/ada/inbox', 'users/bob/inbox'].map(parseSelector), { principal: ADA })).rejects.toMatchObject({ code: 'forbidden_topic' })
    await expect(hub.catchUp([parseSelector('users/*/inbox')], undefined, () => {}, ADA)).rejects.toMatchObject({ code: 'forbidden_topic' })
    expect(hub.stats()).toMatchObject({ subscribers: 0, subscriptions: 0, connections: 0, selectors: 0, gauges: { sseAbortListeners: 0 } })
    await hub.close()
  })
})

describe('the registry filters per subscriber', () => {
  const event = (topic: string, data: string): HubEvent => ({ id: '1-0', position: { ms: 1, seq: 0 }, topic, data, json: false, time: 1, ...(data.startsWith('private') && { private: true as const }) })

  test('a private event its `sees` refuses is not handed over through any selector; others arrive once, unasked', () => {
    const registry = new Registry()
    const got: string[] = []
    const asked: string[] = []
    const subscriber = { receive: (delivery: Delivery) => got.push(delivery.event.data), sees: (e: HubEvent) => (asked.push(e.data), e.data !== 'private 1') }
    registry.add(subscriber, ['room/1', 'room/*', 'room/**'].map(parseSelector))
    let sequence = 0
    for (const data of ['public 1', 'private 1', 'public 2', 'private 2']) registry.deliver(new Delivery(event('room/1', data), ++sequence))
    expect(got).toEqual(['public 1', 'public 2', 'private 2'])
    expect(asked).toEqual(['private 1', 'private 2'])
  })

  test('internal subscribers (relays, buffers, observers) are not counted as subscribers', () => {
    const registry = new Registry()
    registry.add({ receive: () => {}, internal: true }, [parseSelector('a')])
    registry.add({ receive: () => {} }, [parseSelector('a')])
    expect(registry.size).toBe(1)
  })
})

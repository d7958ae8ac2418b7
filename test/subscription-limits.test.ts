/**
 * Subscriptions are bounded per WebSocket (--max-connection-topics, over all its subscribe
 * messages) and across the server (--max-server-topics), each at its exact boundary; a refused
 * subscribe changes nothing; and a subscribe costs what it adds, not what the socket already holds.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Registry, type Subscriber } from '../src/hub/registry'
import type { Selector } from '../src/hub/topics'
import { publish, SseClient, startServer, type TestServer, waitFor, WsClient } from './helpers'
import { type BunWebSocket, fetchStats } from './stats'

/** Waits until the socket has received an event with this data (events arrive in order per socket). */
async function received(ws: WsClient, data: string): Promise<void> {
  await ws.waitFor((message) => message.type === 'event' && message.data === data, `event ${data}`)
}

describe('--max-connection-topics', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ maxConnectionTopics: 5, maxSubscriptionTopics: 3 })
  })
  afterAll(() => server.stop())

  test('counts topics and patterns over all subscribe messages: 5 held is fine, a 6th is refused whole; unsubscribing frees room', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect((await ws.request({ type: 'subscribe', topics: ['c/1', 'c/2', 'c/p/*'] })).type).toBe('subscribed')
    // Already-held selectors do not count again: 3 held + 2 new = 5, the limit.
    expect((await ws.request({ type: 'subscribe', topics: ['c/1', 'c/3', 'c/q/**'] })).type).toBe('subscribed')
    expect((await fetchStats(server.base)).selectors).toBe(5)

    const refused = await ws.request({ type: 'subscribe', topics: ['c/1', 'c/4'] })
    expect(refused).toMatchObject({ type: 'error', code: 'too_many_topics' })
    expect(refused.message).toBe('a WebSocket may hold at most 5 topics and patterns (--max-connection-topics); this one holds 5 and the subscribe adds 1: unsubscribe some first')
    expect((await ws.request({ type: 'subscribe', topics: ['c/r/*'] })).code).toBe('too_many_topics')

    // Nothing of the refused subscribes was added: c/4 and c/r/x are not delivered, c/2 still is.
    await publish(server.base, 'c/4', 'refused topic')
    await publish(server.base, 'c/r/x', 'refused pattern')
    await publish(server.base, 'c/2', 'held')
    await received(ws, 'held')
    expect(ws.ofType('event').map((event) => event.data)).toEqual(['held'])

    expect((await ws.request({ type: 'unsubscribe', topics: ['c/2'] })).type).toBe('unsubscribed')
    expect((await ws.request({ type: 'subscribe', topics: ['c/4'] })).type).toBe('subscribed')
    // A pattern frees room the same way.
    expect((await ws.request({ type: 'unsubscribe', topics: ['c/p/*'] })).type).toBe('unsubscribed')
    expect((await ws.request({ type: 'subscribe', topics: ['c/r/*'] })).type).toBe('subscribed')
    await publish(server.base, 'c/r/x', 'now held')
    await received(ws, 'now held')
    expect((await fetchStats(server.base)).selectors).toBe(5)

    ws.close()
    await waitFor(async () => (await fetchStats(server.base)).selectors === 0, 'the closed socket to give its room back')
  })

  test('?topic= on the upgrade counts too, and each socket has its own allowance', async () => {
    const first = await WsClient.open(`${server.wsBase}/ws?topic=o/1&topic=o/2&topic=o/*`)
    await first.waitFor((message) => message.type === 'subscribed', 'the ?topic= subscribe')
    expect((await first.request({ type: 'subscribe', topics: ['o/3', 'o/4', 'o/5'] })).code).toBe('too_many_topics')
    const second = await WsClient.open(`${server.wsBase}/ws?topic=o/1&topic=o/2&topic=o/*`)
    await second.waitFor((message) => message.type === 'subscribed', 'the ?topic= subscribe')
    expect((await second.request({ type: 'subscribe', topics: ['o/3', 'o/4'] })).type).toBe('subscribed')
    first.close()
    second.close()
    await waitFor(async () => (await fetchStats(server.base)).selectors === 0, 'both sockets to give their room back')
  })
})

describe('--max-server-topics', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ maxServerTopics: 4 })
  })
  afterAll(() => server.stop())

  test('SSE streams and WebSockets share it: 4 held is fine, a 5th is refused (503 / error) until room is freed', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=g/1&topic=g/*`)
    expect(sse.status).toBe(200)
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect((await ws.request({ type: 'subscribe', topics: ['g/2', 'g/**'] })).type).toBe('subscribed')
    expect((await fetchStats(server.base)).selectors).toBe(4)

    const refusedSse = await fetch(`${server.base}/events?topic=g/3`)
    expect(refusedSse.status).toBe(503)
    expect(await refusedSse.json()).toEqual({
      error: { code: 'too_many_subscriptions', message: 'Herald holds 4 of its limit of 4 subscribed topics and patterns (--max-server-topics); this subscription needs 1 more: try again later' },
    })
    const refusedWs = await ws.request({ type: 'subscribe', topics: ['g/2', 'g/3'] })
    expect(refusedWs).toMatchObject({ type: 'error', code: 'too_many_subscriptions' })
    // The refused socket holds what it held before, and nothing of the refused subscribe.
    await publish(server.base, 'g/3/x', 'via g/**')
    await received(ws, 'via g/**')
    expect((await fetchStats(server.base)).selectors).toBe(4)

    sse.close()
    await waitFor(async () => (await fetchStats(server.base)).selectors === 2, 'the closed stream to give its room back')
    expect((await ws.request({ type: 'subscribe', topics: ['g/3', 'g/4'] })).type).toBe('subscribed')
    const again = await fetch(`${server.base}/events?topic=g/5`)
    expect(again.status).toBe(503)
    await again.body?.cancel()
    ws.close()
    await waitFor(async () => (await fetchStats(server.base)).selectors === 0, 'every place to be freed')
  })
})

describe('cost of a subscribe', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ maxConnectionTopics: 10_000 })
  })
  afterAll(() => server.stop())

  /**
   * Counts the selectors every Registry add/remove names while `run` runs (a call without a list
   * names all the subscriber holds), by wrapping the prototype methods the hub's registry uses.
   */
  async function countRegistryWork(run: (touched: { added: number; removed: number }) => Promise<void>): Promise<void> {
    const original = { add: Registry.prototype.add, remove: Registry.prototype.remove }
    const touched = { added: 0, removed: 0 }
    const count = (subscriber: Subscriber, selectors: Iterable<unknown> | undefined) =>
      selectors ? [...selectors].length : ((subscriber as { selectors?: readonly Selector[] }).selectors?.length ?? 0)
    Registry.prototype.add = function (this: Registry, subscriber: Subscriber, selectors: Iterable<Selector>) {
      touched.added += count(subscriber, selectors)
      return original.add.call(this, subscriber, selectors)
    }
    Registry.prototype.remove = function (this: Registry, subscriber: Subscriber, selectors?: Iterable<Selector | string>) {
      touched.removed += count(subscriber, selectors)
      return original.remove.call(this, subscriber, selectors)
    }
    try {
      await run(touched)
    } finally {
      Registry.prototype.add = original.add
      Registry.prototype.remove = original.remove
    }
  }

  test('the Kth subscribe of patterns registers its own selectors only, never the earlier ones again', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    const rounds = 20
    await countRegistryWork(async (touched) => {
      for (let round = 0; round < rounds; round++) {
        const topics = Array.from({ length: 64 }, (_, i) => `k/${round}/${i}/*`)
        expect((await ws.request({ type: 'subscribe', topics })).type).toBe('subscribed')
      }
      // Re-registering everything on each subscribe would be 64 × (1 + 2 + … + 20) = 13,440 adds.
      expect(touched).toEqual({ added: rounds * 64, removed: 0 })
      // Dropping one pattern touches that one.
      expect((await ws.request({ type: 'unsubscribe', topics: ['k/3/3/*'] })).type).toBe('unsubscribed')
      expect(touched).toEqual({ added: rounds * 64, removed: 1 })
    })
    await publish(server.base, 'k/19/63/x', 'last pattern')
    await received(ws, 'last pattern')
    ws.close()
  })
})

describe('room is given back', () => {
  let server: TestServer
  beforeAll(async () => {
    // A small backpressure limit, so a replay of a few MB is paced and stays pending while the client does not read.
    server = await startServer({ wsBackpressureBytes: 64 * 1024 })
  })
  afterAll(() => server.stop())

  test('by a socket that vanishes while a subscribe waits behind a pending catch-up', async () => {
    const first = await publish(server.base, 'gone/t', 'first')
    for (let i = 0; i < 300; i++) await publish(server.base, 'gone/t', `${i}:${'x'.repeat(60_000)}`)
    const socket = new WebSocket(`${server.wsBase}/ws`) as BunWebSocket
    await new Promise((resolve) => socket.addEventListener('open', resolve, { once: true }))
    socket.pause()
    socket.send(JSON.stringify({ type: 'subscribe', topics: ['gone/t'], lastEventId: first.id }))
    // Queued behind the catch-up above, which cannot finish while the client does not read.
    socket.send(JSON.stringify({ type: 'subscribe', topics: ['gone/u', 'gone/v/*'] }))
    await waitFor(async () => (await fetchStats(server.base)).selectors === 1, 'the first subscribe to hold its topic')
    socket.terminate()
    await waitFor(async () => (await fetchStats(server.base)).websockets === 0, 'the socket to close')
    // The queued subscribe ran (in the microtasks after the close handler, so before this request
    // was served) once the closed socket's catch-up was abandoned: it must not have taken room.
    expect((await fetchStats(server.base)).selectors).toBe(0)
    expect(server.hub.stats().subscribers).toBe(0)
  })
})

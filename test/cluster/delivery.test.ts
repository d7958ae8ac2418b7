/**
 * Three Herald processes on one Redis: one topic space. Publishes on every node at once reach
 * every subscriber on every node (SSE and WebSocket) exactly once, in the same order, with the same
 * ids; private events reach only the subscribers entitled to them, on every node; a client resumes
 * on another node with Last-Event-ID with no gap and no duplicate.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { signToken } from '../../src/auth/sign'
import { waitFor } from '../helpers'
import { Cluster, post, ResumingSse, ResumingWs, SECRET, type Seen } from './cluster'

let cluster: Cluster
const token = (sub: string, subscribe: string[], publish: string[] = []) => signToken({ secret: SECRET, sub, subscribe, publish, ttlMs: 600_000 })
const publisher = token('publisher', [], ['users/**'])

beforeAll(async () => {
  cluster = await Cluster.start(3, ['--jwt-secret', SECRET, '--public', 'users/**'])
})
afterAll(() => cluster.stop())

const bases = () => cluster.nodes.map((node) => node.base)
const ids = (seen: readonly Seen[]) => seen.map((event) => event.id)

describe('a three-node cluster', () => {
  test('publishes on every node at once reach every subscriber on every node once, in one order, with the same ids; private ones only the entitled', async () => {
    const [one, two, three] = bases() as [string, string, string]
    const ada = token('ada', ['users/ada/**'])
    const bob = token('bob', ['users/bob/**'])
    const subscribers = {
      adaSseOnOne: new ResumingSse(() => one, 'topic=users/ada/**', { authorization: `Bearer ${ada}` }),
      adaWsOnTwo: new ResumingWs(() => two.replace('http', 'ws'), ['users/ada/**'], ada),
      bobSseOnTwo: new ResumingSse(() => two, 'topic=users/bob/**', { authorization: `Bearer ${bob}` }),
      publicSseOnThree: new ResumingSse(() => three, 'topic=users/**'),
      publicWsOnThree: new ResumingWs(() => three.replace('http', 'ws'), ['users/**']),
      publicWsOnOne: new ResumingWs(() => one.replace('http', 'ws'), ['users/*/inbox']),
    }
    await waitFor(() => Object.values(subscribers).every((subscriber) => subscriber.live), 'every subscriber live')

    // 3 publishers, one per node, 30 publishes each, all at once: ada's and bob's inboxes and feeds, some private.
    const topics = ['users/ada/inbox', 'users/bob/inbox', 'users/ada/feed', 'users/bob/feed']
    const acked: { id: string; topic: string; data: string; private: boolean }[] = []
    await Promise.all(
      [one, two, three].map(async (base, node) => {
        for (let i = 0; i < 30; i++) {
          const topic = topics[(i + node) % topics.length] as string
          const isPrivate = i % 3 === 0
          const data = `n${node} #${i}`
          const { status, body } = await post(base, topic, { data, private: isPrivate }, publisher)
          expect(status).toBe(200)
          acked.push({ id: body.id as string, topic, data, private: isPrivate })
        }
      }),
    )
    const order = [...acked].sort((a, b) => {
      const [am, as] = a.id.split('-').map(Number) as [number, number]
      const [bm, bs] = b.id.split('-').map(Number) as [number, number]
      return am - bm || as - bs
    })
    expect(new Set(order.map((event) => event.id)).size).toBe(90)
    const expected = (visible: (event: (typeof order)[number]) => boolean) => order.filter(visible).map((event) => event.id)
    const forAda = expected((event) => event.topic.startsWith('users/ada/'))
    const forBob = expected((event) => event.topic.startsWith('users/bob/'))
    const forPublic = expected((event) => !event.private)
    const forPublicInboxes = expected((event) => !event.private && event.topic.endsWith('/inbox'))
    const want: [keyof typeof subscribers, string[]][] = [
      ['adaSseOnOne', forAda],
      ['adaWsOnTwo', forAda],
      ['bobSseOnTwo', forBob],
      ['publicSseOnThree', forPublic],
      ['publicWsOnThree', forPublic],
      ['publicWsOnOne', forPublicInboxes],
    ]
    for (const [name, list] of want) {
      await waitFor(() => subscribers[name].received.length >= list.length, `${name} receives ${list.length}`, 10_000)
    }
    // Let anything extra (a duplicate, a leak) arrive before comparing.
    await Bun.sleep(100)
    for (const [name, list] of want) expect({ name, ids: ids(subscribers[name].received) }).toEqual({ name, ids: list })
    // The data came with each id, the same on every node.
    const byId = new Map(acked.map((event) => [event.id, event.data]))
    for (const subscriber of Object.values(subscribers)) for (const event of subscriber.received) expect(event.data).toBe(byId.get(event.id) as string)
    for (const subscriber of Object.values(subscribers)) expect(subscriber.connections).toBe(1)
    await Promise.all(Object.values(subscribers).map((subscriber) => subscriber.stop()))
  }, 30_000)

  test('a client resumes on another node with Last-Event-ID (SSE) or lastEventId (WebSocket): no gap, no duplicate', async () => {
    const [one, two, three] = bases() as [string, string, string]
    const topic = `users/resume/${crypto.randomUUID().slice(0, 8)}`
    const sse = new ResumingSse(() => one, `topic=${topic}`)
    await waitFor(() => sse.live, 'sse live on node one')
    const published: string[] = []
    const publishOn = async (base: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const { status, body } = await post(base, topic, { data: `e${published.length}` }, publisher)
        expect(status).toBe(200)
        published.push(body.id as string)
      }
    }
    await publishOn(two, 5)
    await waitFor(() => sse.received.length === 5, 'five on node one')
    // The client goes away; more is published meanwhile; it comes back to node three.
    await sse.stop()
    await publishOn(one, 5)
    const resumed = new ResumingSse(() => three, `topic=${topic}`, {}, sse.lastId)
    await waitFor(() => resumed.received.length === 5, 'the five missed, on node three')
    await publishOn(two, 3)
    await waitFor(() => resumed.received.length === 8, 'then live ones')
    expect([...ids(sse.received), ...ids(resumed.received)]).toEqual(published)
    expect(resumed.resets).toEqual([])
    await resumed.stop()

    // The WebSocket client resumes on node two from what it saw on node three.
    const ws = new ResumingWs(() => three.replace('http', 'ws'), [topic])
    await waitFor(() => ws.live, 'ws live on node three')
    await publishOn(one, 2)
    await waitFor(() => ws.received.length === 2, 'two on node three')
    await ws.stop()
    await publishOn(three, 4)
    const again = new ResumingWs(() => two.replace('http', 'ws'), [topic], undefined, ws.lastId)
    await waitFor(() => again.received.length === 4, 'the four missed, on node two')
    expect([...ids(ws.received), ...ids(again.received)]).toEqual(published.slice(-6))
    expect(again.resets).toEqual([])
    await again.stop()
  }, 30_000)
})

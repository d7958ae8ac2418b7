/**
 * Two Herald processes on one Redis: what works across nodes whatever the broker (cluster /stats,
 * per-node limits, chat names and rosters, feed posts, demo tokens). Events crossing nodes are
 * tested in cluster-demos.test.ts (browser) once the Redis broker is there.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { ClusterStats } from '../../src/cluster/report'
import { chatPost, chatToken, requestToken } from '../demos/chat-client'
import { SseClient, waitFor, WsClient } from '../helpers'
import { fetchStats } from '../stats'
import { redisAvailable } from './redis'
import { startCluster, type TestCluster } from './nodes'

const KEY_A = 'a'.repeat(20)
const KEY_B = 'b'.repeat(20)
const KEY_C = 'c'.repeat(20)

const wsBase = (base: string) => base.replace(/^http/, 'ws')

async function clusterStats(base: string): Promise<ClusterStats> {
  const stats = await fetchStats(base)
  if (!stats.cluster) throw new Error(`no cluster in /stats of ${base}`)
  return stats.cluster
}

/** A chat page on `base`: authenticated with `token`, subscribed to its inbox and claim topic. */
async function page(base: string, name: string, key: string, token: string): Promise<WsClient> {
  const client = await WsClient.open(`${wsBase(base)}/ws`)
  expect(await client.request({ type: 'auth', token })).toMatchObject({ type: 'authenticated', subject: name })
  expect(await client.request({ type: 'subscribe', topics: [`chat/users/${name}/inbox`, `chat/claim/${key}`] })).toMatchObject({ type: 'subscribed' })
  return client
}

describe.skipIf(!redisAvailable)('two nodes on one Redis', () => {
  let cluster: TestCluster
  let a: string
  let b: string
  beforeAll(async () => {
    cluster = await startCluster(2, ['--node-ttl', '2s', '--max-connections', '2'])
    ;[a, b] = cluster.nodes.map((node) => node.base) as [string, string]
  }, 30_000)
  afterAll(() => cluster?.stop())

  test('/stats keeps its own numbers and shows the cluster: both nodes, counts summed, --max-connections per node', async () => {
    await waitFor(async () => (await clusterStats(a)).alive === 2 && (await clusterStats(b)).alive === 2, 'both nodes to see each other')
    const sse = await SseClient.open(`${a}/events?topic=stats/one`)
    const second = await SseClient.open(`${a}/events?topic=stats/two`)
    const ws = await WsClient.open(`${wsBase(b)}/ws?topic=stats/three`)
    try {
      // The limit is per node: a holds 2 (its limit), the third on a is refused, b still takes one.
      const refused = await fetch(`${a}/events?topic=stats/four`)
      expect(refused.status).toBe(503)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_connections')
      await ws.waitFor((message) => message.type === 'subscribed', 'the WebSocket subscribed')
      expect((await fetchStats(a)).connections).toBe(2)
      expect((await fetchStats(b)).connections).toBe(1)
      for (const base of [a, b]) {
        const view = (await waitFor(async () => {
          const stats = await clusterStats(base)
          return stats.totals.connections === 3 ? stats : undefined
        }, `the cluster's 3 connections in ${base}/stats`)) as ClusterStats
        expect(view.totals).toMatchObject({ connections: 3, sse: 2, websockets: 1 })
        expect(view.nodes.map((node) => node.address).sort()).toEqual([a, b].sort())
        expect(view.nodes.map((node) => node.counters.maxConnections)).toEqual([2, 2])
        expect(view.nodes.filter((node) => node.self).map((node) => node.address)).toEqual([base])
        expect(view.redis).toBe('up')
      }
    } finally {
      sse.close()
      second.close()
      ws.close()
    }
    await waitFor(async () => (await clusterStats(a)).totals.connections === 0 && (await clusterStats(b)).totals.connections === 0, 'the counts back to zero on both nodes', 5000)
  })

  test('a demo token from one node works on the other; a name held through one node is refused on the other', async () => {
    const { token } = await chatToken(a, 'ada', KEY_A)
    // Minted by a, verified by b: the nodes share the demo secret.
    const ada = await page(b, 'ada', KEY_A, token)
    try {
      const refused = await requestToken(b, { name: 'ada', key: KEY_B })
      expect(refused.status).toBe(409)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('name_taken')
      expect((await requestToken(a, { name: 'ada', key: KEY_B })).status).toBe(409)
      // Its own page may claim it again through either node.
      expect((await requestToken(b, { name: 'ada', key: KEY_A })).status).toBe(200)
      // Speaking through a, connected to b: a knows who holds the name.
      expect((await chatPost(a, '/chat/rooms/lobby/messages', { text: 'hello from ada' }, token)).status).toBe(200)
    } finally {
      ada.close()
    }
    // Gone from b: the name is free, through a too, within a scan or two.
    await waitFor(async () => (await requestToken(a, { name: 'ada', key: KEY_B })).status === 200, 'ada free again on a', 5000)
  })

  test('rosters count both nodes: a user connected to one node joins through the other and sees the users of both', async () => {
    const ada = await chatToken(a, 'amy', KEY_A)
    const bob = await chatToken(b, 'ben', KEY_B)
    // Each page connected to the other node than the one that gave its token (no sticky sessions).
    const pages = [await page(b, 'amy', KEY_A, ada.token), await page(a, 'ben', KEY_B, bob.token)]
    const watcher = await SseClient.open(`${a}/events?topic=chat/presence/hall`)
    try {
      const joinedA = await chatPost(a, '/chat/rooms/hall/join', {}, ada.token)
      expect(await joinedA.json()).toEqual({ room: 'hall', users: ['amy'] })
      const joinedB = await chatPost(b, '/chat/rooms/hall/join', {}, bob.token)
      expect(await joinedB.json()).toEqual({ room: 'hall', users: ['amy', 'ben'] })
      // a published amy's join; ben's was published by b (it reaches a's subscribers with the Redis broker).
      const first = await watcher.waitForMessages(1)
      expect(JSON.parse((first[0] as { data: string }).data)).toMatchObject({ room: 'hall', users: ['amy'], version: expect.any(Number) })
      const left = await chatPost(a, '/chat/rooms/hall/leave', {}, bob.token)
      expect(await left.json()).toEqual({ room: 'hall', users: ['amy'] })
    } finally {
      watcher.close()
      for (const client of pages) client.close()
    }
  })

  test('feed posts are shared: a post on one node is on the other\'s page', async () => {
    const text = `shared post ${crypto.randomUUID()}`
    const posted = await fetch(`${a}/feed/posts`, { method: 'POST', body: new URLSearchParams({ message: text }), redirect: 'manual' })
    expect(posted.status).toBe(303)
    expect(await (await fetch(`${b}/feed`)).text()).toContain(text)
    const other = `from b ${crypto.randomUUID()}`
    await fetch(`${b}/feed/posts`, { method: 'POST', body: new URLSearchParams({ message: other }), redirect: 'manual' })
    const html = await (await fetch(`${a}/feed`)).text()
    expect(html.indexOf(other)).toBeGreaterThan(-1)
    expect(html.indexOf(other)).toBeLessThan(html.indexOf(text))
  })
})

describe.skipIf(!redisAvailable)('a node killed with kill -9', () => {
  let cluster: TestCluster
  beforeAll(async () => {
    cluster = await startCluster(2, ['--node-ttl', '1s'], 'kill')
  }, 30_000)
  afterAll(() => cluster?.stop())

  test('leaves /stats, and its chat users leave every roster (one roster event) within its TTL; their names are free', async () => {
    const [a, b] = cluster.nodes as [NonNullable<(typeof cluster.nodes)[0]>, NonNullable<(typeof cluster.nodes)[0]>]
    await waitFor(async () => (await clusterStats(a.base)).alive === 2, 'both nodes')
    const cat = await chatToken(a.base, 'cat', KEY_A)
    const dan = await chatToken(a.base, 'dan', KEY_C)
    const pages = [await page(b.base, 'cat', KEY_A, cat.token), await page(a.base, 'dan', KEY_C, dan.token)]
    const watcher = await SseClient.open(`${a.base}/events?topic=chat/presence/*`)
    try {
      expect(await (await chatPost(a.base, '/chat/rooms/den/join', {}, dan.token)).json()).toEqual({ room: 'den', users: ['dan'] })
      expect(await (await chatPost(a.base, '/chat/rooms/den/join', {}, cat.token)).json()).toEqual({ room: 'den', users: ['cat', 'dan'] })
      expect(await (await chatPost(a.base, '/chat/rooms/attic/join', {}, cat.token)).json()).toEqual({ room: 'attic', users: ['cat'] })
      await watcher.waitForMessages(3)
      b.child.kill('SIGKILL')
      const killedAt = Date.now()
      const rosters = await watcher.waitForMessages(5, 8000)
      // Membership runs out after 1 s; a scans every 250 ms.
      expect(Date.now() - killedAt).toBeLessThan(1000 + 250 + 3000)
      expect(rosters.slice(3).map((event) => JSON.parse(event.data) as { room: string; users: string[] }).map(({ room, users }) => [room, users]).sort()).toEqual([['attic', []], ['den', ['dan']]])
      await Bun.sleep(600)
      expect(watcher.messages.length).toBe(5)
      await waitFor(async () => (await clusterStats(a.base)).alive === 1, 'the dead node gone from /stats', 3000)
      expect((await requestToken(a.base, { name: 'cat', key: KEY_B })).status).toBe(200)
    } finally {
      watcher.close()
      for (const client of pages) client.close()
    }
  }, 20_000)
})

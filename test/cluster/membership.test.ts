import { afterEach, describe, expect, test } from 'bun:test'
import { ClusterKeys } from '../../src/cluster/keys'
import { ClusterLink } from '../../src/cluster/link'
import { ClusterMembership } from '../../src/cluster/membership'
import type { NodeCounters } from '../../src/cluster/report'
import { waitFor } from '../helpers'
import { cleanUp, keysUnder, REDIS_URL, redisAvailable, testClient, uniquePrefix } from './redis'

function counters(connections: number, extra: Partial<NodeCounters> = {}): NodeCounters {
  return { connections, sse: connections, websockets: 0, subscribers: connections, selectors: connections, queued: 0, published: 7, slowConsumers: { sse: 1, ws: 0 }, maxConnections: 100, ...extra }
}

describe.skipIf(!redisAvailable)('cluster membership on Redis', () => {
  const started: { membership: ClusterMembership; link: ClusterLink }[] = []
  const prefixes: string[] = []
  afterEach(async () => {
    for (const { membership, link } of started.splice(0)) {
      await membership.stop()
      link.close()
    }
    for (const prefix of prefixes.splice(0)) await cleanUp(prefix)
  })

  function node(prefix: string, ttlMs: number, read: () => NodeCounters, id?: string) {
    const link = new ClusterLink(REDIS_URL)
    const membership = new ClusterMembership(link, new ClusterKeys(prefix), { ttlMs, counters: read, version: 'test', ...(id && { id }) })
    started.push({ membership, link })
    return membership
  }

  test('two nodes see each other; totals add up; each shows its own counters live', async () => {
    const prefix = uniquePrefix('membership')
    prefixes.push(prefix)
    let live = 3
    const a = node(prefix, 5000, () => counters(live))
    const b = node(prefix, 5000, () => counters(4, { websockets: 2, slowConsumers: { ws: 5 } }))
    a.start('http://127.0.0.1:1')
    b.start('http://127.0.0.1:2')
    // The first beats of both run at once (start); one more each, in turn, so each has read the other.
    await Promise.all([a.beat(), b.beat()])
    await a.beat()
    await b.beat()
    const view = a.stats()
    expect(view.self).toBe(a.id)
    expect(view.redis).toBe('up')
    expect(view.alive).toBe(2)
    expect(view.totals).toEqual({ connections: 7, sse: 7, websockets: 2, subscribers: 7, selectors: 7, queued: 0, slowConsumers: { sse: 1, ws: 5 } })
    const self = view.nodes.find((member) => member.self)
    expect(self).toMatchObject({ id: a.id, address: 'http://127.0.0.1:1', version: 'test', pid: process.pid })
    expect(view.nodes.find((member) => !member.self)).toMatchObject({ id: b.id, address: 'http://127.0.0.1:2' })
    // This node's numbers are read when asked; the other's are as of its last heartbeat.
    live = 10
    expect(a.stats().totals.connections).toBe(14)
    expect(b.stats().totals.connections).toBe(7)
    expect(a.isAlive(b.id)).toBe(true)
  })

  test('a node that stops heartbeating drops out within its TTL; one that stops cleanly leaves at once', async () => {
    const prefix = uniquePrefix('membership')
    prefixes.push(prefix)
    const a = node(prefix, 600, () => counters(1))
    const b = node(prefix, 600, () => counters(1))
    const c = node(prefix, 600, () => counters(1))
    for (const [i, n] of [a, b, c].entries()) n.start(`http://127.0.0.1:${i}`)
    await waitFor(async () => (await a.beat(), a.stats().alive === 3), 'three nodes')
    // b dies without a word (kill -9): its timer stops, nothing is said to Redis.
    const dead = started.find((entry) => entry.membership === b)
    ;(b as unknown as { timer?: Timer }).timer && clearInterval((b as unknown as { timer: Timer }).timer)
    dead?.link.close()
    const diedAt = Date.now()
    await waitFor(() => a.stats().alive === 2, "the dead node gone from the view", 4000)
    expect(Date.now() - diedAt).toBeLessThan(600 + 3000)
    expect(a.isAlive(b.id)).toBe(false)
    // c leaves cleanly: gone from the next heartbeat on.
    await c.stop()
    await a.beat()
    expect(a.stats().nodes.map((member) => member.id)).toEqual([a.id])
  })

  test('a node that was counted as gone hears that it rejoined', async () => {
    const prefix = uniquePrefix('membership')
    prefixes.push(prefix)
    const a = node(prefix, 60_000, () => counters(1))
    const heard: boolean[] = []
    a.onBeat((rejoined) => {
      heard.push(rejoined)
    })
    await a.beat()
    await a.beat()
    const client = await testClient()
    try {
      // As if its membership had run out while it was cut from Redis.
      await client.send('ZREM', [new ClusterKeys(prefix).nodes, a.id])
    } finally {
      client.close()
    }
    await a.beat()
    expect(heard).toEqual([false, false, true])
  })

  test('reports of another shape are ignored, numbers of the wrong type count 0', async () => {
    const prefix = uniquePrefix('membership')
    prefixes.push(prefix)
    const keys = new ClusterKeys(prefix)
    const client = await testClient()
    try {
      const far = Date.now() + 3_600_000
      await client.send('ZADD', [keys.nodes, String(far), 'junk', String(far), 'odd'])
      await client.send('HSET', [keys.reports, 'junk', 'not json {', 'odd', JSON.stringify({ address: 5, counters: { connections: 'lots', sse: -3, websockets: 2, slowConsumers: { 'bad key!': 9, ws: 1 } } })])
    } finally {
      client.close()
    }
    const a = node(prefix, 5000, () => counters(1))
    await a.beat()
    const view = a.stats()
    expect(view.nodes.map((member) => member.id).sort()).toEqual([a.id, 'odd'].sort())
    expect(view.totals).toMatchObject({ connections: 1, sse: 1, websockets: 2, slowConsumers: { sse: 1, ws: 1 } })
    expect(view.nodes.find((member) => member.id === 'odd')?.address).toBe('')
  })

  test('every key lives under the prefix and is gone after a clean stop', async () => {
    const prefix = uniquePrefix('membership')
    prefixes.push(prefix)
    const a = node(prefix, 5000, () => counters(1))
    await a.beat()
    const client = await testClient()
    try {
      expect((await keysUnder(client, prefix)).sort()).toEqual([`${prefix}:nodes`, `${prefix}:nodes:reports`])
      await a.stop()
      expect(await keysUnder(client, prefix)).toEqual([])
    } finally {
      client.close()
    }
  })
})

test('without Redis: the heartbeat fails quietly, stats say redis down and list this node alone', async () => {
  // Port 1 on loopback: nothing listens there.
  const link = new ClusterLink('redis://127.0.0.1:1', { connectTimeoutMs: 500 })
  const membership = new ClusterMembership(link, new ClusterKeys('nowhere'), { ttlMs: 5000, counters: () => counters(2), version: 'test' })
  try {
    await membership.beat()
    const view = membership.stats()
    expect(view).toMatchObject({ redis: 'down', updatedAt: null, alive: 1, totals: { connections: 2 } })
    // While it is down, commands fail at once (no queue holding them).
    const before = performance.now()
    await expect(link.send('PING')).rejects.toMatchObject({ code: 'store_unavailable' })
    expect(performance.now() - before).toBeLessThan(500)
  } finally {
    await membership.stop()
    link.close()
  }
})

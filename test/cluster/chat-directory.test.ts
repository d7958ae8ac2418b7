import { afterEach, describe, expect, test } from 'bun:test'
import { MemoryBroker } from '../../src/broker/memory'
import { ClusterKeys } from '../../src/cluster/keys'
import { ClusterLink } from '../../src/cluster/link'
import { ClusterMembership } from '../../src/cluster/membership'
import { ClusterDirectory, type VersionedRoster } from '../../src/demos/chat/cluster-directory'
import { MemoryHistory } from '../../src/history/memory'
import { Hub } from '../../src/hub/hub'
import { waitFor } from '../helpers'
import { cleanUp, keysUnder, REDIS_URL, redisAvailable, testClient, uniquePrefix } from './redis'

const KEY_A = 'a'.repeat(20)
const KEY_B = 'b'.repeat(20)
const KEY_C = 'c'.repeat(20)

function newHub(): Hub {
  const history = new MemoryHistory({ perTopic: 100, maxTopics: 100, startedAt: { ms: 0, seq: 0 } })
  return new Hub({ history, broker: new MemoryBroker(history), maxDataBytes: 0, queueLimit: 100, maxReplay: 100, maxSelectors: 10 })
}

/** One node of a test cluster: its membership, its chat directory, the claim keys its pages hold connected, the rosters it published. */
interface TestNode {
  membership: ClusterMembership
  directory: ClusterDirectory
  connected: Set<string>
  rosters: VersionedRoster[]
  link: ClusterLink
  /** As kill -9: no more heartbeats or scans, nothing said to Redis. */
  kill(): void
}

describe.skipIf(!redisAvailable)('the chat directory on a cluster', () => {
  const nodes: TestNode[] = []
  const prefixes: string[] = []
  afterEach(async () => {
    for (const node of nodes.splice(0)) {
      node.directory.stop()
      await node.membership.stop()
      node.link.close()
    }
    for (const prefix of prefixes.splice(0)) await cleanUp(prefix)
  })

  async function cluster(count: number, options: { ttlMs?: number; graceMs?: number; maxNames?: number; scanMs?: number } = {}): Promise<TestNode[]> {
    const prefix = uniquePrefix('chat')
    prefixes.push(prefix)
    const made: TestNode[] = []
    for (let i = 0; i < count; i++) {
      const link = new ClusterLink(REDIS_URL)
      const membership = new ClusterMembership(link, new ClusterKeys(prefix), { ttlMs: options.ttlMs ?? 10_000, counters: () => ({ connections: 0, sse: 0, websockets: 0, subscribers: 0, selectors: 0, queued: 0, published: 0, slowConsumers: {}, maxConnections: 0 }), version: 'test' })
      membership.start(`http://node-${i}`)
      await membership.beat()
      const hub = newHub()
      const rosters: VersionedRoster[] = []
      hub.watch(['chat/presence/*'], (delivery) => rosters.push(JSON.parse(delivery.event.data) as VersionedRoster))
      const connected = new Set<string>()
      const directory = new ClusterDirectory(hub, membership, { connected: (key) => connected.has(key), scanMs: options.scanMs ?? 50, graceMs: options.graceMs ?? 10_000, maxNames: options.maxNames ?? 100 })
      const node: TestNode = {
        membership,
        directory,
        connected,
        rosters,
        link,
        kill: () => {
          directory.stop()
          clearInterval((membership as unknown as { timer: Timer }).timer)
        },
      }
      nodes.push(node)
      made.push(node)
    }
    return made
  }

  test('a name held on one node cannot be taken on another; its own page may claim it again anywhere', async () => {
    const [a, b] = (await cluster(2)) as [TestNode, TestNode]
    expect(await a.directory.claim('ada', KEY_A)).toBeUndefined()
    expect(await b.directory.claim('ada', KEY_B)).toBe('taken')
    expect(await a.directory.claim('ada', KEY_B)).toBe('taken')
    // The same page (its key), e.g. reconnecting through the other node.
    expect(await b.directory.claim('ada', KEY_A)).toBeUndefined()
    expect(await b.directory.holder('ada')).toBe(KEY_A)
  })

  test('claimed on one node, connected to the other: the join waits for that node to find the page, and the roster lists users of both nodes', async () => {
    const [a, b] = (await cluster(2)) as [TestNode, TestNode]
    expect(await a.directory.claim('ada', KEY_A)).toBeUndefined()
    b.connected.add(KEY_A)
    expect(await a.directory.join('lobby', 'ada')).toEqual(['ada'])
    expect(b.directory.size).toBe(1)
    expect(await b.directory.claim('bob', KEY_B)).toBeUndefined()
    a.connected.add(KEY_B)
    expect(await b.directory.join('lobby', 'bob')).toEqual(['ada', 'bob'])
    expect(await a.directory.roster('lobby')).toEqual(['ada', 'bob'])
    // Each change was published once, by the node that made it; versions increase.
    expect(a.rosters.map((r) => r.users)).toEqual([['ada']])
    expect(b.rosters.map((r) => r.users)).toEqual([['ada', 'bob']])
    expect((b.rosters[0] as VersionedRoster).version).toBeGreaterThan((a.rosters[0] as VersionedRoster).version)
  })

  test('a page that is connected nowhere cannot join (refused after at most two scans)', async () => {
    const [a] = (await cluster(2)) as [TestNode, TestNode]
    expect(await a.directory.claim('ghost', KEY_C)).toBeUndefined()
    const started = Date.now()
    expect(await a.directory.join('lobby', 'ghost')).toBeUndefined()
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await a.directory.roster('lobby')).toEqual([])
    expect(a.rosters).toEqual([])
  })

  test('a page that goes away leaves every room (one roster each, from its node) and frees its name', async () => {
    const [a, b] = (await cluster(2)) as [TestNode, TestNode]
    for (const [node, name, key] of [[a, 'ada', KEY_A], [b, 'bob', KEY_B]] as const) {
      node.connected.add(key)
      expect(await node.directory.claim(name, key)).toBeUndefined()
    }
    await a.directory.join('lobby', 'ada')
    await b.directory.join('lobby', 'bob')
    await b.directory.join('garden', 'bob')
    b.connected.delete(KEY_B)
    await waitFor(() => b.rosters.length === 4, 'two rosters from the node bob left')
    expect(b.rosters.slice(2).map((r) => [r.room, r.users]).sort()).toEqual([['garden', []], ['lobby', ['ada']]])
    expect(a.rosters.map((r) => r.users)).toEqual([['ada']])
    expect(await a.directory.claim('bob', KEY_C)).toBeUndefined()
  })

  test('a node that dies takes its users offline within its TTL: the first node to scan publishes each roster once', async () => {
    const [a, b, c] = (await cluster(3, { ttlMs: 600 })) as [TestNode, TestNode, TestNode]
    a.connected.add(KEY_A)
    b.connected.add(KEY_B)
    await a.directory.claim('ada', KEY_A)
    await b.directory.claim('bob', KEY_B)
    await a.directory.join('lobby', 'ada')
    await b.directory.join('lobby', 'bob')
    const before = a.rosters.length + c.rosters.length
    b.kill()
    const diedAt = Date.now()
    await waitFor(async () => (await a.directory.roster('lobby')).length === 1, 'bob gone from the lobby', 5000)
    expect(Date.now() - diedAt).toBeLessThan(600 + 3000)
    await Bun.sleep(200) // a duplicate would come from the next scans
    const reaped = [...a.rosters, ...c.rosters].slice(before)
    expect(a.rosters.length + c.rosters.length - before).toBe(1)
    expect(reaped.map((r) => r.users)).toEqual([['ada']])
    // bob's name is free once its holder is gone.
    expect(await a.directory.claim('bob', KEY_C)).toBeUndefined()
  })

  test('a claim never connected holds its name for the grace only', async () => {
    const [a, b] = (await cluster(2, { graceMs: 300 })) as [TestNode, TestNode]
    expect(await a.directory.claim('ada', KEY_A)).toBeUndefined()
    expect(await b.directory.claim('ada', KEY_B)).toBe('taken')
    await Bun.sleep(350)
    expect(await b.directory.claim('ada', KEY_B)).toBeUndefined()
  })

  test('most names at once, over the cluster: the limit passes, one more is refused until a holder is gone', async () => {
    const [a, b] = (await cluster(2, { graceMs: 300, maxNames: 2 })) as [TestNode, TestNode]
    expect(await a.directory.claim('one', KEY_A)).toBeUndefined()
    expect(await b.directory.claim('two', KEY_B)).toBeUndefined()
    expect(await a.directory.claim('three', KEY_C)).toBe('full')
    // A name already held by the same key is not a new name.
    expect(await b.directory.claim('two', KEY_B)).toBeUndefined()
    await Bun.sleep(350)
    expect(await a.directory.claim('three', KEY_C)).toBeUndefined()
  })

  test('leave publishes only when the user was in the room; every key stays under the prefix', async () => {
    const [a] = (await cluster(1)) as [TestNode]
    a.connected.add(KEY_A)
    await a.directory.claim('ada', KEY_A)
    await a.directory.join('lobby', 'ada')
    expect(await a.directory.leave('lobby', 'ada')).toEqual([])
    expect(await a.directory.leave('lobby', 'ada')).toEqual([])
    expect(a.rosters.map((r) => r.users)).toEqual([['ada'], []])
    const client = await testClient()
    try {
      const prefix = prefixes.at(-1) as string
      for (const key of await keysUnder(client, prefix)) expect(key.startsWith(`${prefix}:`)).toBe(true)
    } finally {
      client.close()
    }
  })

  test('after Redis restarted empty, each node claims again the names of the pages still connected to it', async () => {
    const [a, b] = (await cluster(2)) as [TestNode, TestNode]
    a.connected.add(KEY_A)
    expect(await a.directory.claim('ada', KEY_A)).toBeUndefined()
    await a.directory.join('lobby', 'ada')
    await cleanUp(prefixes.at(-1) as string)
    expect(await b.directory.holder('ada')).toBeUndefined()
    // Its next heartbeat finds its membership gone: it is back, and so are its pages' names.
    await a.membership.beat()
    expect(await b.directory.holder('ada')).toBe(KEY_A)
    expect(await b.directory.claim('ada', KEY_B)).toBe('taken')
    // Rooms are not restored: the page re-enters when it reconnects.
    expect(await b.directory.roster('lobby')).toEqual([])
  })

  test('a page that reconnects through another node while its node dies keeps its name and rooms', async () => {
    const [a, b] = (await cluster(2, { ttlMs: 600 })) as [TestNode, TestNode]
    a.connected.add(KEY_A)
    await a.directory.claim('ada', KEY_A)
    expect(await a.directory.join('lobby', 'ada')).toEqual(['ada'])
    a.kill()
    // The page's socket dropped: it claims again (through b) and connects to b, before a's membership runs out.
    expect(await b.directory.claim('ada', KEY_A)).toBeUndefined()
    b.connected.add(KEY_A)
    expect(await b.directory.join('lobby', 'ada')).toEqual(['ada'])
    await Bun.sleep(600 + 400)
    await b.directory.scan()
    expect(await b.directory.roster('lobby')).toEqual(['ada'])
    expect(await b.directory.holder('ada')).toBe(KEY_A)
    expect(await b.directory.claim('ada', KEY_B)).toBe('taken')
    expect(b.rosters.at(-1)?.users).toEqual(['ada'])
  })

  test('a page whose socket moves to another node keeps its rooms when the old socket closes', async () => {
    const [a, b] = (await cluster(2)) as [TestNode, TestNode]
    a.connected.add(KEY_A)
    await a.directory.claim('ada', KEY_A)
    await a.directory.join('lobby', 'ada')
    expect(await b.directory.claim('ada', KEY_A)).toBeUndefined()
    b.connected.add(KEY_A)
    await b.directory.join('lobby', 'ada')
    a.connected.delete(KEY_A)
    for (let i = 0; i < 3; i++) for (const node of [a, b]) await node.directory.scan()
    expect(await a.directory.roster('lobby')).toEqual(['ada'])
    expect(await a.directory.claim('ada', KEY_B)).toBe('taken')
    expect(b.directory.size).toBe(1)
    expect(a.directory.size).toBe(0)
  })

  test('a tab closed right after joining leaves at the next scan, not after its grace', async () => {
    const [a] = (await cluster(1, { graceMs: 60_000 })) as [TestNode]
    a.connected.add(KEY_A)
    await a.directory.claim('ada', KEY_A)
    await a.directory.join('lobby', 'ada')
    a.connected.delete(KEY_A)
    await a.directory.scan()
    expect(await a.directory.roster('lobby')).toEqual([])
    expect(await a.directory.claim('ada', KEY_B)).toBeUndefined()
  })

  test('a page that claimed again and then showed up nowhere goes offline when its grace ends', async () => {
    const [a, b] = (await cluster(2, { graceMs: 400 })) as [TestNode, TestNode]
    a.connected.add(KEY_A)
    await a.directory.claim('ada', KEY_A)
    await a.directory.join('lobby', 'ada')
    await Bun.sleep(450)
    expect(await b.directory.claim('ada', KEY_A)).toBeUndefined()
    a.connected.delete(KEY_A)
    await a.directory.scan()
    // Waiting for its page: still in the room, its name held.
    expect(await a.directory.roster('lobby')).toEqual(['ada'])
    expect(await b.directory.claim('ada', KEY_B)).toBe('taken')
    await Bun.sleep(450)
    await b.directory.scan()
    expect(await a.directory.roster('lobby')).toEqual([])
    expect(await b.directory.claim('ada', KEY_B)).toBeUndefined()
  })
})

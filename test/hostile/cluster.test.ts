/**
 * Generated attacks and sequences on what a cluster shares in Redis (seeded: HOSTILE_SEED replays):
 * - reports of other "nodes" of every shape: /stats never throws, stays bounded and numeric;
 * - feed texts of every kind of character, through Redis's Lua JSON and back: exactly as written;
 * - chat names, rooms and keys of every kind at the HTTP edge of a clustered server: refused
 *   before they reach Redis, and no key under the prefix ever holds anything but safe characters;
 * - random sequences of pages claiming, connecting to either node, dropping, moving to the other
 *   node (claiming again first, as a reconnecting page does), joining and leaving, checked against a model: a name has one holder, rosters hold exactly the connected users who
 *   joined, each change is published once, and the newest published roster is the true one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { MemoryBroker } from '../../src/broker/memory'
import { ClusterKeys } from '../../src/cluster/keys'
import { ClusterLink } from '../../src/cluster/link'
import { ClusterMembership } from '../../src/cluster/membership'
import { ClusterDirectory, type VersionedRoster } from '../../src/demos/chat/cluster-directory'
import { RedisFeedStore } from '../../src/demos/feed/redis-store'
import { MemoryHistory } from '../../src/history/memory'
import { Hub } from '../../src/hub/hub'
import { cleanUp, keysUnder, REDIS_URL, redisAvailable, testClient, uniquePrefix } from '../cluster/redis'
import { startServer, type TestServer } from '../helpers'
import { CONTROL_CHARACTERS, INJECTIONS, Rng, SAFE, SEED } from './prng'

const ZERO = { connections: 0, sse: 0, websockets: 0, subscribers: 0, selectors: 0, queued: 0, published: 0, slowConsumers: {}, maxConnections: 0 }

/** Text of every kind: controls, SSE injections, JSON and Lua specials, astral characters, lookalikes. */
function hostileText(rng: Rng, max: number): string {
  const pieces = [...CONTROL_CHARACTERS, ...INJECTIONS, '"', '\\', '/', '\\/', '\\u0000', '%s', '%%', '[[', ']]', '--', 'nil', 'null', '{"a":1}', '🦊', '𝔘𝔫𝔦', 'é', 'e\u0301', '\uFEFF', '\uFFFF', '<script>', '&amp;', ' ', SAFE]
  let text = ''
  while (text.length < max) {
    const piece = rng.chance(0.3) ? rng.string(rng.int(1, 20), SAFE) : rng.pick(pieces)
    if (text.length + piece.length > max) break
    text += piece
  }
  return text
}

/** A JSON value of any shape (for node reports). */
function hostileValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, depth > 2 ? 4 : 7)) {
    case 0:
      return rng.pick([-1, -1e308, 1e308, 0.5, 2 ** 53, Number.MAX_SAFE_INTEGER, 7])
    case 1:
      return rng.pick(['lots', '', '12', 'NaN', hostileText(rng, 30)])
    case 2:
      return rng.pick([true, false, null])
    case 3:
      return []
    case 4:
      return {}
    case 5:
      return Array.from({ length: rng.int(0, 5) }, () => hostileValue(rng, depth + 1))
    default: {
      const keys = ['connections', 'sse', 'websockets', 'subscribers', 'selectors', 'queued', 'published', 'slowConsumers', 'maxConnections', '__proto__', 'constructor', 'address', 'counters', hostileText(rng, 10)]
      return Object.fromEntries(Array.from({ length: rng.int(0, 8) }, () => [rng.pick(keys), hostileValue(rng, depth + 1)]))
    }
  }
}

describe.skipIf(!redisAvailable)('hostile: what a cluster shares in Redis', () => {
  const prefixes: string[] = []
  const links: ClusterLink[] = []
  afterEach(async () => {
    for (const link of links.splice(0)) link.close()
    for (const prefix of prefixes.splice(0)) await cleanUp(prefix)
  })
  const fresh = (what: string) => {
    const prefix = uniquePrefix(what)
    prefixes.push(prefix)
    const link = new ClusterLink(REDIS_URL)
    links.push(link)
    return { prefix, link, keys: new ClusterKeys(prefix) }
  }

  test('reports of every shape from other nodes: /stats stays numeric, bounded, and never throws', async () => {
    const rng = new Rng(SEED)
    const { link, keys } = fresh('hostile-reports')
    const client = await testClient()
    try {
      const far = String(Date.now() + 3_600_000)
      for (let i = 0; i < 60; i++) {
        const report = rng.chance(0.2) ? hostileText(rng, 40) : JSON.stringify(rng.chance(0.5) ? { address: hostileValue(rng), counters: hostileValue(rng) } : hostileValue(rng))
        await client.send('ZADD', [keys.nodes, far, `n${i}`])
        await client.send('HSET', [keys.reports, `n${i}`, report])
      }
      // One node that reports thousands of transports, and one that names one __proto__.
      const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`t${i}`, 1]))
      await client.send('ZADD', [keys.nodes, far, 'wide', far, 'proto'])
      await client.send('HSET', [keys.reports, 'wide', JSON.stringify({ counters: { slowConsumers: many } }), 'proto', '{"counters":{"slowConsumers":{"__proto__":5,"ws":2}}}'])
    } finally {
      client.close()
    }
    const membership = new ClusterMembership(link, keys, { ttlMs: 5000, counters: () => ZERO, version: 'test' })
    await membership.beat()
    const view = membership.stats()
    expect(() => JSON.stringify(view)).not.toThrow()
    const body = JSON.parse(JSON.stringify(view)) as typeof view
    for (const [name, value] of Object.entries(body.totals)) {
      if (name === 'slowConsumers') continue
      expect(Number.isFinite(value as number) && (value as number) >= 0).toBe(true)
    }
    expect(Object.keys(body.totals.slowConsumers).length).toBeLessThanOrEqual(16)
    for (const member of body.nodes) expect(Object.keys(member.counters.slowConsumers).length).toBeLessThanOrEqual(16)
    for (const value of Object.values(body.totals.slowConsumers)) expect(Number.isFinite(value)).toBe(true)
    // `__proto__` is just a name: counted, and no object's prototype changed.
    expect(Object.entries(body.nodes.find((node) => node.id === 'proto')?.counters.slowConsumers ?? {})).toEqual([['__proto__', 5], ['ws', 2]])
    expect(Object.getPrototypeOf(view.totals.slowConsumers)).toBeNull()
    await membership.stop()
  })

  test('feed texts of every kind go through Redis and come back exactly as written', async () => {
    const rng = new Rng(SEED + 1)
    const { link, keys } = fresh('hostile-feed')
    const store = new RedisFeedStore(link, keys)
    for (let i = 0; i < 150; i++) {
      const text = hostileText(rng, rng.int(1, 500))
      const author = rng.string(rng.int(1, 12), SAFE)
      const post = await store.add(author, text)
      const [back] = await store.latest(1)
      expect(back).toEqual(post)
      expect(back?.text).toBe(text)
    }
  })
})

describe.skipIf(!redisAvailable)('hostile: chat names, rooms and keys at the edge of a clustered server', () => {
  const prefix = uniquePrefix('hostile-edge')
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ feedDb: ':memory:', redis: REDIS_URL, redisPrefix: prefix })
  })
  afterAll(async () => {
    await server?.stop()
    await Bun.sleep(50)
    await cleanUp(prefix)
  })

  test('generated names, rooms and keys are refused before Redis; every key under the prefix stays safe', async () => {
    const rng = new Rng(SEED + 2)
    const specials = [':', '*', '?', '[', ']', '{', '}', '..', '/', '%', ' ', '\\', "'", '"', 'é', '🦊', '\0', ...CONTROL_CHARACTERS.slice(0, 8)]
    const hostileName = () => (rng.chance(0.2) ? rng.string(25, SAFE) : `${rng.string(rng.int(0, 5), SAFE)}${rng.pick(specials)}${rng.string(rng.int(0, 5), SAFE)}`)
    const post = (path: string, body: unknown) => fetch(`${server.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    for (let i = 0; i < 60; i++) {
      const name = hostileName()
      const key = rng.chance(0.5) ? hostileName() : `${rng.string(20, SAFE)}${rng.pick(specials)}`
      const token = await post('/chat/token', { name: rng.chance(0.5) ? name : `ok${i}`, key: rng.chance(0.5) ? key : 'k'.repeat(20) + rng.string(4, SAFE) })
      if (token.status === 200) continue // a valid pair, drawn by chance
      expect(token.status).toBe(400)
      const room = await fetch(`${server.base}/chat/rooms/${encodeURIComponent(hostileName())}/join`, { method: 'POST' })
      expect([400, 401, 404]).toContain(room.status)
    }
    const client = await testClient()
    try {
      for (const key of await keysUnder(client, prefix)) expect(key.slice(prefix.length)).toMatch(/^(:[A-Za-z0-9_-]+)+$/)
      const claims = (await client.send('HKEYS', [`${prefix}:chat:claims`])) as string[]
      for (const name of claims) expect(name).toMatch(/^[A-Za-z0-9_-]{1,24}$/)
    } finally {
      client.close()
    }
  })
})

/** The model of a random chat session on two nodes: pages (a key and the name it wants), where each is connected, who holds each name, who is in each room. */
interface Model {
  holder: Map<string, { key: string; seen: boolean }>
  connectedTo: Map<string, number>
  rooms: Map<string, Set<string>>
  /** Roster events each room should have had. */
  published: Map<string, number>
}

describe.skipIf(!redisAvailable)('hostile: random chat sessions on two nodes against a model', () => {
  const PAGES = [
    { key: 'k'.repeat(19) + '1', name: 'ada' },
    { key: 'k'.repeat(19) + '2', name: 'ada' },
    { key: 'k'.repeat(19) + '3', name: 'bob' },
    { key: 'k'.repeat(19) + '4', name: 'cat' },
  ]
  const ROOMS = ['hall', 'den']

  for (const seed of [SEED + 3, SEED + 4]) {
    test(`seed ${seed}: one holder per name, rosters are the connected users who joined, one event per change`, async () => {
      const rng = new Rng(seed)
      const prefix = uniquePrefix('hostile-model')
      const nodes: { membership: ClusterMembership; directory: ClusterDirectory; connected: Set<string>; link: ClusterLink; rosters: VersionedRoster[] }[] = []
      try {
        for (let i = 0; i < 2; i++) {
          const link = new ClusterLink(REDIS_URL)
          const membership = new ClusterMembership(link, new ClusterKeys(prefix), { ttlMs: 30_000, counters: () => ZERO, version: 'test' })
          await membership.beat()
          const history = new MemoryHistory({ perTopic: 1000, maxTopics: 100, startedAt: { ms: 0, seq: 0 } })
          const hub = new Hub({ history, broker: new MemoryBroker(history), maxDataBytes: 0, queueLimit: 1000, maxReplay: 1000, maxSelectors: 10 })
          const rosters: VersionedRoster[] = []
          hub.watch(['chat/presence/*'], (delivery) => rosters.push(JSON.parse(delivery.event.data) as VersionedRoster))
          const connected = new Set<string>()
          const directory = new ClusterDirectory(hub, membership, { connected: (key) => connected.has(key), scanMs: 40, graceMs: 60_000, maxNames: 100 })
          nodes.push({ membership, directory, connected, link, rosters })
        }
        const model: Model = { holder: new Map(), connectedTo: new Map(), rooms: new Map(ROOMS.map((room) => [room, new Set()])), published: new Map(ROOMS.map((room) => [room, 0])) }
        const node = () => nodes[rng.int(0, 1)] as (typeof nodes)[number]
        const holds = (record: { key: string; seen: boolean }) => model.connectedTo.has(record.key) || !record.seen
        const settle = async () => {
          for (let i = 0; i < 2; i++) for (const n of nodes) await n.directory.scan()
        }
        const dropUser = (name: string) => {
          for (const room of ROOMS) if (model.rooms.get(room)?.delete(name)) model.published.set(room, (model.published.get(room) ?? 0) + 1)
        }
        for (let step = 0; step < 60; step++) {
          const page = rng.pick(PAGES)
          const op = rng.pick(['connect', 'connect', 'drop', 'join', 'join', 'leave', 'move'] as const)
          const record = model.holder.get(page.name)
          const what = `step ${step}: ${op} ${page.name}/${page.key.slice(-1)}`
          if (op === 'connect' && !model.connectedTo.has(page.key)) {
            // As the page does: claim through any node, then connect its socket to any node.
            const expected = record && record.key !== page.key && holds(record) ? 'taken' : undefined
            expect(await node().directory.claim(page.name, page.key), what).toBe(expected)
            if (expected === undefined) {
              if (record && record.key !== page.key) dropUser(page.name)
              const target = rng.int(0, 1)
              ;(nodes[target] as (typeof nodes)[number]).connected.add(page.key)
              model.connectedTo.set(page.key, target)
              model.holder.set(page.name, { key: page.key, seen: true })
            }
          } else if (op === 'move' && model.connectedTo.has(page.key) && record?.key === page.key) {
            // Its socket drops and it reconnects, to the other node: it claims again (through any node),
            // connects there, and the old socket is seen closed before or after the new node finds it.
            const from = model.connectedTo.get(page.key) as number
            const to = 1 - from
            expect(await node().directory.claim(page.name, page.key), what).toBeUndefined()
            ;(nodes[to] as (typeof nodes)[number]).connected.add(page.key)
            if (rng.chance(0.5)) await settle()
            ;(nodes[from] as (typeof nodes)[number]).connected.delete(page.key)
            model.connectedTo.set(page.key, to)
          } else if (op === 'drop' && model.connectedTo.has(page.key)) {
            ;(nodes[model.connectedTo.get(page.key) as number] as (typeof nodes)[number]).connected.delete(page.key)
            model.connectedTo.delete(page.key)
            if (record?.key === page.key) dropUser(page.name)
          } else if (op === 'join' && record?.key === page.key) {
            const room = rng.pick(ROOMS)
            const users = await node().directory.join(room, page.name)
            if (model.connectedTo.has(page.key)) {
              model.rooms.get(room)?.add(page.name)
              model.published.set(room, (model.published.get(room) ?? 0) + 1)
              expect(users, what).toEqual([...(model.rooms.get(room) ?? [])].sort())
            } else {
              expect(users, what).toBeUndefined()
            }
          } else if (op === 'leave' && record?.key === page.key) {
            const room = rng.pick(ROOMS)
            if (model.rooms.get(room)?.delete(page.name)) model.published.set(room, (model.published.get(room) ?? 0) + 1)
            expect(await node().directory.leave(room, page.name), what).toEqual([...(model.rooms.get(room) ?? [])].sort())
          }
          await settle()
          for (const room of ROOMS) {
            const truth = [...(model.rooms.get(room) ?? [])].sort()
            expect(await (nodes[0] as (typeof nodes)[number]).directory.roster(room), `${what}: roster of ${room}`).toEqual(truth)
            const events = nodes.flatMap((n) => n.rosters).filter((roster) => roster.room === room)
            expect(events.length, `${what}: roster events of ${room}`).toBe(model.published.get(room) ?? 0)
            const newest = events.reduce<VersionedRoster | undefined>((best, roster) => (best === undefined || roster.version > best.version ? roster : best), undefined)
            if (newest) expect(newest.users, `${what}: newest roster of ${room}`).toEqual(truth)
          }
          for (const [name, { key }] of model.holder) expect(await (nodes[1] as (typeof nodes)[number]).directory.holder(name), `${what}: holder of ${name}`).toBe(key)
        }
      } finally {
        for (const n of nodes) {
          n.directory.stop()
          await n.membership.stop()
          n.link.close()
        }
        await cleanUp(prefix)
      }
    }, 30_000)
  }
})

/**
 * What a cluster costs Redis, counted by Redis itself (INFO commandstats on a private server):
 * one script call per publish (whatever its batch size), at most one log read per published batch
 * per node, and neither grows with the subscribers or topics a node serves.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { RedisBroker } from '../../src/broker/redis'
import { RedisHistory } from '../../src/history/redis'
import { Hub } from '../../src/hub/hub'
import { compareIds, ZERO_ID } from '../../src/hub/id'
import type { Subscription } from '../../src/hub/subscription'
import { parseSelector } from '../../src/hub/topics'
import { RedisLink } from '../../src/redis/link'
import { waitFor } from '../helpers'
import { PrivateRedis } from '../redis/redis'

const redis = new PrivateRedis()
beforeAll(() => redis.start())
afterAll(() => redis.kill())

/** Calls of each command Redis served since the last CONFIG RESETSTAT. */
async function calls(): Promise<Record<string, number>> {
  const info = String(await redis.command(['INFO', 'commandstats']))
  return Object.fromEntries([...info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)].map((match) => [match[1] as string, Number(match[2])]))
}

async function node(prefix: string) {
  const commands = new RedisLink(redis.url, { timeoutMs: 2000 })
  const reader = new RedisLink(redis.url, { timeoutMs: 2000 })
  const history = new RedisHistory(commands, { prefix, perTopic: 100, maxTopics: 1000, startedAt: ZERO_ID, logSize: 10_000 })
  const broker = new RedisBroker(history, { commands, reader }, { maxIdSkewMs: 60_000, timeoutMs: 2000 })
  const hub = new Hub({ history, broker, maxDataBytes: 0, queueLimit: 1_000_000, maxReplay: 10_000, maxSelectors: 64 })
  await broker.start()
  return { hub, broker }
}

/** Two nodes with `subscribers` subscriptions each over `topics` topics (and one `**`); 100 single publishes and one batch of 100 from node A. */
async function measure(subscribers: number, topics: number): Promise<{ writes: number; reads: number; other: number; delivered: number }> {
  const prefix = `cost-${subscribers}-${topics}`
  const nodes = [await node(prefix), await node(prefix)]
  const subscriptions: Subscription[] = []
  for (const { hub } of nodes) {
    for (let i = 0; i < subscribers; i++) subscriptions.push(await hub.subscribe([parseSelector(`t/${i % topics}`)]))
    subscriptions.push(await hub.subscribe([parseSelector('**')]))
  }
  const [a, b] = nodes as [(typeof nodes)[number], (typeof nodes)[number]]
  // Once per Redis start, a script's first EVALSHA meets NOSCRIPT and is sent again as EVAL: not counted here.
  const warm = await a.hub.publish([{ topic: 'warm-up', data: 'x' }])
  await waitFor(() => compareIds(b.broker.head(), (warm[0] as { position: typeof ZERO_ID }).position) >= 0, 'the warm-up everywhere')
  for (const subscription of subscriptions) while (subscription.queued > 0) await subscription.next()
  await redis.command(['CONFIG', 'RESETSTAT'])
  for (let i = 0; i < 100; i++) await a.hub.publish([{ topic: `t/${i % topics}`, data: `single ${i}` }])
  const batch = await a.hub.publish(Array.from({ length: 100 }, (_, i) => ({ topic: `t/${i % topics}`, data: `batched ${i}` })))
  const last = (batch.at(-1) as { position: typeof ZERO_ID }).position
  await waitFor(() => compareIds(b.broker.head(), last) >= 0, 'node B delivered everything')
  const counted = await calls()
  const delivered = subscriptions.reduce((sum, subscription) => sum + subscription.queued, 0)
  for (const subscription of subscriptions) subscription.end()
  await Promise.all(nodes.map(({ hub }) => hub.close()))
  const writes = (counted.evalsha ?? 0) + (counted.eval ?? 0)
  const reads = counted.xread ?? 0
  // Everything else a client sent (script-internal commands are counted too, under their own names: not these).
  const other = (counted.hget ?? 0) + (counted.ping ?? 0)
  return { writes, reads, other, delivered }
}

test('Redis round trips per published and per delivered event do not grow with subscribers or topics', async () => {
  const small = await measure(1, 1)
  const large = await measure(500, 100)
  // Every subscriber got its topic's events, and each `**` all 200, on both nodes: the large run delivered 3 times as many.
  expect(small.delivered).toBe(2 * (200 * 1 + 200))
  expect(large.delivered).toBe(2 * (200 * 5 + 200))
  for (const run of [small, large]) {
    // One script call per publish: 100 single ones and one batch of 100.
    expect(run.writes).toBe(101)
    // Each of the two nodes reads the log at most once per published batch (plus a quiet-time read or two).
    expect(run.reads).toBeLessThanOrEqual(2 * 101 + 4)
    expect(run.other).toBe(0)
  }
})

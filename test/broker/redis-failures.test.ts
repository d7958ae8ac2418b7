/**
 * The Redis broker when Redis or the network fails, with real Redis servers: a node cut off from
 * Redis catches up when it returns (nothing the cluster acknowledged is missed, nothing resent), a
 * node that fell further behind than `--redis-log` makes its subscribers resume (exactly at the
 * boundary), Redis restarted empty or from an older snapshot starts a new epoch (subscribers
 * resume, old positions get reset, ids keep increasing), a hung Redis fails publishes in bounded
 * time. The whole cluster (processes, HTTP) is tested in test/cluster/.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RedisBroker } from '../../src/broker/redis'
import { RedisHistory } from '../../src/history/redis'
import type { HubEvent, ValidatedInput } from '../../src/hub/event'
import { compareIds } from '../../src/hub/id'
import { RedisLink } from '../../src/redis/link'
import { tcpProxy } from '../client/proxy'
import { waitFor } from '../helpers'
import { deleteKeys, PrivateRedis, REDIS_URL, uniquePrefix } from '../redis/redis'

interface Node {
  broker: RedisBroker
  history: RedisHistory
  delivered: HubEvent[]
  resyncs: string[]
  publish(topic: string, data: string): Promise<HubEvent[]>
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A node (broker + history) on `url`, recording what it delivers and each resync. */
async function startNode(url: string, prefix: string, options: { logSize?: number; timeoutMs?: number; reader?: RedisLink } = {}): Promise<Node> {
  const timeoutMs = options.timeoutMs ?? 1000
  const commands = new RedisLink(url, { timeoutMs })
  const reader = options.reader ?? new RedisLink(url, { timeoutMs })
  const history = new RedisHistory(commands, { prefix, perTopic: 1000, maxTopics: 100, startedAt: { ms: Date.now(), seq: 0 }, logSize: options.logSize ?? 100_000 })
  const broker = new RedisBroker(history, { commands, reader }, { maxIdSkewMs: 60_000, timeoutMs, blockMs: 200, backoff: { firstMs: 20, maxMs: 200 } })
  const node: Node = {
    broker,
    history,
    delivered: [],
    resyncs: [],
    publish: (topic, data) => broker.publish([{ topic, data, json: false } satisfies ValidatedInput]),
  }
  broker.onDeliver((events) => node.delivered.push(...events))
  broker.onResync((reason) => node.resyncs.push(reason))
  await broker.start()
  cleanups.push(async () => {
    await broker.close()
    history.close()
  })
  return node
}

const ids = (events: readonly HubEvent[]) => events.map((event) => event.id)

function expectIncreasing(events: readonly HubEvent[]): void {
  for (let i = 1; i < events.length; i++) expect(compareIds((events[i - 1] as HubEvent).position, (events[i] as HubEvent).position)).toBeLessThan(0)
}

function sharedPrefix(): string {
  const prefix = uniquePrefix('failures')
  cleanups.push(() => deleteKeys(prefix))
  return prefix
}

describe('RedisBroker failures', () => {
  test('a node cut off from Redis is not ready, refuses publishes, and on return delivers every event published meanwhile, once, in order', async () => {
    const prefix = sharedPrefix()
    const proxy = tcpProxy(REDIS_URL.replace('redis://', 'http://'))
    cleanups.push(() => proxy.stop())
    const a = await startNode(REDIS_URL, prefix)
    const b = await startNode(proxy.base.replace('http://', 'redis://'), prefix)
    await a.publish('t', 'before')
    await waitFor(() => b.delivered.length === 1, 'b delivers the first event')

    proxy.block()
    proxy.cut()
    await waitFor(() => !b.broker.readiness().ready, 'b notices')
    expect(b.broker.readiness()).toMatchObject({ ready: false, reason: 'redis_unavailable' })
    await expect(b.publish('t', 'from b')).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining('nothing was published') })
    const meanwhile: HubEvent[] = []
    for (let i = 0; i < 20; i++) meanwhile.push(...(await a.publish(`t/${i % 3}`, `during ${i}`)))

    proxy.unblock()
    await waitFor(() => b.broker.readiness().ready, 'b reconnects', 5000)
    await waitFor(() => b.delivered.length === 21, 'b catches up')
    expect(ids(b.delivered)).toEqual(ids(a.delivered))
    expect(ids(b.delivered.slice(1))).toEqual(ids(meanwhile))
    expect(b.resyncs).toEqual([])
    const [after] = await b.publish('t', 'after')
    await waitFor(() => a.delivered.length === 22, 'a gets b’s publish')
    expect(a.delivered.at(-1)?.id).toBe(after?.id as string)
  }, 20_000)

  for (const behind of ['exactly --redis-log', 'one more than --redis-log'] as const) {
    test(`a node that fell ${behind} entries behind ${behind.startsWith('exactly') ? 'catches up without a resync' : 'makes its subscribers resume, then goes on'}`, async () => {
      const logSize = 10
      const missed = behind.startsWith('exactly') ? logSize : logSize + 1
      const prefix = sharedPrefix()
      const proxy = tcpProxy(REDIS_URL.replace('redis://', 'http://'))
      cleanups.push(() => proxy.stop())
      const a = await startNode(REDIS_URL, prefix, { logSize })
      const b = await startNode(proxy.base.replace('http://', 'redis://'), prefix, { logSize })
      await a.publish('t', 'seen')
      await waitFor(() => b.delivered.length === 1, 'b delivers the first event')
      proxy.block()
      proxy.cut()
      await waitFor(() => !b.broker.readiness().ready, 'b notices')
      for (let i = 0; i < missed; i++) await a.publish('t', `missed ${i}`)
      proxy.unblock()
      await waitFor(() => b.broker.readiness().ready, 'b reconnects', 5000)
      if (missed === logSize) {
        await waitFor(() => b.delivered.length === 1 + missed, 'b catches up')
        expect(ids(b.delivered)).toEqual(ids(a.delivered))
        expect(b.resyncs).toEqual([])
      } else {
        await waitFor(() => b.resyncs.length === 1, 'b resyncs')
        // What the log still held is delivered, in order; the trimmed one is left to history (resumes).
        await waitFor(() => b.delivered.length === logSize + 1, 'b delivers what the log held')
        expect(ids(b.delivered)).toEqual([...ids(a.delivered.slice(0, 1)), ...ids(a.delivered.slice(2))])
      }
      await a.publish('t', 'later')
      await waitFor(() => b.delivered.at(-1)?.data === 'later', 'b goes on')
    }, 20_000)
  }

  test('a batch larger than --redis-log reaches a node in step whole, without a resync', async () => {
    const prefix = sharedPrefix()
    const a = await startNode(REDIS_URL, prefix, { logSize: 10 })
    const b = await startNode(REDIS_URL, prefix, { logSize: 10 })
    const batch = await a.broker.publish(Array.from({ length: 25 }, (_, i) => ({ topic: `t/${i % 4}`, data: `${i}`, json: false })))
    await waitFor(() => b.delivered.length === 25, 'b delivers the whole batch')
    expect(ids(b.delivered)).toEqual(ids(batch))
    expect(b.resyncs).toEqual([])
  })

  test('Redis restarted empty: both nodes resync, old positions are not served, new ids are above every old one', async () => {
    const redis = new PrivateRedis()
    await redis.start()
    cleanups.push(() => redis.kill())
    const prefix = uniquePrefix('empty')
    const a = await startNode(redis.url, prefix)
    const b = await startNode(redis.url, prefix)
    for (let i = 0; i < 5; i++) await a.publish('t', `old ${i}`)
    await waitFor(() => b.delivered.length === 5, 'b delivers')
    const oldHead = (a.delivered.at(-1) as HubEvent).position
    const epoch = a.history.epoch

    await redis.kill()
    await waitFor(() => !a.broker.readiness().ready && !b.broker.readiness().ready, 'both notice')
    await expect(a.publish('t', 'lost')).rejects.toMatchObject({ code: 'store_unavailable' })
    await redis.start()
    await waitFor(() => a.broker.readiness().ready && b.broker.readiness().ready, 'both reconnect', 5000)
    await waitFor(() => a.resyncs.length === 1 && b.resyncs.length === 1, 'both resync')
    expect(a.history.epoch).not.toBe(epoch)
    expect(b.history.epoch).toBe(a.history.epoch as string)

    const [fresh] = await b.publish('t', 'new')
    expect(compareIds((fresh as HubEvent).position, oldHead)).toBeGreaterThan(0)
    await waitFor(() => a.delivered.at(-1)?.data === 'new', 'a delivers the new event')
    // A client holding an old position: reset, on either node (never a replay of what is left).
    // Even the newest old one: events acknowledged just before the loss may be gone.
    for (const node of [a, b]) {
      expect((await node.history.since((a.delivered[2] as HubEvent).position, () => true, 100)).complete).toBe(false)
      expect((await node.history.since(oldHead, () => true, 100)).complete).toBe(false)
    }
    // Positions of the new epoch are served as usual.
    const [newer] = await a.publish('t', 'newer')
    expect(await b.history.since((fresh as HubEvent).position, () => true, 100)).toEqual({ events: [newer as HubEvent], complete: true })
  }, 20_000)

  test('Redis back from an older snapshot: a new epoch, subscribers resume, what the node read past the snapshot is never reissued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-redis-snapshot-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const redis = new PrivateRedis(['--dir', dir, '--dbfilename', 'dump.rdb'])
    await redis.start()
    cleanups.push(() => redis.kill())
    const prefix = uniquePrefix('snapshot')
    const a = await startNode(redis.url, prefix)
    await a.publish('t', 'saved')
    await redis.command(['SAVE'])
    for (let i = 0; i < 3; i++) await a.publish('t', `lost ${i}`)
    const readUpTo = (a.delivered.at(-1) as HubEvent).position
    const epoch = a.history.epoch

    await redis.kill()
    await redis.start()
    await waitFor(() => a.resyncs.length === 1, 'a resyncs', 5000)
    expect(a.history.epoch).not.toBe(epoch)
    const [next] = await a.publish('t', 'after')
    expect(compareIds((next as HubEvent).position, readUpTo)).toBeGreaterThan(0)
    // Positions from before what the node had read are reset, even the one the snapshot kept.
    expect((await a.history.since((a.delivered[0] as HubEvent).position, () => true, 100)).complete).toBe(false)
  }, 20_000)

  test('keys deleted under a running cluster (FLUSHALL): the next publish starts a new epoch and every node resyncs', async () => {
    const prefix = sharedPrefix()
    const a = await startNode(REDIS_URL, prefix)
    const b = await startNode(REDIS_URL, prefix)
    await a.publish('t', 'one')
    await waitFor(() => b.delivered.length === 1, 'b delivers')
    await deleteKeys(prefix)
    const started = Date.now()
    const [next] = await a.publish('t', 'two')
    // Not held up waiting for a delivery the resync replaced.
    expect(Date.now() - started).toBeLessThan(500)
    expect(compareIds((next as HubEvent).position, (a.delivered[0] as HubEvent).position)).toBeGreaterThan(0)
    await waitFor(() => a.resyncs.length === 1 && b.resyncs.length === 1, 'both resync')
    await a.publish('t', 'three')
    await waitFor(() => b.delivered.at(-1)?.data === 'three', 'b goes on in the new epoch')
  }, 20_000)

  test('a hung Redis: a publish fails within the timeout saying it may have been kept; the node recovers when Redis does', async () => {
    const redis = new PrivateRedis()
    await redis.start()
    cleanups.push(() => {
      redis.resume()
      return redis.kill()
    })
    const prefix = uniquePrefix('hung')
    const a = await startNode(redis.url, prefix, { timeoutMs: 300 })
    await a.publish('t', 'before')
    redis.pause()
    const started = Date.now()
    await expect(a.publish('t', 'hung')).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining('may or may not') })
    expect(Date.now() - started).toBeLessThan(2000)
    await waitFor(() => !a.broker.readiness().ready, 'a is not ready')
    redis.resume()
    await waitFor(() => a.broker.readiness().ready, 'a recovers', 5000)
    // The hung publish ran once Redis continued (the client was told it may have): delivered once, in order.
    await a.publish('t', 'after')
    await waitFor(() => a.delivered.at(-1)?.data === 'after', 'a delivers')
    expect(a.delivered.map((event) => event.data)).toEqual(['before', 'hung', 'after'])
    expect(a.resyncs).toEqual([])
  }, 20_000)

  test('a resume with an id another node already delivered waits for this node to reach it instead of calling it unknown', async () => {
    /** A reader whose log reads arrive 300 ms late: the node lags the cluster. */
    class SlowReader extends RedisLink {
      override async send(command: string, args: string[], timeoutMs?: number): Promise<unknown> {
        const reply = await super.send(command, args, timeoutMs)
        if (command === 'XREAD' && reply !== null) await Bun.sleep(300)
        return reply
      }
    }
    const prefix = sharedPrefix()
    const a = await startNode(REDIS_URL, prefix)
    const b = await startNode(REDIS_URL, prefix, { reader: new SlowReader(REDIS_URL, { timeoutMs: 1000 }) })
    const [event] = await a.publish('t', 'x')
    const position = (event as HubEvent).position
    expect(compareIds(b.broker.head(), position)).toBeLessThan(0)
    await b.broker.reach(position)
    expect(compareIds(b.broker.head(), position)).toBeGreaterThanOrEqual(0)
    // A position nobody wrote resolves at once, still unknown.
    const unknown = { ms: position.ms + 60_000, seq: 0 }
    const started = Date.now()
    await b.broker.reach(unknown)
    expect(Date.now() - started).toBeLessThan(200)
    expect(compareIds(b.broker.head(), unknown)).toBeLessThan(0)
  })
})

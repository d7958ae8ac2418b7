/**
 * A cluster's failures as its clients see them, with real processes: a node killed with kill -9
 * (its clients resume on another node, losing nothing), a node cut off from Redis (not ready,
 * publishes 503, subscribers stay connected and get everything once Redis is back), Redis
 * restarted empty mid-stream (every acknowledged event was delivered once and in order; then
 * `reset`, and ids keep increasing), and Redis down at start (`--redis-start require|degraded`).
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { runCli, startCli } from '../cli'
import { tcpProxy } from '../client/proxy'
import { waitFor } from '../helpers'
import { deleteKeys, freePort, PrivateRedis, REDIS_URL, uniquePrefix } from '../redis/redis'
import { Cluster, HERALD, post, ResumingSse, ResumingWs, type Seen } from './cluster'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const ids = (seen: readonly Seen[]) => seen.map((event) => event.id)
const readyz = async (base: string) => {
  const response = await fetch(`${base}/readyz`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}
const compare = (a: string, b: string) => {
  const [am, as] = a.split('-').map(Number) as [number, number]
  const [bm, bs] = b.split('-').map(Number) as [number, number]
  return am - bm || as - bs
}

async function started(cluster: Cluster): Promise<Cluster> {
  cleanups.push(() => cluster.stop())
  return cluster
}

describe('cluster failures', () => {
  test('kill -9 of a node mid-stream: its SSE and WebSocket clients resume on another node and get every acknowledged event once, in order', async () => {
    const cluster = await started(await Cluster.start(3))
    const [a, b, c] = cluster.nodes as [(typeof cluster.nodes)[number], (typeof cluster.nodes)[number], (typeof cluster.nodes)[number]]
    const topic = `kill/${crypto.randomUUID().slice(0, 8)}`
    let bAlive = true
    const sse = new ResumingSse(() => (bAlive ? b.base : c.base), `topic=${topic}`)
    const ws = new ResumingWs(() => (bAlive ? b.base : c.base).replace('http', 'ws'), [topic])
    await waitFor(() => sse.live && ws.live, 'both subscribers live on node b')
    const acked: string[] = []
    const publishing = (async () => {
      for (let i = 0; i < 150; i++) {
        const { status, body } = await post(a.base, topic, { data: `e${i}` })
        expect(status).toBe(200)
        acked.push(body.id as string)
        if (i === 50) {
          bAlive = false
          await cluster.kill(b)
        }
        await Bun.sleep(2)
      }
    })()
    await publishing
    await waitFor(() => sse.received.length >= 150 && ws.received.length >= 150, `every event at both (sse ${sse.received.length}, ws ${ws.received.length})`, 10_000)
    await Bun.sleep(100)
    expect(ids(sse.received)).toEqual(acked)
    expect(ids(ws.received)).toEqual(acked)
    expect(sse.connections).toBe(2)
    expect(ws.connections).toBe(2)
    expect(sse.resets).toEqual([])
    expect(ws.resets).toEqual([])
    await Promise.all([sse.stop(), ws.stop()])
  }, 30_000)

  test('a node cut off from Redis: /readyz 503, its publishes 503, its subscribers stay connected and get every event published meanwhile once Redis is back', async () => {
    const proxy = tcpProxy(REDIS_URL.replace('redis://', 'http://'))
    cleanups.push(() => proxy.stop())
    const cluster = await started(new Cluster())
    const a = await cluster.add()
    const b = await cluster.add(['--redis', proxy.base.replace('http://', 'redis://')])
    const topic = `cut/${crypto.randomUUID().slice(0, 8)}`
    const sse = new ResumingSse(() => b.base, `topic=${topic}`)
    const ws = new ResumingWs(() => b.base.replace('http', 'ws'), [topic])
    await waitFor(() => sse.live && ws.live, 'subscribers live on b')
    const acked = [(await post(a.base, topic, { data: 'before' })).body.id as string]
    await waitFor(() => sse.received.length === 1 && ws.received.length === 1, 'the first event on b')
    expect(await readyz(b.base)).toEqual({ status: 200, body: { status: 'ready' } })

    proxy.block()
    proxy.cut()
    await waitFor(async () => (await readyz(b.base)).status === 503, 'b not ready')
    expect((await readyz(b.base)).body).toMatchObject({ status: 'not_ready', reason: 'redis_unavailable' })
    expect((await fetch(`${b.base}/healthz`)).status).toBe(200)
    const refused = await post(b.base, topic, { data: 'on b' })
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'store_unavailable' } } })
    for (let i = 0; i < 10; i++) acked.push((await post(a.base, topic, { data: `meanwhile ${i}` })).body.id as string)
    expect(sse.received).toHaveLength(1)

    proxy.unblock()
    await waitFor(() => sse.received.length === 11 && ws.received.length === 11, 'b catches up', 10_000)
    expect(ids(sse.received)).toEqual(acked)
    expect(ids(ws.received)).toEqual(acked)
    // Never disconnected: the same stream and socket throughout.
    expect(sse.connections).toBe(1)
    expect(ws.connections).toBe(1)
    await waitFor(async () => (await readyz(b.base)).status === 200, 'b ready again')
    await Promise.all([sse.stop(), ws.stop()])
  }, 30_000)

  test('Redis restarted empty mid-stream: every acknowledged event was delivered once, in order; publishes meanwhile get 503; then clients get reset and ids keep increasing', async () => {
    const redis = new PrivateRedis()
    await redis.start()
    cleanups.push(() => redis.kill())
    const cluster = await started(await Cluster.start(2, [], redis.url))
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[number], (typeof cluster.nodes)[number]]
    const topic = 'restart/stream'
    const sse = new ResumingSse(() => b.base, `topic=${topic}`)
    const ws = new ResumingWs(() => a.base.replace('http', 'ws'), [topic])
    await waitFor(() => sse.live && ws.live, 'subscribers live')
    const before: string[] = []
    for (let i = 0; i < 30; i++) before.push((await post(i % 2 ? a.base : b.base, topic, { data: `before ${i}` })).body.id as string)
    await waitFor(() => sse.received.length === 30 && ws.received.length === 30, 'every event before')

    await redis.kill()
    await waitFor(async () => (await readyz(a.base)).status === 503 && (await readyz(b.base)).status === 503, 'both not ready')
    for (const node of [a, b]) expect(await post(node.base, topic, { data: 'lost' })).toMatchObject({ status: 503, body: { error: { code: 'store_unavailable' } } })
    await redis.start()
    await waitFor(async () => (await readyz(a.base)).status === 200 && (await readyz(b.base)).status === 200, 'both ready again', 10_000)
    // The nodes ended their streams and sockets; the clients came back with their last id: reset.
    await waitFor(() => sse.resets.length === 1 && ws.resets.length === 1 && sse.live && ws.live, 'both clients reset and live again', 10_000)
    expect(ws.closeCodes).toContain(1012)
    expect(sse.endings).toContain('shutdown')

    const after: string[] = []
    for (let i = 0; i < 10; i++) after.push((await post(i % 2 ? a.base : b.base, topic, { data: `after ${i}` })).body.id as string)
    expect(compare(after[0] as string, before.at(-1) as string)).toBeGreaterThan(0)
    await waitFor(() => sse.received.length === 40 && ws.received.length === 40, 'every event after', 10_000)
    await Bun.sleep(100)
    expect(ids(sse.received)).toEqual([...before, ...after])
    expect(ids(ws.received)).toEqual([...before, ...after])
    await Promise.all([sse.stop(), ws.stop()])
  }, 30_000)

  test('Redis down at start: require exits 5 with one line; degraded starts not ready and serves once Redis is up', async () => {
    const redis = new PrivateRedis()
    cleanups.push(() => redis.kill())
    const prefix = uniquePrefix('start')
    cleanups.push(() => deleteKeys(prefix, redis.url))
    const refused = await runCli(HERALD, ['--host', '127.0.0.1', '--port', '0', '--feed-db', ':memory:', '--redis', `redis://:hunter2@127.0.0.1:${freePort()}`, '--redis-timeout', '500ms'])
    expect(refused.code).toBe(5)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatch(/^herald: cannot reach Redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+[^\n]*--redis-start degraded[^\n]*\n$/)
    expect(refused.stderr).not.toContain('hunter2')

    const node = await startCli(HERALD, ['--redis', redis.url, '--redis-prefix', prefix, '--redis-start', 'degraded', '--redis-timeout', '500ms'])
    cleanups.push(() => void node.child.kill('SIGKILL'))
    expect(await readyz(node.base)).toMatchObject({ status: 503, body: { status: 'not_ready', reason: 'redis_unavailable' } })
    expect(await post(node.base, 'x', { data: 'too early' })).toMatchObject({ status: 503, body: { error: { code: 'store_unavailable' } } })
    await redis.start()
    await waitFor(async () => (await readyz(node.base)).status === 200, 'ready once Redis is up', 10_000)
    const sse = new ResumingSse(() => node.base, 'topic=x')
    await waitFor(() => sse.live, 'subscriber live')
    const { status, body } = await post(node.base, 'x', { data: 'now' })
    expect(status).toBe(200)
    await waitFor(() => sse.received.length === 1, 'delivered')
    expect(sse.received[0]?.id).toBe(body.id as string)
    await sse.stop()
  }, 30_000)
})

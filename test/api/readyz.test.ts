/**
 * `GET /readyz`, for load balancers: 200 when the node can serve; 503 with a reason while it is
 * shutting down (`draining`) or, with `redis`, while Redis is unreachable (`redis_unavailable`),
 * when `/healthz` stays 200 (the process is alive). Under a prefix in a host app too.
 */
import { afterEach, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { herald } from '../../src/index'
import { startServer, waitFor } from '../helpers'
import { freePort, PrivateRedis, uniquePrefix } from '../redis/redis'

const cleanups: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function mounted(options: Parameters<typeof herald>[0] = {}) {
  const realtime = herald({ prefix: '/rt', ...options })
  const app = new Elysia().use(realtime).listen({ port: 0, hostname: '127.0.0.1' })
  cleanups.push(() => app.stop(true))
  return { api: realtime.herald, base: `http://127.0.0.1:${app.server?.port}/rt` }
}

const get = async (url: string) => {
  const response = await fetch(url)
  return { status: response.status, body: await response.json() }
}

test('a single process is ready; POST is 405', async () => {
  const server = await startServer()
  cleanups.push(() => server.stop())
  expect(await get(`${server.base}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } })
  const post = await fetch(`${server.base}/readyz`, { method: 'POST' })
  expect(post.status).toBe(405)
  expect(post.headers.get('allow')).toBe('GET, HEAD')
})

test('while Herald drains, /readyz says so (and the host app keeps serving)', async () => {
  const { api, base } = mounted()
  expect((await get(`${base}/readyz`)).status).toBe(200)
  // A subscriber keeps the drain going for a moment; the shutdown is not awaited.
  const closing = api.shutdown(2000)
  expect(await get(`${base}/readyz`)).toEqual({ status: 503, body: { status: 'not_ready', reason: 'draining', message: 'Herald is shutting down' } })
  await closing
})

test('with Redis unreachable: /readyz 503 redis_unavailable, /healthz 200, publishes 503; ready once Redis is up', async () => {
  const redis = new PrivateRedis()
  cleanups.push(() => redis.kill())
  const { api, base } = mounted({ redis: redis.url, redisPrefix: uniquePrefix('readyz'), redisTimeoutMs: 300 })
  await expect(api.ready()).rejects.toThrow()
  const notReady = await get(`${base}/readyz`)
  expect(notReady).toMatchObject({ status: 503, body: { status: 'not_ready', reason: 'redis_unavailable' } })
  expect(notReady.body.message).toContain('Redis')
  expect((await fetch(`${base}/healthz`)).status).toBe(200)
  const refused = await fetch(`${base}/topics/t`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })
  expect(refused.status).toBe(503)
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('store_unavailable')
  await redis.start()
  await waitFor(async () => (await get(`${base}/readyz`)).status === 200, 'ready', 10_000)
  expect((await fetch(`${base}/topics/t`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status).toBe(200)
})

test('an unusable Redis URL or prefix never reaches a connection: the option is refused', () => {
  expect(() => herald({ redis: `http://127.0.0.1:${freePort()}` })).toThrow('redis://')
  expect(() => herald({ redis: `redis://127.0.0.1:${freePort()}`, redisPrefix: 'a:t' })).toThrow('key prefix')
})

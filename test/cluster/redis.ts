/**
 * The Redis the cluster tests use (127.0.0.1:6379, or HERALD_TEST_REDIS): a unique key prefix per
 * test, and every key under it deleted afterwards.
 */
import { RedisClient } from 'bun'

/** The test Redis's URL. */
export const REDIS_URL = process.env.HERALD_TEST_REDIS ?? 'redis://127.0.0.1:6379'

/** True when the test Redis answers PING within a second (checked once, at import). */
export const redisAvailable: boolean = await (async () => {
  const client = new RedisClient(REDIS_URL, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 1000 })
  try {
    await client.connect()
    return (await client.send('PING', [])) === 'PONG'
  } catch {
    return false
  } finally {
    client.close()
  }
})()

/** A prefix no other test (or run) uses: `herald-test-<what>-<random>` (a valid --redis-prefix: no ':'). */
export function uniquePrefix(what: string): string {
  return `herald-test-${what}-${crypto.randomUUID().slice(0, 8)}`
}

/** A plain client for a test's own reads and writes. */
export async function testClient(): Promise<RedisClient> {
  const client = new RedisClient(REDIS_URL, { autoReconnect: false, enableOfflineQueue: false })
  await client.connect()
  return client
}

/** Every key under `prefix:` (SCAN, so it never blocks Redis). */
export async function keysUnder(client: RedisClient, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = (await client.send('SCAN', [cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000'])) as [string, string[]]
    found.push(...keys)
    cursor = next
  } while (cursor !== '0')
  return found
}

/** Deletes every key under `prefix:`. */
export async function cleanUp(prefix: string): Promise<void> {
  const client = await testClient()
  try {
    const keys = await keysUnder(client, prefix)
    for (let i = 0; i < keys.length; i += 500) await client.send('DEL', keys.slice(i, i + 500))
  } finally {
    client.close()
  }
}

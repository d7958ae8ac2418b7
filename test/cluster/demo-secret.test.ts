import { afterEach, describe, expect, test } from 'bun:test'
import { ClusterKeys } from '../../src/cluster/keys'
import { ClusterLink } from '../../src/cluster/link'
import { ClusterMembership } from '../../src/cluster/membership'
import { DEFAULTS } from '../../src/config'
import { serverAuth } from '../../src/demos/demo-tokens'
import { RedisDemoSecret } from '../../src/demos/shared-secret'
import { cleanUp, REDIS_URL, redisAvailable, testClient, uniquePrefix } from './redis'

const CLAIMS = { sub: 'ada', subscribe: ['chat/room/*'] }

describe.skipIf(!redisAvailable)('the demo secret a cluster shares', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  function node(prefix: string) {
    const link = new ClusterLink(REDIS_URL)
    const membership = new ClusterMembership(link, new ClusterKeys(prefix), { ttlMs: 5000, counters: () => ({ connections: 0, sse: 0, websockets: 0, subscribers: 0, selectors: 0, queued: 0, published: 0, slowConsumers: {}, maxConnections: 0 }), version: 'test' })
    const secret = new RedisDemoSecret()
    const auth = serverAuth(DEFAULTS, [], secret)
    secret.attach(membership)
    cleanups.push(async () => {
      await membership.stop()
      link.close()
    })
    return { membership, secret, auth }
  }

  test('a token one node mints verifies on another; a third node started later agrees', async () => {
    const prefix = uniquePrefix('secret')
    cleanups.push(() => cleanUp(prefix))
    const [a, b] = [node(prefix), node(prefix)]
    await a.auth.demo?.ready?.()
    const { token } = a.auth.demo!.sign(CLAIMS, 60_000)
    expect((await b.auth.auth.verify(token)).subject).toBe('ada')
    const c = node(prefix)
    expect((await c.auth.auth.verify(token)).subject).toBe('ada')
    // A process with a secret of its own (no cluster) does not accept it.
    await expect(serverAuth(DEFAULTS).auth.verify(token)).rejects.toMatchObject({ code: 'invalid_token' })
  })

  test('after Redis restarted empty, the next heartbeat puts the secret back, so a node started then agrees', async () => {
    const prefix = uniquePrefix('secret')
    cleanups.push(() => cleanUp(prefix))
    const a = node(prefix)
    await a.auth.demo?.ready?.()
    const { token } = a.auth.demo!.sign(CLAIMS, 60_000)
    await cleanUp(prefix)
    await a.membership.beat()
    const client = await testClient()
    try {
      expect(await client.send('GET', [`${prefix}:demo:secret`])).toBe(a.secret.current as string)
    } finally {
      client.close()
    }
    const later = node(prefix)
    expect((await later.auth.auth.verify(token)).subject).toBe('ada')
  })
})

test('with Redis unreachable, a demo token cannot be minted or checked: 503 store_unavailable, never a token of a secret of its own', async () => {
  const link = new ClusterLink('redis://127.0.0.1:1', { connectTimeoutMs: 500 })
  const membership = new ClusterMembership(link, new ClusterKeys('nowhere'), { ttlMs: 5000, counters: () => ({ connections: 0, sse: 0, websockets: 0, subscribers: 0, selectors: 0, queued: 0, published: 0, slowConsumers: {}, maxConnections: 0 }), version: 'test' })
  const secret = new RedisDemoSecret()
  const { auth, demo } = serverAuth(DEFAULTS, [], secret)
  secret.attach(membership)
  try {
    await expect(demo!.ready!()).rejects.toMatchObject({ code: 'store_unavailable' })
    expect(() => demo!.sign(CLAIMS, 60_000)).toThrow()
    await expect(auth.verify('x.y.z')).rejects.toMatchObject({ code: 'store_unavailable' })
  } finally {
    link.close()
  }
})

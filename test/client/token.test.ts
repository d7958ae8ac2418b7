/**
 * The client's `token` option against a real server with a key: each transport sends it (SSE and
 * publish in the Authorization header, WebSocket in its first message), a WebSocket refreshes it
 * before it expires without reconnecting, an SSE stream cut at expiry resumes with a fresh token,
 * bad tokens are thrown (not retried), and private events reach only their owner.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { signToken } from '../../src/auth/sign'
import { connect, HeraldError, type Transport } from '../../src/client/index'
import { expiry, refreshDelay } from '../../src/client/token'
import { startServer, type TestServer, waitFor } from '../helpers'
import { fetchStats } from '../stats'
import { collect } from './collect'

const SECRET = 'client-token-test-secret-0123456789abcdef'
const FAST = { initialMs: 20, maxMs: 200, jitter: 0 }

let server: TestServer
beforeAll(async () => {
  // No clock tolerance: a token is refused the second its exp passes, so expiry is exact in these tests.
  server = await startServer({ jwtSecret: SECRET, jwtClockToleranceMs: 0, public: ['open/**'], retryMs: 10 })
})
afterAll(() => server.stop())

let unique = 0
const topicName = (what: string) => `users/ada/${what}-${++unique}`

/** A token for `sub`, lifetime `ttlMs` (whole seconds: exp is in seconds, so it lives ttl − 1 s to ttl). */
function token(sub = 'ada', ttlMs = 60_000, claims: { subscribe?: string[]; publish?: string[] } = {}, secret = SECRET): string {
  return signToken({ secret, sub, subscribe: claims.subscribe ?? ['users/{sub}/**'], publish: claims.publish ?? ['users/{sub}/**'], ttlMs })
}

/** A token function that mints a fresh token at each call, counting the calls. */
function minter(sub = 'ada', ttlMs = 60_000, claims: { subscribe?: string[]; publish?: string[] } = {}) {
  const calls = { count: 0 }
  return Object.assign(() => {
    calls.count++
    return token(sub, ttlMs, claims)
  }, { calls })
}

describe('reading exp', () => {
  test('exp is read from the payload without verifying; anything unreadable has none', () => {
    const at = expiry(token('ada', 90_000))
    expect(at).toBeGreaterThan(Date.now() + 88_000)
    expect(at).toBeLessThanOrEqual(Date.now() + 90_000)
    expect(at! % 1000).toBe(0)
    for (const bad of ['', 'a.b.c', 'abc', `x.${btoa('{"exp":"soon"}')}.y`, `x.${btoa('[1]')}.y`, 'x.%%%.y']) expect(expiry(bad)).toBeUndefined()
  })

  test('a token is replaced 30 s before it expires, or a quarter of its remaining life before when that is less', () => {
    const now = 1_000_000
    expect(refreshDelay(now + 15 * 60_000, now)).toBe(15 * 60_000 - 30_000)
    expect(refreshDelay(now + 120_000, now)).toBe(90_000)
    expect(refreshDelay(now + 119_999, now)).toBe(119_999 - 29_999.75)
    expect(refreshDelay(now + 4_000, now)).toBe(3_000)
    expect(refreshDelay(now, now)).toBe(0)
    expect(refreshDelay(now - 5_000, now)).toBe(0)
  })
})

describe.each(['ws', 'sse'] as Transport[])('over %s', (transport) => {
  test('the token reaches the server: a topic only it covers is subscribed, and publish sends it too', async () => {
    const tokens = minter()
    const herald = connect({ url: server.base, transport, backoff: FAST, token: tokens })
    const topic = topicName('token')
    const sub = collect(herald, topic)
    await sub.waitForOpen()
    const sent = await herald.publish(topic, { n: 1 })
    const [event] = await sub.waitForEvents(1)
    expect(event?.id).toBe(sent.id)
    // Without the token both are refused: the topic is not public.
    const anonymous = connect({ url: server.base, transport, backoff: FAST })
    const refused = collect(anonymous, topic)
    await refused.done
    expect((refused.error as HeraldError).code).toBe('missing_token')
    expect(((await anonymous.publish(topic, 1).catch((error: unknown) => error)) as HeraldError).code).toBe('missing_token')
    sub.stop()
    await sub.done
  })

  test('a bad token is thrown, not retried: the token function is asked once', async () => {
    for (const bad of [token('ada', 60_000, {}, 'a-secret-this-server-does-not-know-0123456789'), 'not-a-jwt']) {
      let calls = 0
      const herald = connect({ url: server.base, transport, backoff: FAST, token: () => (calls++, bad) })
      const sub = collect(herald, topicName('bad'))
      await sub.done
      expect(sub.error).toBeInstanceOf(HeraldError)
      expect((sub.error as HeraldError).code).toBe('invalid_token')
      expect((sub.error as HeraldError).status).toBe(transport === 'sse' ? 401 : 0)
      expect(calls).toBe(1)
      expect(sub.opens).toBe(0)
    }
  })

  test('an expired token at connect: the token function is asked once more, then 401 token_expired is thrown', async () => {
    let calls = 0
    const expired = signToken({ secret: SECRET, sub: 'ada', subscribe: ['users/{sub}/**'], ttlMs: 1000, now: Date.now() - 10_000 })
    const herald = connect({ url: server.base, transport, backoff: FAST, token: () => (calls++, expired) })
    const sub = collect(herald, topicName('expired'))
    await sub.done
    expect((sub.error as HeraldError).code).toBe('token_expired')
    expect(calls).toBe(2)
    // And when the second one is fresh, the subscription goes on.
    let asked = 0
    const recovering = connect({ url: server.base, transport, backoff: FAST, token: () => (asked++ === 0 ? expired : token()) })
    const live = collect(recovering, topicName('recovering'))
    await live.waitForOpen()
    expect(asked).toBe(2)
    live.stop()
    await live.done
  })

  test('a HeraldError thrown by the token function ends the subscription with it; anything else is retried', async () => {
    const refusal = collect(connect({ url: server.base, transport, backoff: FAST, token: () => Promise.reject(new HeraldError('name_taken', 'someone else holds it', 409)) }), topicName('refused'))
    await refusal.done
    expect((refusal.error as HeraldError).code).toBe('name_taken')
    let calls = 0
    const flaky = collect(
      connect({
        url: server.base,
        transport,
        backoff: FAST,
        token: () => {
          if (++calls < 3) throw new TypeError('fetch failed')
          return token()
        },
      }),
      topicName('flaky'),
    )
    await flaky.waitForOpen()
    expect(calls).toBe(3)
    expect(flaky.retries.map((retry) => retry.error.code)).toEqual(['network_error', 'network_error'])
    flaky.stop()
    await flaky.done
  })

  test('private events reach only their owner, never a reader of the same topics through a public rule', async () => {
    const admin = connect({ url: server.base, transport, token: token('admin', 60_000, { publish: ['open/**'] }) })
    const readers = Object.fromEntries(
      ['ada', 'bob'].map((name) => [name, collect(connect({ url: server.base, transport, backoff: FAST, token: token(name, 60_000, { subscribe: [`open/${name}/**`] }) }), `open/${name}/inbox`)]),
    )
    // Mallory may read all of open/** (public), but owns none of it.
    const mallory = collect(connect({ url: server.base, transport, backoff: FAST, token: token('mallory', 60_000, { subscribe: ['open/mallory/**'] }) }), 'open/**')
    for (const reader of [...Object.values(readers), mallory]) await reader.waitForOpen()
    await admin.publish('open/ada/inbox', 'for ada', { private: true })
    await admin.publish('open/bob/inbox', 'for bob', { private: true })
    await admin.publish('open/ada/inbox', 'for everyone')
    await admin.publish('open/bob/inbox', 'for everyone too')
    expect((await readers.ada!.waitForEvents(2)).map((event) => event.data)).toEqual(['for ada', 'for everyone'])
    expect((await readers.bob!.waitForEvents(2)).map((event) => event.data)).toEqual(['for bob', 'for everyone too'])
    expect((await mallory.waitForEvents(2)).map((event) => event.data)).toEqual(['for everyone', 'for everyone too'])
    for (const reader of [...Object.values(readers), mallory]) {
      reader.stop()
      await reader.done
    }
  })
})

test('WebSocket: the token is refreshed before it expires, on the same socket: no reconnect, no gap, no duplicate', async () => {
  // 2-second tokens (exp is whole seconds: each lives 1 to 2 s), for about four lifetimes.
  const tokens = minter('ada', 2000)
  const herald = connect({ url: server.base, transport: 'ws', backoff: FAST, token: tokens })
  const topic = topicName('refresh')
  const sub = collect(herald, topic)
  await sub.waitForOpen()
  const publisher = connect({ url: server.base, token: token('ada', 60_000) })
  const sent: string[] = []
  const until = Date.now() + 5000
  while (Date.now() < until) {
    sent.push((await publisher.publish(topic, sent.length)).id)
    await Bun.sleep(20)
  }
  const events = await sub.waitForEvents(sent.length)
  expect(events.map((event) => event.id)).toEqual(sent)
  // Still the first connection: the server would have closed it (4401) at the first token's expiry.
  expect(sub.opens).toBe(1)
  expect(sub.retries).toEqual([])
  expect(tokens.calls.count).toBeGreaterThanOrEqual(4)
  expect((await fetchStats(server.base)).websockets).toBe(1)
  sub.stop()
  await sub.done
})

test('SSE: the stream ends at the token\'s expiry and resumes at once with a fresh one, from its last event: every event once', async () => {
  const tokens = minter('ada', 2000)
  const herald = connect({ url: server.base, transport: 'sse', backoff: { ...FAST, initialMs: 5000, maxMs: 5000 }, token: tokens })
  const topic = topicName('sse-expiry')
  const sub = collect(herald, topic)
  await sub.waitForOpen()
  const publisher = connect({ url: server.base, token: token('ada', 60_000) })
  const sent: string[] = []
  const until = Date.now() + 5000
  while (Date.now() < until) {
    sent.push((await publisher.publish(topic, sent.length)).id)
    await Bun.sleep(20)
  }
  const events = await sub.waitForEvents(sent.length)
  expect(events.map((event) => event.id)).toEqual(sent)
  // Reconnected at every expiry, at once (the backoff here is 5 s: none of it was waited).
  expect(sub.opens).toBeGreaterThanOrEqual(3)
  expect(sub.retries).toEqual([])
  expect(sub.items.some((item) => item.type === 'reset')).toBe(false)
  sub.stop()
  await sub.done
})

test('publish: a 401 token_expired is sent once more with a fresh token (nothing was published the first time)', async () => {
  const expired = signToken({ secret: SECRET, sub: 'ada', publish: ['users/{sub}/**'], ttlMs: 1000, now: Date.now() - 10_000 })
  let calls = 0
  const herald = connect({ url: server.base, token: () => (calls++ === 0 ? expired : token()) })
  const topic = topicName('publish-renew')
  const published = await herald.publish(topic, 'once')
  expect(calls).toBe(2)
  expect(published.topic).toBe(topic)
  // Always expired: thrown after the second try.
  let tries = 0
  const stale = connect({ url: server.base, token: () => (tries++, expired) })
  expect(((await stale.publish(topic, 'never').catch((error: unknown) => error)) as HeraldError).code).toBe('token_expired')
  expect(tries).toBe(2)
  // A token the server refuses for any other reason is not retried.
  let other = 0
  const forbidden = connect({ url: server.base, token: () => (other++, token('bob')) })
  expect(((await forbidden.publish(topic, 'never').catch((error: unknown) => error)) as HeraldError).code).toBe('forbidden_topic')
  expect(other).toBe(1)
})

test('no reconnect storm: every subscription ended, the server holds nothing', async () => {
  await waitFor(async () => {
    const stats = await fetchStats(server.base)
    return stats.websockets === 0 && stats.subscribers === 0
  }, 'the server to hold no subscriber')
})

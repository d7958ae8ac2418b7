/**
 * WebSocket authentication with a key configured (a fake authenticator): a token at the upgrade
 * (each carrier) or in a first `auth` message within the deadline, refreshes (same `sub`, held
 * subscriptions still covered), and the close at expiry, with a resume that loses nothing.
 * Short-lived tokens and a short deadline stand in for a clock.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { AUTH_TIMEOUT_CLOSE, TOKEN_EXPIRED_CLOSE } from '../../src/transports/ws-auth'
import { waitFor, WsClient, type WsMessage } from '../helpers'
import { type CustomServer, startCustomServer } from '../transports/custom-app'
import { fakeAuthenticator, fakeToken } from './fake-auth'

/** The deadline for a socket without a token, in this file. */
const DEADLINE_MS = 300

const ada = (exp?: number, subscribe = ['users/ada/**']) => fakeToken({ sub: 'ada', publish: ['users/ada/**'], subscribe, ...(exp === undefined ? {} : { exp }) })
const ROOT = fakeToken({ sub: 'root', publish: ['**'] })

let server: CustomServer
beforeAll(() => {
  server = startCustomServer({ auth: fakeAuthenticator({ public: ['news/**'] }), authTimeoutMs: DEADLINE_MS })
})
afterAll(() => server.stop())

async function publish(topic: string, data: string, isPrivate = false): Promise<string> {
  const response = await fetch(`${server.base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ROOT}` }, body: JSON.stringify({ data, private: isPrivate }) })
  expect(response.status).toBe(200)
  return ((await response.json()) as { id: string }).id
}

const events = (ws: WsClient) => ws.ofType('event')
const closed = (ws: WsClient, what: string, ms = 5000) => waitFor(() => ws.closeCode !== undefined, what, ms)

describe('a token at the upgrade', () => {
  test.each([
    ['the Authorization header', '', { authorization: `Bearer ${ada()}` }],
    ['the herald_token cookie', '', { cookie: `herald_token=${encodeURIComponent(ada())}` }],
    ['?access_token=', `?access_token=${encodeURIComponent(ada())}`, undefined],
  ] as const)('%s', async (_carrier, query, headers) => {
    const ws = await WsClient.open(`${server.wsBase}/ws${query}`, headers)
    expect(await ws.request({ type: 'subscribe', topics: ['users/ada/**'] })).toMatchObject({ type: 'subscribed' })
    expect(await ws.request({ type: 'publish', topic: 'users/ada/x', data: 'mine', private: true })).toMatchObject({ type: 'published' })
    await ws.waitFor((message) => message.type === 'event' && message.data === 'mine', 'its own private event')
    ws.close()
  })

  const upgrade = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${server.base}/ws${query}`, { headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', ...headers } })

  test.each([
    ['a bad token', '', { authorization: 'Bearer nope' }, 401, 'invalid_token', 'Bearer error="invalid_token"'],
    ['an expired token', `?access_token=${encodeURIComponent(ada(Date.now() - 1))}`, {}, 401, 'token_expired', 'Bearer error="invalid_token"'],
    ['no token and a ?topic= that is not public', '?topic=users/ada/x', {}, 401, 'missing_token', 'Bearer'],
    ['a token that does not cover a ?topic=', '?topic=users/bob/x', { authorization: `Bearer ${ada()}` }, 403, 'forbidden_topic', null],
    ['a cookie token from a foreign page', '', { cookie: `herald_token=${encodeURIComponent(ada())}`, origin: 'https://evil.example' }, 403, 'forbidden_origin', null],
    ['a header token from a foreign page (every upgrade is checked)', '', { authorization: `Bearer ${ada()}`, origin: 'https://evil.example' }, 403, 'forbidden_origin', null],
  ] as const)('refused before the upgrade: %s', async (_what, query, headers, status, code, challenge) => {
    const response = await upgrade(query, headers)
    expect(response.status).toBe(status)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code)
    expect(response.headers.get('www-authenticate')).toBe(challenge)
  })
})

describe('the auth message', () => {
  test('before it, a socket is anonymous: public topics only, no publish; after it, its token decides', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'subscribe', topics: ['news/**'] })).toMatchObject({ type: 'subscribed' })
    expect(await ws.request({ type: 'subscribe', topics: ['users/ada/**'] })).toMatchObject({ type: 'error', code: 'missing_token' })
    expect(await ws.request({ type: 'publish', topic: 'users/ada/x', data: 1 })).toMatchObject({ type: 'error', code: 'missing_token' })
    const authenticated = await ws.request({ type: 'auth', token: ada() })
    expect(authenticated).toMatchObject({ type: 'authenticated', subject: 'ada', expiresAt: null })
    expect(await ws.request({ type: 'subscribe', topics: ['users/ada/**'] })).toMatchObject({ type: 'subscribed' })
    expect(await ws.request({ type: 'publish', topic: 'users/ada/x', data: 'now', private: true })).toMatchObject({ type: 'published' })
    await ws.waitFor((message) => message.type === 'event' && message.data === 'now', 'the private event')
    ws.close()
  })

  test('messages sent right behind it are handled with the principal it brings', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    ws.send({ type: 'auth', token: ada(), ref: 'a' })
    ws.send({ type: 'subscribe', topics: ['users/ada/**'], ref: 's' })
    ws.send({ type: 'publish', topic: 'users/ada/y', data: 'right behind', private: true, ref: 'p' })
    await ws.waitFor((message) => message.type === 'event' && message.data === 'right behind', 'the event')
    expect(ws.messages.filter((message) => message.ref !== undefined).map((message) => `${message.ref} ${message.type}`)).toEqual(['a authenticated', 's subscribed', 'p published'])
    ws.close()
  })

  test.each([
    ['a bad token', 'nope', 'invalid_token'],
    ['an expired token', ada(Date.now() - 1), 'token_expired'],
    ['no token string', 42, 'invalid_token'],
  ] as const)('refused: %s (the socket stays anonymous and usable)', async (_what, token, code) => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'auth', token })).toMatchObject({ type: 'error', code })
    expect(await ws.request({ type: 'subscribe', topics: ['users/ada/**'] })).toMatchObject({ type: 'error', code: 'missing_token' })
    expect(await ws.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    ws.close()
  })

  test(`a socket without a token that sends no auth within the deadline (${DEADLINE_MS} ms) gets missing_token and close ${AUTH_TIMEOUT_CLOSE}`, async () => {
    const opened = Date.now()
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    await closed(ws, 'the deadline close')
    expect(Date.now() - opened).toBeGreaterThanOrEqual(DEADLINE_MS - 20)
    expect(ws.closeCode).toBe(AUTH_TIMEOUT_CLOSE)
    expect(ws.ofType('error')).toMatchObject([{ code: 'missing_token' }])
    await waitFor(() => server.hub.stats().connections === 0, 'the connection to be released')
  })

  test('the deadline spares a socket that authenticated in time, and an anonymous reader of public topics', async () => {
    const authed = await WsClient.open(`${server.wsBase}/ws`)
    expect(await authed.request({ type: 'auth', token: ada() })).toMatchObject({ type: 'authenticated' })
    const reader = await WsClient.open(`${server.wsBase}/ws?topic=news/**`)
    await reader.waitFor((message) => message.type === 'subscribed', 'subscribed')
    await Bun.sleep(DEADLINE_MS * 2)
    expect([authed.closeCode, reader.closeCode]).toEqual([undefined, undefined])
    await publish('news/a', 'still here')
    await reader.waitFor((message) => message.type === 'event', 'an event after the deadline')
    authed.close()
    reader.close()
  })
})

describe('expiry and refresh', () => {
  test(`without a refresh: an error token_expired, then close ${TOKEN_EXPIRED_CLOSE}; a reconnect with a fresh token and lastEventId loses nothing`, async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws?access_token=${encodeURIComponent(ada(Date.now() + 500))}&topic=users/ada/**&topic=users/ada/a`)
    await ws.waitFor((message) => message.type === 'subscribed', 'subscribed')
    const published: string[] = []
    let publishing = true
    const publisher = (async () => {
      for (let n = 0; publishing; n++) {
        published.push(await publish(n % 2 ? 'users/ada/a' : 'users/ada/b/c', `e${n}`, n % 3 === 0))
        await Bun.sleep(5)
      }
    })()
    await closed(ws, 'the close at expiry')
    expect(ws.closeCode).toBe(TOKEN_EXPIRED_CLOSE)
    expect(ws.messages.at(-1)).toMatchObject({ type: 'error', code: 'token_expired' })
    const seen = events(ws).map((message) => message.id as string)
    expect(seen.length).toBeGreaterThan(5)
    const again = await WsClient.open(`${server.wsBase}/ws?access_token=${encodeURIComponent(ada(Date.now() + 60_000))}&topic=users/ada/**&topic=users/ada/a&lastEventId=${seen.at(-1)}`)
    await Bun.sleep(100)
    publishing = false
    await publisher
    await again.waitFor((message) => message.type === 'event' && message.id === published.at(-1), 'the last event')
    expect([...seen, ...events(again).map((message) => message.id as string)]).toEqual(published)
    again.close()
  })

  test('a refresh with the same sub before expiry keeps the socket open past the old expiry', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws?access_token=${encodeURIComponent(ada(Date.now() + 400))}&topic=users/ada/**`)
    await ws.waitFor((message) => message.type === 'subscribed', 'subscribed')
    const later = Date.now() + 60_000
    expect(await ws.request({ type: 'auth', token: ada(later) })).toMatchObject({ type: 'authenticated', subject: 'ada', expiresAt: later })
    await Bun.sleep(700)
    expect(ws.closeCode).toBeUndefined()
    await publish('users/ada/z', 'after the old expiry', true)
    await ws.waitFor((message) => message.type === 'event' && message.data === 'after the old expiry', 'an event')
    ws.close()
  })

  test('a refresh for another sub is refused (invalid_token); the socket keeps its principal and still expires', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws?access_token=${encodeURIComponent(ada(Date.now() + 600))}`)
    const bob = fakeToken({ sub: 'bob', subscribe: ['**'], publish: ['**'] })
    const refused = (await ws.request({ type: 'auth', token: bob })) as WsMessage & { message: string }
    expect(refused).toMatchObject({ type: 'error', code: 'invalid_token' })
    expect(refused.message).toContain('same "sub"')
    expect(await ws.request({ type: 'publish', topic: 'users/bob/x', data: 1 })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
    await closed(ws, 'the close at the first token expiry')
    expect(ws.closeCode).toBe(TOKEN_EXPIRED_CLOSE)
  })

  test('a refresh whose token no longer covers a held subscription is refused (forbidden_topic); after unsubscribing it is accepted', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws?access_token=${encodeURIComponent(ada())}&topic=users/ada/inbox&topic=news/a`)
    await ws.waitFor((message) => message.type === 'subscribed', 'subscribed')
    const narrower = ada(undefined, ['users/ada/notes/**'])
    expect(await ws.request({ type: 'auth', token: narrower })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
    // Still the old principal: its private events still arrive.
    await publish('users/ada/inbox', 'still mine', true)
    await ws.waitFor((message) => message.type === 'event' && message.data === 'still mine', 'the private event')
    expect(await ws.request({ type: 'unsubscribe', topics: ['users/ada/inbox'] })).toMatchObject({ type: 'unsubscribed' })
    // news/a is public: any principal may hold it.
    expect(await ws.request({ type: 'auth', token: narrower })).toMatchObject({ type: 'authenticated' })
    ws.close()
  })

  test('a refresh that narrows what the socket may see applies to the next private event on its native topics and patterns', async () => {
    const wide = fakeToken({ sub: 'ada', subscribe: ['users/ada/**', 'news/**'] })
    const ws = await WsClient.open(`${server.wsBase}/ws?access_token=${encodeURIComponent(wide)}&topic=news/a&topic=news/*`)
    await ws.waitFor((message) => message.type === 'subscribed', 'subscribed')
    await publish('news/a', 'private before', true)
    await ws.waitFor((message) => message.type === 'event' && message.data === 'private before', 'the private event')
    // news/** stays subscribable (public) but is no longer the token's: private events there stop.
    expect(await ws.request({ type: 'auth', token: fakeToken({ sub: 'ada', subscribe: ['users/ada/**'] }) })).toMatchObject({ type: 'authenticated' })
    await publish('news/a', 'private after', true)
    await publish('news/b', 'private after, pattern', true)
    await publish('news/a', 'public after')
    await ws.waitFor((message) => message.type === 'event' && message.data === 'public after', 'the public event')
    expect(events(ws).map((message) => message.data)).toEqual(['private before', 'public after'])
    ws.close()
  })

  test('with no key configured an auth message is refused (invalid_message) and changes nothing', async () => {
    const open = startCustomServer({})
    try {
      const ws = await WsClient.open(`${open.wsBase}/ws`)
      expect(await ws.request({ type: 'auth', token: ada() })).toMatchObject({ type: 'error', code: 'invalid_message' })
      expect(await ws.request({ type: 'publish', topic: 'a', data: 1 })).toMatchObject({ type: 'published' })
      ws.close()
    } finally {
      await open.stop()
    }
  })
})

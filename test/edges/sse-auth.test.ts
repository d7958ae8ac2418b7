/**
 * SSE with a key configured (a fake authenticator): each carrier, anonymous access to public
 * selectors only, every refusal with its status and challenge, and a stream that ends at its
 * token's expiry with `token_expired`, after which a reconnect with a fresh token and the
 * Last-Event-ID gets every event once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SseClient, waitFor } from '../helpers'
import { type CustomServer, startCustomServer } from '../transports/custom-app'
import { fakeAuthenticator, fakeToken } from './fake-auth'

const ADA = fakeToken({ sub: 'ada', subscribe: ['users/ada/**'] })
const ROOT = fakeToken({ sub: 'root', publish: ['**'] })

let server: CustomServer
beforeAll(() => {
  server = startCustomServer({ auth: fakeAuthenticator({ public: ['news/**'] }) })
})
afterAll(() => server.stop())

async function publish(topic: string, data: string, isPrivate = false): Promise<string> {
  const response = await fetch(`${server.base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ROOT}` }, body: JSON.stringify({ data, private: isPrivate }) })
  expect(response.status).toBe(200)
  return ((await response.json()) as { id: string }).id
}

describe('carriers', () => {
  test.each([
    ['the Authorization header', '', { authorization: `Bearer ${ADA}` }],
    ['the herald_token cookie', '', { cookie: `herald_token=${encodeURIComponent(ADA)}` }],
    ['?access_token=', `&access_token=${encodeURIComponent(ADA)}`, {}],
  ] as const)('%s', async (_carrier, query, headers) => {
    const sse = await SseClient.open(`${server.base}/events?topic=users/ada/**${query}`, headers)
    expect(sse.status).toBe(200)
    await publish('users/ada/inbox', 'mine', true)
    await sse.waitForMessages(1)
    expect(sse.messages.map((event) => event.data)).toEqual(['mine'])
    sse.close()
  })

  test('a cookie token from a foreign page is refused (403 forbidden_origin); a query token from one is not', async () => {
    const cookie = await SseClient.open(`${server.base}/events?topic=users/ada/**`, { cookie: `herald_token=${encodeURIComponent(ADA)}`, origin: 'https://evil.example' })
    expect(cookie.status).toBe(403)
    expect(JSON.parse(cookie.raw)).toMatchObject({ error: { code: 'forbidden_origin' } })
    const query = await SseClient.open(`${server.base}/events?topic=users/ada/**&access_token=${encodeURIComponent(ADA)}`, { origin: 'https://evil.example' })
    expect(query.status).toBe(200)
    query.close()
  })
})

describe('refusals', () => {
  test.each([
    ['no token, a topic that is not public', 'topic=users/ada/inbox', {}, 401, 'missing_token', 'Bearer'],
    ['no token, a public topic and one that is not', 'topic=news/a&topic=users/ada/inbox', {}, 401, 'missing_token', 'Bearer'],
    ['no token, a wildcard wider than the public selectors', 'topic=**', {}, 401, 'missing_token', 'Bearer'],
    ['a bad token, even on a public topic', 'topic=news/a', { authorization: 'Bearer nope' }, 401, 'invalid_token', 'Bearer error="invalid_token"'],
    ['an expired token', 'topic=users/ada/inbox', { authorization: `Bearer ${fakeToken({ sub: 'ada', subscribe: ['**'], exp: Date.now() - 1 })}` }, 401, 'token_expired', 'Bearer error="invalid_token"'],
    ['a token that does not cover the topic', 'topic=users/bob/inbox', { authorization: `Bearer ${ADA}` }, 403, 'forbidden_topic', null],
  ] as const)('%s', async (_what, query, headers, status, code, challenge) => {
    const sse = await SseClient.open(`${server.base}/events?${query}`, headers)
    expect(sse.status).toBe(status)
    expect(JSON.parse(sse.raw)).toMatchObject({ error: { code } })
    expect(sse.headers.get('www-authenticate')).toBe(challenge)
    expect(server.hub.stats().subscriptions).toBe(0)
  })

  test('anonymous on public selectors: ordinary events, never a private one', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=news/**`)
    expect(sse.status).toBe(200)
    await publish('news/a', 'secret', true)
    await publish('news/a', 'public')
    await sse.waitForMessages(1)
    await Bun.sleep(50)
    expect(sse.messages.map((event) => event.data)).toEqual(['public'])
    sse.close()
  })
})

describe('expiry', () => {
  test('the stream ends at the token expiry with token_expired (no id); a reconnect with a fresh token and the Last-Event-ID gets every event once', async () => {
    const soon = fakeToken({ sub: 'ada', subscribe: ['users/ada/**'], exp: Date.now() + 700 })
    const first = await SseClient.open(`${server.base}/events?topic=users/ada/**`, { authorization: `Bearer ${soon}` })
    expect(first.status).toBe(200)
    const published: string[] = []
    let publishing = true
    // Publishes all along: before, across and after the expiry and the reconnect.
    const publisher = (async () => {
      for (let n = 0; publishing; n++) {
        published.push(await publish(`users/ada/${n % 3}`, `e${n}`, n % 2 === 0))
        await Bun.sleep(5)
      }
    })()
    await waitFor(() => first.ended, 'the stream to end at the expiry', 5000)
    const closing = first.events.at(-1)
    expect(closing).toEqual({ event: 'token_expired', data: '{"reason":"token_expired"}', retry: 1000 })
    expect(first.raw.endsWith('retry: 1000\nevent: token_expired\ndata: {"reason":"token_expired"}\n\n')).toBe(true)
    const seen = first.messages.filter((event) => event.id !== undefined)
    expect(seen.length).toBeGreaterThan(5)
    // What a browser does: reconnect with the last id it saw, and the page's fresh token.
    const fresh = fakeToken({ sub: 'ada', subscribe: ['users/ada/**'], exp: Date.now() + 60_000 })
    const second = await SseClient.open(`${server.base}/events?topic=users/ada/**`, { authorization: `Bearer ${fresh}`, 'last-event-id': seen.at(-1)?.id as string })
    expect(second.status).toBe(200)
    await Bun.sleep(100)
    publishing = false
    await publisher
    await waitFor(() => second.messages.at(-1)?.id === published.at(-1), 'the last event on the second stream')
    const ids = [...seen, ...second.messages.filter((event) => event.id !== undefined && event.event === 'message')].map((event) => event.id)
    expect(ids).toEqual(published)
    second.close()
  })

  test('a token without exp does not end the stream', async () => {
    const forever = await SseClient.open(`${server.base}/events?topic=users/ada/**`, { authorization: `Bearer ${ADA}` })
    expect(forever.status).toBe(200)
    await Bun.sleep(50)
    expect(forever.ended).toBe(false)
    forever.close()
  })
})

/**
 * HTTP publish with a key configured (a fake authenticator): every refusal has its status, code and
 * exact WWW-Authenticate challenge, publishes nothing, and is decided before the body is read.
 * Private events and server-owned topics over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SseClient, waitFor } from '../helpers'
import { RawClient } from '../raw'
import { type CustomServer, startCustomServer } from '../transports/custom-app'
import { type FakeAuthenticator, fakeAuthenticator, fakeToken } from './fake-auth'

const ADA = fakeToken({ sub: 'ada', publish: ['users/ada/**', 'news/**'], subscribe: ['users/ada/**'] })
const ROOT = fakeToken({ sub: 'root', publish: ['**'], subscribe: ['**'] })

let server: CustomServer
let auth: FakeAuthenticator
beforeAll(() => {
  auth = fakeAuthenticator({ public: ['news/**'] })
  server = startCustomServer({ auth, serverTopics: ['system/**'], allowedOrigins: ['https://app.example'] })
})
afterAll(() => server.stop())

interface Answer {
  status: number
  challenge: string | null
  code: string | undefined
  body: Record<string, unknown>
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): Promise<Answer> {
  const response = await fetch(`${server.base}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const json = (await response.json()) as Record<string, unknown> & { error?: { code: string } }
  return { status: response.status, challenge: response.headers.get('www-authenticate'), code: json.error?.code, body: json }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('refusals: 401 vs 403, each with its challenge, nothing published', () => {
  test.each([
    ['no token', {}, 401, 'missing_token', 'Bearer'],
    ['a malformed token', bearer('not-a-token'), 401, 'invalid_token', 'Bearer error="invalid_token"'],
    ['an expired token', bearer(fakeToken({ sub: 'ada', publish: ['**'], exp: Date.now() - 1000 })), 401, 'token_expired', 'Bearer error="invalid_token"'],
    ['a token that does not cover the topic', bearer(ADA), 403, 'forbidden_topic', null],
    ['a token covering everything, on a server-owned topic', bearer(ROOT), 403, 'forbidden_topic', null],
    // "Bearer" with no token is a malformed credential (auth/carriers.ts), not an absent one.
    ['an empty Bearer', { authorization: 'Bearer ' }, 401, 'invalid_token', 'Bearer error="invalid_token"'],
  ] as const)('%s', async (_what, headers, status, code, challenge) => {
    const before = server.hub.stats().published
    const topic = code === 'forbidden_topic' && headers !== undefined && 'authorization' in headers && headers.authorization === `Bearer ${ROOT}` ? 'system/clock' : 'users/bob/inbox'
    for (const answer of [await post(`/topics/${topic}`, { data: 'x' }, headers), await post('/publish', { topic, data: 'x' }, headers)]) {
      expect(answer.status).toBe(status)
      expect(answer.code).toBe(code)
      expect(answer.challenge).toBe(challenge)
    }
    expect(server.hub.stats().published).toBe(before)
  })

  test('a batch is all-or-nothing: one topic the token does not cover refuses the batch', async () => {
    const watcher = await SseClient.open(`${server.base}/events?topic=news/**`)
    const refused = await post('/publish', [{ topic: 'news/a', data: 1 }, { topic: 'users/ada/x', data: 2 }, { topic: 'users/bob/x', data: 3 }], bearer(ADA))
    expect(refused).toMatchObject({ status: 403, code: 'forbidden_topic' })
    expect((refused.body.error as { message: string }).message).toContain('users/bob/x')
    // A topic list too.
    expect(await post('/publish', { topic: ['news/a', 'system/x'], data: 1 }, bearer(ROOT))).toMatchObject({ status: 403, code: 'forbidden_topic' })
    const accepted = await post('/publish', [{ topic: 'news/a', data: 'only this' }, { topic: 'users/ada/x', data: 2 }], bearer(ADA))
    expect(accepted.status).toBe(200)
    await watcher.waitForMessages(1)
    expect(watcher.messages.map((event) => event.data)).toEqual(['only this'])
    watcher.close()
  })

  test('the token is looked up before the body is read: a client without one gets 401 without sending a byte of it', async () => {
    const verified = auth.verified
    const raw = await RawClient.connect(server.base)
    // Headers only: a body of 60 KB is announced and never sent.
    raw.write(`POST /topics/news/a HTTP/1.1\r\nhost: ${new URL(server.base).host}\r\ncontent-type: application/json\r\ncontent-length: 60000\r\n\r\n`)
    await raw.waitFor((client) => client.response()?.status !== undefined, 'the answer before the body', 3000)
    expect(raw.response()?.status).toBe(401)
    expect(raw.response()?.headers['www-authenticate']).toBe('Bearer')
    raw.destroy()
    // And a bad token is refused the same way, verified once.
    const bad = await RawClient.connect(server.base)
    bad.write(`POST /publish HTTP/1.1\r\nhost: ${new URL(server.base).host}\r\nauthorization: Bearer nope\r\ncontent-type: application/json\r\ncontent-length: 60000\r\n\r\n`)
    await bad.waitFor((client) => client.response()?.status !== undefined, 'the answer before the body', 3000)
    expect(bad.response()?.status).toBe(401)
    expect(auth.verified).toBe(verified + 1)
    bad.destroy()
  })
})

describe('carriers', () => {
  test('the Authorization header, any case of "Bearer"', async () => {
    expect((await post('/topics/news/carrier', { data: 1 }, { authorization: `bearer ${ADA}` })).status).toBe(200)
    expect((await post('/topics/news/carrier', { data: 1 }, { authorization: `BEARER ${ADA}` })).status).toBe(200)
  })

  test('the herald_token cookie: same origin or no Origin passes; a foreign page is refused with 403 forbidden_origin', async () => {
    const cookie = { cookie: `other=1; herald_token=${encodeURIComponent(ADA)}` }
    expect((await post('/topics/news/cookie', { data: 1 }, cookie)).status).toBe(200)
    expect((await post('/topics/news/cookie', { data: 1 }, { ...cookie, origin: server.base })).status).toBe(200)
    expect((await post('/topics/news/cookie', { data: 1 }, { ...cookie, origin: 'https://app.example' })).status).toBe(200)
    const foreign = await post('/topics/news/cookie', { data: 1 }, { ...cookie, origin: 'https://evil.example' })
    expect(foreign).toMatchObject({ status: 403, code: 'forbidden_origin' })
    // A form post from a foreign page (no preflight) is the attack: refused the same way.
    expect(await post('/topics/news/cookie', 'data=x', { ...cookie, origin: 'https://evil.example' }, 'application/x-www-form-urlencoded')).toMatchObject({ status: 403, code: 'forbidden_origin' })
    // A `null` origin (sandboxed frames, file: pages) is not this server's.
    expect(await post('/topics/news/cookie', { data: 1 }, { ...cookie, origin: 'null' })).toMatchObject({ status: 403, code: 'forbidden_origin' })
  })

  test('a header token is not subject to the origin rule (a foreign page cannot read it)', async () => {
    expect((await post('/topics/news/header', { data: 1 }, { ...bearer(ADA), origin: 'https://evil.example' })).status).toBe(200)
  })

  test('the header wins over the cookie', async () => {
    const answer = await post('/topics/users/bob/x', { data: 1 }, { ...bearer(ADA), cookie: `herald_token=${encodeURIComponent(ROOT)}` })
    expect(answer).toMatchObject({ status: 403, code: 'forbidden_topic' })
  })
})

describe('private events over HTTP', () => {
  test('JSON, batch items, topic lists and forms may set private; only subscribers entitled to the topic get them', async () => {
    const ada = await SseClient.open(`${server.base}/events?topic=users/ada/**`, bearer(ADA))
    // Anonymous on a public wildcard: never a private event.
    const anonymous = await SseClient.open(`${server.base}/events?topic=news/**`)
    expect([ada.status, anonymous.status]).toEqual([200, 200])
    expect((await post('/topics/users/ada/inbox', { data: 'json', private: true }, bearer(ROOT))).status).toBe(200)
    expect((await post('/topics/news/p', { data: 'json', private: true }, bearer(ROOT))).status).toBe(200)
    expect((await post('/publish', [{ topic: ['users/ada/a', 'news/p'], data: 'list', private: true }, { topic: 'news/p', data: 'public' }], bearer(ROOT))).status).toBe(200)
    expect((await post('/topics/users/ada/form', 'data=form&private=on', bearer(ROOT), 'application/x-www-form-urlencoded')).status).toBe(200)
    expect((await post('/topics/news/form', 'data=form%20public&private=false', bearer(ROOT), 'application/x-www-form-urlencoded')).status).toBe(200)
    await ada.waitForMessages(3)
    await anonymous.waitForMessages(2)
    expect(ada.messages.map((event) => event.data)).toEqual(['json', 'list', 'form'])
    expect(anonymous.messages.map((event) => event.data)).toEqual(['public', 'form public'])
    ada.close()
    anonymous.close()
  })

  test('a private flag that is not true or false is refused (400 invalid_message)', async () => {
    for (const value of ['yes', 1, 'true', {}]) expect(await post('/topics/users/ada/x', { data: 1, private: value }, bearer(ROOT))).toMatchObject({ status: 400, code: 'invalid_message' })
    expect(await post('/topics/users/ada/x', 'data=1&private=maybe', bearer(ROOT), 'application/x-www-form-urlencoded')).toMatchObject({ status: 400, code: 'invalid_message' })
    await waitFor(() => true, 'nothing')
  })
})

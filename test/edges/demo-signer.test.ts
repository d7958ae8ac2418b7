/**
 * The standalone server's authentication (src/demos/demo-tokens.ts) at the edges. With no key it
 * verifies the demo tokens it mints (a secret generated at start): a request with one gets that
 * token's principal, a request without one keeps the no-key rules, a bad token is refused. With a
 * key, --demo-tokens signs with it (or, with only a public key, with a generated secret for HS
 * tokens). And a plain no-key Herald (no demo signer) still never reads a token.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { generateKeyPairSync } from 'node:crypto'
import { SignJWT } from 'jose'
import { signToken } from '../../src/auth/sign'
import { DEFAULTS } from '../../src/config'
import { serverAuth } from '../../src/demos/demo-tokens'
import { SseClient, waitFor, WsClient } from '../helpers'
import { type CustomServer, type CustomServerOptions, startCustomServer } from '../transports/custom-app'

const servers: CustomServer[] = []
afterAll(async () => {
  for (const server of servers) await server.stop()
})

function start(options: CustomServerOptions): CustomServer {
  const server = startCustomServer(options)
  servers.push(server)
  return server
}

/** A peer on another machine. */
const REMOTE = () => '203.0.113.7'
const CLAIMS = { sub: 'ada', subscribe: ['users/{sub}/**'] }
const codeOf = async (response: Response) => ((await response.json()) as { error?: { code?: string } }).error?.code

function publish(server: CustomServer, topic: string, token?: string): Promise<Response> {
  return fetch(`${server.base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) }, body: '{"data":"hi"}' })
}

describe('no key: demo tokens from a secret generated at start', () => {
  const { auth, demo } = serverAuth(DEFAULTS)
  const { token: ada } = demo!.sign(CLAIMS, 60_000)

  test('the authenticator is the no-key one (enabled false) that verifies its own tokens, and only those', async () => {
    expect(auth.enabled).toBe(false)
    expect(auth.verifiesWithoutKey).toBe(true)
    expect((await auth.verify(ada)).subject).toBe('ada')
    // Each start has its own secret: another server's demo token is refused.
    const other = serverAuth(DEFAULTS).demo!.sign(CLAIMS, 60_000).token
    await expect(auth.verify(other)).rejects.toMatchObject({ code: 'invalid_token' })
    // So is any token signed with a secret someone could know.
    await expect(auth.verify(signToken({ secret: 'x'.repeat(32), ...CLAIMS, ttlMs: 60_000 }))).rejects.toMatchObject({ code: 'invalid_token' })
  })

  test('without a token: the no-key rules (anyone subscribes, publishing from loopback only)', async () => {
    const server = start({ auth, remoteAddress: REMOTE })
    const sse = await SseClient.open(`${server.base}/events?topic=users/**`)
    expect(sse.status).toBe(200)
    sse.close()
    const refused = await publish(server, 'news/x')
    expect([refused.status, await codeOf(refused)]).toEqual([403, 'loopback_only'])
    const local = start({ auth })
    expect((await publish(local, 'news/x')).status).toBe(200)
  })

  test('with a demo token: that token\'s principal, exactly: its private events, and it publishes only what it claims', async () => {
    const server = start({ auth })
    const owner = await SseClient.open(`${server.base}/events?topic=users/ada/inbox`, { authorization: `Bearer ${ada}` })
    const wildcard = await SseClient.open(`${server.base}/events?topic=users/**`)
    expect([owner.status, wildcard.status]).toEqual([200, 200])
    await server.hub.publish([{ topic: 'users/ada/inbox', data: 'for ada', private: true }])
    await server.hub.publish([{ topic: 'users/ada/inbox', data: 'for all' }])
    expect((await owner.waitForMessages(2)).map((event) => event.data)).toEqual(['for ada', 'for all'])
    expect((await wildcard.waitForMessages(1)).map((event) => event.data)).toEqual(['for all'])
    // It publishes nothing (its claims say so), even from loopback where a token-less request may.
    const withToken = await publish(server, 'news/x', ada)
    expect([withToken.status, await codeOf(withToken)]).toEqual([403, 'forbidden_topic'])
    // Nor subscribes beyond its claims: a token narrows, never widens.
    const beyond = await SseClient.open(`${server.base}/events?topic=news/**`, { authorization: `Bearer ${ada}` })
    expect(beyond.status).toBe(403)
    owner.close()
    wildcard.close()
  })

  test('a bad or expired token is refused (401), not ignored: a request never silently loses the rights it asked for', async () => {
    const server = start({ auth })
    const expired = demo!.sign(CLAIMS, 1000)
    const stale = signToken({ secret: 'y'.repeat(32), ...CLAIMS, ttlMs: 60_000 })
    for (const token of [stale, 'not-a-token', expired.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))]) {
      const sse = await fetch(`${server.base}/events?topic=users/ada/inbox`, { headers: { authorization: `Bearer ${token}` } })
      expect([sse.status, await codeOf(sse)]).toEqual([401, 'invalid_token'])
      const pub = await publish(server, 'news/x', token)
      expect(pub.status).toBe(401)
    }
  })

  test('WebSocket: an auth message with a demo token is accepted; an anonymous socket has no deadline; expiry closes it (4401)', async () => {
    const server = start({ auth, authTimeoutMs: 50 })
    const anonymous = await WsClient.open(`${server.wsBase}/ws`)
    const authed = await WsClient.open(`${server.wsBase}/ws`)
    expect(await authed.request({ type: 'auth', token: ada })).toMatchObject({ type: 'authenticated', subject: 'ada' })
    expect(await authed.request({ type: 'subscribe', topics: ['users/ada/inbox'] })).toMatchObject({ type: 'subscribed' })
    expect(await anonymous.request({ type: 'subscribe', topics: ['users/**'] })).toMatchObject({ type: 'subscribed' })
    await server.hub.publish([{ topic: 'users/ada/inbox', data: 'private', private: true }])
    await server.hub.publish([{ topic: 'users/ada/inbox', data: 'public' }])
    await authed.waitFor((message) => message.data === 'public', 'the public event')
    await anonymous.waitFor((message) => message.data === 'public', 'the public event')
    expect(authed.messages.filter((message) => message.type === 'event').map((message) => message.data)).toEqual(['private', 'public'])
    expect(anonymous.messages.filter((message) => message.type === 'event').map((message) => message.data)).toEqual(['public'])
    // Well past the 50 ms deadline a keyed server would enforce: the anonymous socket is still open.
    await Bun.sleep(200)
    expect(anonymous.closeCode).toBeUndefined()
    // A foreign token is refused, and the socket keeps what it had.
    expect(await anonymous.request({ type: 'auth', token: signToken({ secret: 'z'.repeat(32), ...CLAIMS, ttlMs: 60_000 }) })).toMatchObject({ type: 'error', code: 'invalid_token' })
    // A socket whose demo token runs out is closed with 4401 (no clock tolerance here: exp is at most 1 s away).
    const exact = serverAuth({ ...DEFAULTS, jwtClockToleranceMs: 0 })
    const expiring = start({ auth: exact.auth })
    const short = await WsClient.open(`${expiring.wsBase}/ws`)
    expect(await short.request({ type: 'auth', token: exact.demo!.sign(CLAIMS, 1000).token })).toMatchObject({ type: 'authenticated' })
    await short.waitFor((message) => message.code === 'token_expired', 'the expiry error', 3000)
    await waitFor(() => short.closeCode === 4401, 'the close')
    anonymous.close()
    authed.close()
  })
})

describe('a plain no-key Herald (no demo signer) never reads a token', () => {
  test('a request with any bearer token is treated as one without (the no-key rules)', async () => {
    const server = start({})
    const sse = await fetch(`${server.base}/events?topic=users/**`, { headers: { authorization: 'Bearer not-a-token' } })
    expect(sse.status).toBe(200)
    await sse.body?.cancel()
    expect((await publish(server, 'news/x', 'not-a-token')).status).toBe(200)
  })
})

describe('with a key', () => {
  const secret = 'demo-signer-test-secret-0123456789abcdef'

  test('--demo-tokens signs with --jwt-secret (and its issuer and audience); a token of the operator\'s works alike', async () => {
    const options = { ...DEFAULTS, jwtSecret: secret, jwtIssuer: 'https://issuer.example', jwtAudience: 'herald', demoTokens: true }
    const { auth, demo } = serverAuth(options)
    expect(auth.enabled).toBe(true)
    const { token, expiresAt } = demo!.sign(CLAIMS, 90_000)
    const principal = await auth.verify(token)
    expect(principal.subject).toBe('ada')
    expect(principal.expiresAt).toBe(expiresAt + DEFAULTS.jwtClockToleranceMs)
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
    expect([payload.iss, payload.aud]).toEqual(['https://issuer.example', 'herald'])
  })

  test('without --demo-tokens there is no signer; the demos\' public topics are added to --public', async () => {
    const { auth, demo } = serverAuth({ ...DEFAULTS, jwtSecret: secret, public: ['news/**'] }, ['feed'])
    expect(demo).toBeUndefined()
    const server = start({ auth })
    for (const topic of ['feed', 'news/x']) {
      const sse = await fetch(`${server.base}/events?topic=${topic}`)
      expect({ topic, status: sse.status }).toEqual({ topic, status: 200 })
      await sse.body?.cancel()
    }
    const closed = await fetch(`${server.base}/events?topic=users/ada/inbox`)
    expect([closed.status, await codeOf(closed)]).toEqual([401, 'missing_token'])
  })

  test('with only --jwt-key, --demo-tokens signs HS tokens with a generated secret; the key still verifies its own', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const { auth, demo } = serverAuth({ ...DEFAULTS, jwtKey: pem, demoTokens: true })
    expect((await auth.verify(demo!.sign(CLAIMS, 60_000).token)).subject).toBe('ada')
    const es256 = await new SignJWT({ herald: { subscribe: ['x'] } }).setProtectedHeader({ alg: 'ES256' }).setSubject('bob').setExpirationTime('1m').sign(privateKey)
    expect((await auth.verify(es256)).subject).toBe('bob')
    // An HS token signed with anything but the generated secret is refused.
    await expect(auth.verify(signToken({ secret: 'q'.repeat(32), ...CLAIMS, ttlMs: 60_000 }))).rejects.toMatchObject({ code: 'invalid_token' })
  })
})

/**
 * Private events never leak: not to a subscriber whose wildcard (here through a public rule) is
 * wider than its token, live or on resume, over SSE or WebSocket (native topics and patterns),
 * in batches, nor after a restart of a durable store. At scale: 1,000 users each on their own
 * `users/{sub}/**` while 100,000 per-user private events are published; each gets exactly its own,
 * with the edge tests' fake principals and with Herald's real ones (jose-verified signToken tokens,
 * some with subs that `{sub}` must escape).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAuthenticator } from '../../src/auth/authenticator'
import { signToken } from '../../src/auth/sign'
import type { AuthPrincipal, Authenticator } from '../../src/auth/types'
import { DEFAULTS } from '../../src/config'
import { escapeSegment } from '../../src/hub/escape'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import { SqliteHistory } from '../../src/history/sqlite'
import type { HistoryStore } from '../../src/hub/history'
import { Hub } from '../../src/hub/hub'
import type { Subscription } from '../../src/hub/subscription'
import { parseSelector } from '../../src/hub/topics'
import { SseClient, waitFor, WsClient } from '../helpers'
import { type CustomServer, startCustomServer } from '../transports/custom-app'
import { fakeAuthenticator, fakeToken } from './fake-auth'

const PER_USER = (sub: string) => fakeToken({ sub, subscribe: ['users/{sub}/**'], publish: ['users/{sub}/**'] })
const ROOT = fakeToken({ sub: 'root', publish: ['**'] })

function hubOn(history: HistoryStore, queueLimit = 1_000): Hub {
  return new Hub({ history, broker: new MemoryBroker(history), maxDataBytes: 0, queueLimit, maxReplay: 200_000, maxSelectors: 10 })
}

/** Every event data queued on a subscription now. */
async function drain(subscription: Subscription): Promise<string[]> {
  const got: string[] = []
  while (subscription.queued > 0) got.push(...((await subscription.next()) ?? []).map((delivery) => delivery.event.data))
  return got
}

/** An authenticator for the at-scale test, the token of user `u`, and verifications counted. */
interface ScaleAuth {
  name: string
  auth: Authenticator
  /** The subject of user `u` (the real authenticator gets some that `{sub}` must escape). */
  subject(u: number): string
  token(sub: string): string
  verified(): number
}

function fakeScale(): ScaleAuth {
  const auth = fakeAuthenticator({ public: ['users/**'] })
  return { name: 'fake principals', auth, subject: (u) => `u${u}`, token: PER_USER, verified: () => auth.verified }
}

/** Herald's own authenticator (jose, HS256), tokens from signToken: real TokenPrincipals, `{sub}` escaped by the server. */
function realScale(): ScaleAuth {
  const secret = 'private-leaks-secret-0123456789-abcdefgh'
  const real = createAuthenticator({ ...DEFAULTS, jwtSecret: secret, public: ['users/**'] })
  let verified = 0
  const auth: Authenticator = {
    enabled: true,
    verify: (token) => {
      verified++
      return real.verify(token)
    },
    anonymous: () => real.anonymous(),
  }
  // Every 10th user has a sub with characters a topic cannot hold ("/", "*", spaces, non-ASCII).
  const subject = (u: number) => (u % 10 === 5 ? `u${u}/*/ é ${u}` : `u${u}`)
  const token = (sub: string) => signToken({ secret, sub, subscribe: ['users/{sub}/**'], publish: ['users/{sub}/**'], ttlMs: 3_600_000 })
  return { name: 'real principals (createAuthenticator, signToken)', auth, subject, token, verified: () => verified }
}

describe.each([fakeScale, realScale])('at scale, in the hub', (make) => {
  const scale = make()
  test(`${scale.name}: 1,000 users on users/{sub}/** and 100,000 per-user private events: each user gets exactly its own, live and on resume; wildcard readers get none`, async () => {
    const USERS = 1000
    const EVENTS = 100_000
    const { auth } = scale
    const hub = hubOn(new MemoryHistory({ perTopic: 1000, maxTopics: 2 * USERS, startedAt: { ms: 0, seq: 0 } }), EVENTS)
    const principals: AuthPrincipal[] = []
    for (let u = 0; u < USERS; u++) principals.push(await auth.verify(scale.token(scale.subject(u))))
    // Each user's own segment, as an app builds it (escapeSegment is what {sub} becomes).
    const segments = principals.map((principal) => escapeSegment(principal.subject as string))
    const mine = await Promise.all(principals.map((principal, u) => hub.subscribe([parseSelector(`users/${segments[u]}/**`)], { principal })))
    // Readers through the public rule, wider than any token: users/**, users/*/inbox, another user's topic.
    const anonymous = auth.anonymous()
    const snoopers = await Promise.all(['users/**', 'users/*/inbox', `users/${segments[7]}/inbox`, `users/${segments[15]}/**`].map((selector) => hub.subscribe([parseSelector(selector)], { principal: anonymous })))
    // A user on a wider (public) wildcard: its own private events only.
    const wideUser = await hub.subscribe([parseSelector('users/**')], { principal: principals[3] as AuthPrincipal })
    const verifiedBefore = scale.verified()

    const expected: string[][] = Array.from({ length: USERS }, () => [])
    const BATCH = 1000
    for (let start = 0; start < EVENTS; start += BATCH) {
      const batch = []
      for (let n = start; n < start + BATCH; n++) {
        // A spread that is not round-robin, so batches mix users unevenly.
        const user = (n * 7919) % USERS
        const data = `u${user}#${n}`
        expected[user]?.push(data)
        batch.push({ topic: `users/${segments[user]}/${n % 3 === 0 ? 'inbox' : `notes/${n % 5}`}`, data, private: true })
      }
      await hub.publish(batch)
    }
    // Verification is per connection, never per delivery.
    expect(scale.verified()).toBe(verifiedBefore)
    const wrong: string[] = []
    for (let u = 0; u < USERS; u++) {
      const got = await drain(mine[u] as Subscription)
      if (got.join() !== (expected[u] as string[]).join()) wrong.push(`u${u}: got ${got.length}, wanted ${(expected[u] as string[]).length}`)
    }
    expect(wrong).toEqual([])
    for (const snooper of snoopers) expect(await drain(snooper)).toEqual([])
    expect(await drain(wideUser)).toEqual(expected[3] as string[])

    // On resume from the very start (everything replayed through the same filter).
    const resumedSnooper = await hub.subscribe([parseSelector('users/**')], { principal: anonymous, lastEventId: '0-0' })
    expect(resumedSnooper.resetTo).toBeUndefined()
    expect(await drain(resumedSnooper)).toEqual([])
    for (const u of [0, 1, 5, 499, 999]) {
      const resumed = await hub.subscribe([parseSelector('users/**')], { principal: principals[u] as AuthPrincipal, lastEventId: '0-0' })
      expect(await drain(resumed)).toEqual(expected[u] as string[])
      resumed.end()
    }
    for (const subscription of [...mine, ...snoopers, wideUser, resumedSnooper]) subscription.end()
    await hub.close()
  }, 120_000)
})

describe('end to end, over SSE and WebSocket', () => {
  let server: CustomServer
  afterAll(() => server?.stop())

  test('40 users (WebSocket natives and patterns, SSE) and anonymous wildcard readers: 4,000 private events in mixed batches reach only their owners, live and on resume', async () => {
    const USERS = 40
    const EVENTS = 4000
    server = startCustomServer({ auth: fakeAuthenticator({ public: ['users/**'] }) })
    const token = (u: number) => encodeURIComponent(PER_USER(`u${u}`))
    // Even users: WebSocket with their inbox as a native topic and the rest through their pattern; odd: SSE.
    const sockets = new Map<number, WsClient>()
    const streams = new Map<number, SseClient>()
    for (let u = 0; u < USERS; u++) {
      if (u % 2 === 0) sockets.set(u, await WsClient.open(`${server.wsBase}/ws?access_token=${token(u)}&topic=users/u${u}/inbox&topic=users/u${u}/**`))
      else streams.set(u, await SseClient.open(`${server.base}/events?topic=users/u${u}/**&access_token=${token(u)}`))
    }
    // Anonymous readers: a pattern, another user's native topic, and SSE on everything public.
    const wsWide = await WsClient.open(`${server.wsBase}/ws?topic=users/**`)
    const wsNative = await WsClient.open(`${server.wsBase}/ws?topic=users/u0/inbox&topic=users/u2/inbox`)
    const sseWide = await SseClient.open(`${server.base}/events?topic=users/**`)
    await waitFor(() => [...sockets.values(), wsWide, wsNative].every((ws) => ws.ofType('subscribed').length > 0), 'every socket subscribed')
    expect(server.server.subscriberCount('users/u0/inbox')).toBe(2) // u0 and the anonymous reader share Bun's fan-out

    const expected: string[][] = Array.from({ length: USERS }, () => [])
    const ids: string[] = []
    for (let start = 0; start < EVENTS; start += 100) {
      const batch = []
      for (let n = start; n < start + 100; n++) {
        const u = (n * 13) % USERS
        const data = `u${u}#${n}`
        expected[u]?.push(data)
        // Each user gets both kinds over the rounds: its native inbox, and topics only its pattern holds.
        batch.push({ topic: Math.floor(n / USERS) % 2 ? `users/u${u}/inbox` : `users/u${u}/x/${n % 7}`, data, private: true })
      }
      const response = await fetch(`${server.base}/publish`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ROOT}` }, body: JSON.stringify(batch) })
      expect(response.status).toBe(200)
      ids.push(...((await response.json()) as { events: { id: string }[] }).events.map((event) => event.id))
    }
    // A last ordinary event everyone receives: once it is in, everything before it has been delivered.
    await fetch(`${server.base}/topics/users/end`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ROOT}` }, body: '{"data":"end"}' })
    const dataOf = (u: number): string[] => {
      const ws = sockets.get(u)
      return ws ? ws.ofType('event').map((message) => message.data as string) : (streams.get(u) as SseClient).messages.map((event) => event.data)
    }
    for (let u = 0; u < USERS; u++) {
      await waitFor(() => dataOf(u).length >= (expected[u] as string[]).length, `u${u}'s events`, 15_000)
      expect([u, dataOf(u)]).toEqual([u, expected[u] as string[]])
    }
    await waitFor(() => sseWide.messages.length > 0 && wsWide.ofType('event').length > 0, 'the ordinary event on the wildcards')
    expect(sseWide.messages.map((event) => event.data)).toEqual(['end'])
    expect(wsWide.ofType('event').map((message) => message.data)).toEqual(['end'])
    expect(wsNative.ofType('event')).toEqual([])

    // On resume from before everything: the anonymous readers still get nothing private.
    const resumedSse = await SseClient.open(`${server.base}/events?topic=users/**&lastEventId=0-0`)
    const resumedWs = await WsClient.open(`${server.wsBase}/ws?topic=users/**&topic=users/u4/inbox&lastEventId=0-0`)
    const ownResume = await WsClient.open(`${server.wsBase}/ws?access_token=${token(5)}&topic=users/u5/**&lastEventId=0-0`)
    await resumedSse.waitForMessages(1)
    await resumedWs.waitFor((message) => message.type === 'event', 'the replayed ordinary event')
    await ownResume.waitFor((message) => message.type === 'event' && message.data === (expected[5] as string[]).at(-1), "u5's replay")
    expect(resumedSse.messages.map((event) => event.data)).toEqual(['end'])
    expect(resumedWs.ofType('event').map((message) => message.data)).toEqual(['end'])
    expect(ownResume.ofType('event').map((message) => message.data)).toEqual(expected[5] as string[])
    for (const client of [...sockets.values(), wsWide, wsNative, resumedWs, ownResume]) client.close()
    for (const client of [...streams.values(), sseWide, resumedSse]) client.close()
  }, 60_000)
})

describe('a durable store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-private-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('private events stay private across a restart: a resume after it is filtered the same way', async () => {
    const path = join(dir, 'history.db')
    const store = () => new SqliteHistory({ path, perTopic: 100, maxTopics: 100, startedAt: { ms: 1, seq: 0 } })
    const auth = fakeAuthenticator({ public: ['users/**'] })
    const first = hubOn(store())
    await first.publish([
      { topic: 'users/ada/inbox', data: 'for ada', private: true },
      { topic: 'users/bob/inbox', data: 'for bob', private: true },
      { topic: 'users/news', data: 'for all' },
    ])
    await first.close()
    const second = hubOn(store())
    const anonymous = await second.subscribe([parseSelector('users/**')], { principal: auth.anonymous(), lastEventId: '1-0' })
    const ada = await second.subscribe([parseSelector('users/**')], { principal: await auth.verify(PER_USER('ada')), lastEventId: '1-0' })
    expect(await drain(anonymous)).toEqual(['for all'])
    expect(await drain(ada)).toEqual(['for ada', 'for all'])
    anonymous.end()
    ada.end()
    await second.close()
  })
})

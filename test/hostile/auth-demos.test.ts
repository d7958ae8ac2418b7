/**
 * Hostile requests against the demos' authentication, generated from a seed, in both ways the
 * standalone server runs (no key, demo tokens from a secret generated at start; a key and
 * --demo-tokens): random tokens (two users' own, a third user's, forged with another secret,
 * `alg: none`, expired, garbage, with a key an operator's that may publish anywhere), carriers
 * (header, cookie, query, none), routes (the chat's send/join/leave/direct routes, HTTP topic
 * publishes and batches to the chat's and the feed's topics, WebSocket publishes) and bodies (a
 * forged `from`, `to`, `private`, event names). The invariants, checked after every request:
 * - nothing reaches a chat topic or the feed but through the chat's routes and the feed's handler;
 * - every chat line's `from` is the `sub` of a valid token the request carried in its header, and
 *   a request without one publishes nothing;
 * - a direct message reaches its recipient's socket only: no other user's, no wildcard reader's;
 * - a roster only ever lists users whose page is connected;
 * - no answer is a 5xx.
 * These are the holes of the issue (DM snooping, impersonation, fake presence, forged feed
 * updates) as a family rather than four inputs. HOSTILE_SEED=<n> replays another run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { signToken } from '../../src/auth/sign'
import type { HeraldOptions } from '../../src/config'
import type { HubEvent } from '../../src/hub/event'
import { chatToken } from '../demos/chat-client'
import { startServer, type TestServer, waitFor, WsClient } from '../helpers'
import { Rng, SEED } from './prng'

const CASES = 300
const SECRET = 'hostile-demos-secret-0123456789-abcdefgh'
const ROOM = 'den'
const USERS = ['amy', 'ben'] as const

interface Token {
  text: string
  /** The `sub` the server will take it for, when it accepts it. */
  sub: string | undefined
}

describe.each([
  ['no key', {}] as const,
  ['a key and --demo-tokens', { jwtSecret: SECRET, demoTokens: true }] as const,
])('with %s', (_mode, options: Partial<HeraldOptions>) => {
  const keyed = options.jwtSecret !== undefined
  let server: TestServer
  const tokens: Record<string, string> = {}
  const sockets: Record<string, WsClient> = {}
  /** Every event the hub delivered on the demos' topics, in order. */
  const published: HubEvent[] = []
  let stopWatching = () => {}

  beforeAll(async () => {
    server = await startServer({ feedDb: ':memory:', ...options })
    stopWatching = server.hub.watch(['chat/**', 'feed'], ({ event }) => published.push(event))
    for (const name of [...USERS, 'mallory']) {
      const key = `${name}-key-0123456789abcdef`
      tokens[name] = (await chatToken(server.base, name, key)).token
      if (name === 'mallory') continue
      const socket = await WsClient.open(`${server.wsBase}/ws`)
      await socket.request({ type: 'auth', token: tokens[name] })
      await socket.request({ type: 'subscribe', topics: [`chat/users/${name}/inbox`, `chat/claim/${key}`, `chat/room/${ROOM}`, `chat/presence/${ROOM}`] })
      sockets[name] = socket
    }
    // Readers who should get nothing private: an anonymous socket on every chat topic (refused
    // with a key), and mallory's own socket, trying every inbox with her token.
    sockets.anonymous = await WsClient.open(`${server.wsBase}/ws`)
    await sockets.anonymous.request({ type: 'subscribe', topics: ['chat/**'] })
    sockets.mallory = await WsClient.open(`${server.wsBase}/ws`)
    await sockets.mallory.request({ type: 'auth', token: tokens.mallory })
    await sockets.mallory.request({ type: 'subscribe', topics: ['chat/users/*/inbox'] })
    await sockets.mallory.request({ type: 'subscribe', topics: ['chat/users/mallory/inbox', `chat/room/${ROOM}`] })
    for (const name of USERS) expect((await fetch(`${server.base}/chat/rooms/${ROOM}/join`, { method: 'POST', headers: { authorization: `Bearer ${tokens[name]}` } })).status).toBe(200)
  })
  afterAll(async () => {
    stopWatching()
    for (const socket of Object.values(sockets)) socket.close()
    await server.stop()
  })

  function randomToken(rng: Rng): Token | undefined {
    const sub = rng.pick(['amy', 'ben', 'mallory', 'admin', 'operator'])
    const wide = { subscribe: ['**'], publish: ['**'] }
    switch (rng.int(0, 9)) {
      case 0:
        return undefined
      case 1:
        return { text: signToken({ secret: 'not-the-servers-secret-0123456789abcd', sub, ...wide, ttlMs: 60_000 }), sub: undefined }
      case 2: {
        const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')
        const payload = Buffer.from(JSON.stringify({ sub, herald: wide, exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url')
        return { text: `${header}.${payload}.`, sub: undefined }
      }
      case 3:
        return { text: rng.pick(['garbage', 'a.b.c', `${tokens.amy}x`, (tokens.ben as string).split('.').reverse().join('.')]), sub: undefined }
      case 4:
        // With a key: an operator's token that may publish anywhere, and an expired one.
        if (keyed && rng.chance(0.5)) return { text: signToken({ secret: SECRET, sub: 'operator', ...wide, ttlMs: 60_000 }), sub: 'operator' }
        if (keyed) return { text: signToken({ secret: SECRET, sub, ...wide, ttlMs: 1000, now: Date.now() - 120_000 }), sub: undefined }
        return { text: tokens.mallory as string, sub: 'mallory' }
      default: {
        const name = rng.pick([...USERS, 'mallory'])
        return { text: tokens[name] as string, sub: name }
      }
    }
  }

  /** A request: where it goes, with what, and which `sub` may be stamped on what it publishes (undefined: nothing may be published). */
  function randomRequest(rng: Rng): { describe: string; send: () => Promise<number>; speaker: string | undefined } {
    const token = randomToken(rng)
    const carrier = rng.pick(['header', 'header', 'header', 'cookie', 'query'] as const)
    const forged = { from: rng.pick(['amy', 'ben', 'admin']), to: rng.pick(['amy', 'ben']), text: `hostile ${rng.int(0, 1e9)}`, private: rng.chance(0.5), event: rng.pick(['presence', 'join', 'direct', 'posts', undefined]) }
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    let query = ''
    if (token && carrier === 'header') headers.authorization = `Bearer ${token.text}`
    if (token && carrier === 'cookie') headers.cookie = `herald_token=${token.text}`
    if (token && carrier === 'query') query = `?access_token=${encodeURIComponent(token.text)}`
    // Only the chat's routes publish for a token, and only for one in the header.
    const chatSpeaker = carrier === 'header' ? token?.sub : undefined
    const post = (path: string, body: unknown) => async () => (await fetch(`${server.base}${path}${query}`, { method: 'POST', headers, body: JSON.stringify(body) })).status
    switch (rng.int(0, 7)) {
      case 0:
        return { describe: 'room message', send: post(`/chat/rooms/${ROOM}/messages`, forged), speaker: chatSpeaker }
      case 1: {
        const to = rng.pick(['amy', 'ben', 'mallory', 'nobody'])
        return { describe: `direct to ${to}`, send: post(`/chat/users/${to}/messages`, forged), speaker: chatSpeaker }
      }
      case 2:
        return { describe: 'join', send: post(`/chat/rooms/${ROOM}/${rng.pick(['join', 'leave'])}`, forged), speaker: undefined }
      case 3: {
        const topic = rng.pick([`chat/room/${ROOM}`, `chat/presence/${ROOM}`, 'chat/users/amy/inbox', 'chat/users/ben/inbox', 'feed', 'chat/claim/amy-key-0123456789abcdef'])
        return { describe: `HTTP publish to ${topic}`, send: post(`/topics/${topic}`, { data: forged, ...(forged.event && { event: forged.event }), private: forged.private }), speaker: undefined }
      }
      case 4: {
        const topics = rng.pick([['news/x', `chat/room/${ROOM}`], ['feed'], ['chat/users/amy/inbox', 'chat/users/ben/inbox']])
        return { describe: `batch to ${topics}`, send: post('/publish', topics.map((topic) => ({ topic, data: forged }))), speaker: undefined }
      }
      case 5: {
        const socket = rng.pick(['mallory', 'anonymous', 'amy'])
        const topic = rng.pick([`chat/room/${ROOM}`, `chat/presence/${ROOM}`, 'chat/users/ben/inbox', 'feed'])
        return {
          describe: `WebSocket publish by ${socket} to ${topic}`,
          send: async () => {
            const reply = await (sockets[socket] as WsClient).request({ type: 'publish', topic, data: forged, event: 'presence' })
            return reply.type === 'published' ? 200 : 403
          },
          speaker: undefined,
        }
      }
      case 6:
        return { describe: 'a feed post (the feed handler: a visitor name, not a token)', send: async () => (await fetch(`${server.base}/feed/posts`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(headers.authorization && { authorization: headers.authorization }) }, body: `message=${encodeURIComponent(forged.text)}`, redirect: 'manual' })).status, speaker: 'feed' }
      default:
        return { describe: 'token request for a held name', send: post('/chat/token', { name: rng.pick(['amy', 'ben']), key: 'mallory-key-0123456789abcdef' }), speaker: undefined }
    }
  }

  test(`${CASES} generated requests: no forged speaker, no stolen direct message, no fake presence, no forged feed update (seed ${SEED})`, async () => {
    const rng = new Rng(SEED + (keyed ? 101 : 100))
    const failures: string[] = []
    for (let n = 0; n < CASES; n++) {
      const request = randomRequest(rng)
      const before = published.length
      const status = await request.send()
      if (status >= 500) failures.push(`#${n} ${request.describe}: ${status}`)
      // What the hub delivered for it (delivery is synchronous within the publish the route awaited).
      for (const event of published.slice(before)) {
        const data = event.json ? (JSON.parse(event.data) as { from?: unknown; users?: unknown }) : undefined
        if (event.topic === 'feed') {
          if (request.speaker !== 'feed' || event.event !== 'posts') failures.push(`#${n} ${request.describe}: a feed update ${event.data.slice(0, 80)}`)
        } else if (event.topic.startsWith('chat/presence/')) {
          const users = (data?.users as string[] | undefined) ?? []
          if (users.some((user) => !(USERS as readonly string[]).includes(user))) failures.push(`#${n} ${request.describe}: roster ${JSON.stringify(users)}`)
        } else if (data?.from !== request.speaker || request.speaker === undefined) {
          failures.push(`#${n} ${request.describe}: ${event.topic} from ${JSON.stringify(data?.from)} (speaker ${request.speaker})`)
        }
      }
    }
    // Every delivered frame has arrived once a marker published after all of it has.
    await server.hub.publish([{ topic: `chat/room/${ROOM}`, data: { from: 'marker', text: 'marker' } }])
    for (const name of [...USERS, 'mallory']) await (sockets[name] as WsClient).waitFor((message) => (message.data as { text?: string } | undefined)?.text === 'marker', `the marker on ${name}`)
    if (!keyed) await (sockets.anonymous as WsClient).waitFor((message) => (message.data as { text?: string } | undefined)?.text === 'marker', 'the marker on the anonymous socket')
    for (const [name, socket] of Object.entries(sockets)) {
      for (const message of socket.messages) {
        if (message.type !== 'event' || typeof message.topic !== 'string' || !message.topic.startsWith('chat/users/')) continue
        if (message.topic !== `chat/users/${name}/inbox`) failures.push(`${name} received ${message.topic}: ${JSON.stringify(message.data).slice(0, 80)}`)
      }
    }
    expect(failures).toEqual([])
    // The family did reach the interesting paths: lines were said, and direct messages delivered to their owners.
    expect(published.filter((event) => event.topic === `chat/room/${ROOM}`).length).toBeGreaterThan(10)
    for (const name of USERS) expect((sockets[name] as WsClient).messages.some((message) => message.topic === `chat/users/${name}/inbox`)).toBe(true)
    await waitFor(async () => (await fetch(`${server.base}/healthz`)).status === 200, 'health')
  })
})

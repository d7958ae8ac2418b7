/**
 * Hostile input for the demos' server side, generated from a seed (HOSTILE_SEED replays another):
 * - malformed events on the chat topics (demo-payloads.ts) are refused from publishers (the topics
 *   are the server's), and even published by the server itself must not reach the room history,
 *   change a roster, or break the presence service;
 * - hostile names, keys, rooms and texts on the chat's HTTP endpoints get a 4xx JSON error, never a
 *   5xx, and never take a name from the page that holds it;
 * - forged feed updates change nothing the feed serves.
 * The pages' side of the same payloads is tested in Chromium (test/browser/chat.test.ts, feed.test.ts).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { chatPost, chatToken, requestToken } from '../demos/chat-client'
import { startServer, type TestServer, waitFor, WsClient } from '../helpers'
import { chatPayload, feedPayload } from './demo-payloads'
import { Rng, SAFE, SEED } from './prng'

const CHAT_CASES = 1000
const ENDPOINT_CASES = 600
const FEED_CASES = 200

let server: TestServer
beforeAll(async () => {
  server = await startServer({ feedDb: ':memory:' })
})
afterAll(() => server.stop())

const KEYS = { amy: 'amy-key-0123456789abcdef', ben: 'ben-key-0123456789abcdef' }

/** A page as public/chat.js joins: a token for the name, an authenticated socket on its inbox and claim topic, the room, then a join. */
async function chatter(name: keyof typeof KEYS, room: string): Promise<{ client: WsClient; token: string }> {
  const { token } = await chatToken(server.base, name, KEYS[name])
  const client = await WsClient.open(`${server.wsBase}/ws`)
  await client.request({ type: 'auth', token })
  await client.request({ type: 'subscribe', topics: [`chat/users/${name}/inbox`, `chat/claim/${KEYS[name]}`] })
  await client.request({ type: 'subscribe', topics: [`chat/room/${room}`, `chat/presence/${room}`] })
  expect((await chatPost(server.base, `/chat/rooms/${room}/join`, {}, token)).status).toBe(200)
  return { client, token }
}

async function healthy(what: string): Promise<void> {
  const response = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined)
  if (response?.status !== 200) throw new Error(`/healthz failed after ${what}`)
}

const messagesOf = async (room: string) => ((await (await fetch(`${server.base}/chat/rooms/${room}/messages`)).json()) as { messages: { from: string; text: string }[] }).messages.map(({ from, text }) => `${from}: ${text}`)

test(`${CHAT_CASES} malformed chat events are refused from publishers, and change no history and no roster even from the server (seed ${SEED})`, async () => {
  const rng = new Rng(SEED)
  const room = 'hostile'
  const [amy, ben] = await Promise.all([chatter('amy', room), chatter('ben', room)])
  const rosterOf = (client: WsClient) => client.messages.filter((message) => message.event === 'presence' && (message.data as { users?: unknown }).users !== undefined).at(-1)?.data
  await waitFor(() => JSON.stringify(rosterOf(amy.client)) === JSON.stringify({ room, users: ['amy', 'ben'] }), 'both in the roster')
  const expected: string[] = []
  const refusals = new Set<string>()
  for (let n = 0; n < CHAT_CASES; n++) {
    const payload = chatPayload(rng, room, rng.pick(['amy', 'ben']))
    const event = payload.event === undefined ? {} : { event: payload.event }
    const response = await fetch(`${server.base}/topics/${payload.topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: payload.data, ...event }) })
    refusals.add(`${response.status} ${((await response.json()) as { error?: { code?: string } }).error?.code}`)
    // As if it had got through: the server's own publish, which nothing refuses.
    await server.hub.publish([{ topic: payload.topic, data: payload.data, ...event }])
    if (n % 100 === 99) {
      // A real message now and then: the history must hold these, in order, and only these.
      const text = `real message ${n}`
      expect((await chatPost(server.base, `/chat/rooms/${room}/messages`, { text }, amy.token)).status).toBe(200)
      expected.push(`amy: ${text}`)
      await healthy(`chat case #${n} (${payload.why})`)
    }
  }
  expect([...refusals]).toEqual(['403 forbidden_topic'])
  expect(await messagesOf(room)).toEqual(expected)
  // The server's own roster is untouched: a join asks it to publish the roster again.
  const rosters = amy.client.messages.length
  expect((await chatPost(server.base, `/chat/rooms/${room}/join`, {}, ben.token)).status).toBe(200)
  const fresh = await waitFor(() => amy.client.messages.slice(rosters).find((message) => message.event === 'presence'), 'a roster from the server')
  expect(fresh?.data).toEqual({ room, users: ['amy', 'ben'] })
  // And presence still works: ben leaves.
  ben.client.close()
  await waitFor(() => amy.client.messages.some((message) => message.event === 'presence' && JSON.stringify(message.data) === JSON.stringify({ room, users: ['amy'] })), 'ben to leave the roster')
  amy.client.close()
})

/** A hostile path segment or query value: bad characters, bad escapes, huge, empty, or look-alikes. */
function hostileSegment(rng: Rng): string {
  switch (rng.int(0, 7)) {
    case 0:
      return encodeURIComponent(rng.string(rng.int(1, 30), `${SAFE} /<>"'&;\\é\u0000\n\r\t`) + rng.pick(['', '🎉', '\u202e']))
    case 1:
      return rng.pick(['%', '%Z', '%ZZ', '%E0%A4%A', '%FF', '%C0%AE', '%00', '%0A', '%2F', '..', '%2e%2e', '.', '~'])
    case 2:
      return 'a'.repeat(rng.int(25, 5000))
    case 3:
      return ''
    case 4:
      return encodeURIComponent(rng.pick(['amy ', ' amy', 'AMY\u200b', 'amy\u0000', 'аmy', 'amy/ben', 'amy?key=x', 'amy#x']))
    case 5:
      return encodeURIComponent(rng.string(rng.int(1, 15), `${SAFE}-_`)) // often a valid name or room
    case 6:
      return rng.string(rng.int(1, 100), '%')
    default:
      return encodeURIComponent(JSON.stringify(rng.pick([[], {}, null, 42, ['amy']])))
  }
}

/** A hostile JSON value for a body field: another type, or a hostile string. */
function hostileValue(rng: Rng): unknown {
  return rng.pick([() => rng.string(rng.int(0, 30), `${SAFE} /<>"'&;\\é\u0000\n\r\t-_`), () => null, () => 42, () => ['amy'], () => ({ name: 'amy' }), () => 'x'.repeat(rng.int(2000, 3000)), () => ' \t\n'])()
}

test(`${ENDPOINT_CASES} hostile token requests, sends and history reads: 4xx JSON errors, and nobody takes a held name (seed ${SEED})`, async () => {
  const rng = new Rng(SEED + 1)
  const amy = await chatter('amy', 'endpoints')
  const failures: string[] = []
  // Everything said in any room or inbox meanwhile: only amy holds a valid token.
  const said: string[] = []
  const stopWatching = server.hub.watch(['chat/**'], ({ event }) => {
    if (event.event !== 'presence') said.push(JSON.parse(event.data).from)
  })
  for (let n = 0; n < ENDPOINT_CASES; n++) {
    const name = rng.chance(0.3) ? 'amy' : hostileValue(rng)
    const key = rng.pick([() => hostileValue(rng), () => KEYS.ben, () => KEYS.amy.toUpperCase(), () => `${KEYS.amy} `, () => undefined])()
    const room = hostileSegment(rng)
    const token = rng.pick([undefined, amy.token, `${amy.token}x`, 'not.a.token', ''])
    const requests: [string, string, unknown][] = [
      ['POST', '/chat/token', rng.chance(0.2) ? hostileValue(rng) : { name, key }],
      ['GET', `/chat/rooms/${room}/messages`, undefined],
      ['POST', `/chat/rooms/${room}/${rng.pick(['messages', 'join', 'leave'])}`, { text: hostileValue(rng), from: 'ben' }],
      ['POST', `/chat/users/${hostileSegment(rng)}/messages`, { text: hostileValue(rng) }],
    ]
    for (const [method, path, body] of requests) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) }
      const response = await fetch(`${server.base}${path}`, { method, headers, ...(method === 'POST' && { body: JSON.stringify(body) }) })
      const text = await response.text()
      let code: string | undefined
      try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code
      } catch {
        code = undefined
      }
      const ok = response.status === 200 || (response.status >= 400 && response.status < 500 && code !== undefined)
      if (!ok) failures.push(`case #${n}: ${method} ${path.slice(0, 120)} → ${response.status} ${text.slice(0, 120)}`)
      // No one but amy's key ever gets amy's name while she is connected.
      if (path === '/chat/token' && response.status === 200 && (JSON.parse(text) as { name?: string }).name === 'amy' && (body as { key?: unknown }).key !== KEYS.amy) failures.push(`case #${n}: ${JSON.stringify(body).slice(0, 120)} took amy's name`)
    }
    if (n % 100 === 99) await healthy(`endpoint case #${n}`)
  }
  stopWatching()
  expect(failures).toEqual([])
  expect((await requestToken(server.base, { name: 'amy', key: KEYS.amy })).status).toBe(200)
  // Something was said (valid rooms and texts come up), and only ever as amy, whatever the body's "from".
  expect(said.length).toBeGreaterThan(0)
  expect([...new Set(said)]).toEqual(['amy'])
  amy.client.close()
})

test(`${FEED_CASES} forged feed updates change nothing the feed serves (seed ${SEED})`, async () => {
  const rng = new Rng(SEED + 2)
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  expect((await fetch(`${server.base}/feed/posts`, { method: 'POST', headers: form, body: 'message=a+real+post', redirect: 'manual' })).status).toBe(303)
  const before = await (await fetch(`${server.base}/feed`)).text()
  // The feed's topic is the server's own: every forged update is refused before it reaches a page.
  const refusals = new Set<string>()
  for (let n = 0; n < FEED_CASES; n++) {
    const payload = feedPayload(rng)
    const response = await fetch(`${server.base}/topics/${payload.topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: payload.data, ...(payload.event === undefined ? {} : { event: payload.event }) }) })
    refusals.add(`${response.status} ${((await response.json()) as { error?: { code?: string } }).error?.code}`)
  }
  expect([...refusals]).toEqual(['403 forbidden_topic'])
  await healthy('the feed cases')
  const after = await (await fetch(`${server.base}/feed`)).text()
  const posts = (page: string) => /<ol id="posts"[^>]*>([\s\S]*?)<\/ol>/.exec(page)?.[1]
  expect(posts(after)).toBe(posts(before) as string)
  expect(after).not.toContain('bogus')
})

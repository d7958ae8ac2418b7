/**
 * Hostile input for the demos' server side, generated from a seed (HOSTILE_SEED replays another):
 * - malformed events on the chat topics (demo-payloads.ts) must not reach the room history, change
 *   a roster, or break the presence service;
 * - hostile names, keys and rooms on the chat's HTTP endpoints get a 4xx JSON error, never a 5xx,
 *   and never take a name from the page that holds it;
 * - forged feed updates change nothing the feed serves.
 * The pages' side of the same payloads is tested in Chromium (test/browser/chat.test.ts, feed.test.ts).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { publish, startServer, type TestServer, waitFor, WsClient } from '../helpers'
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

/** A page as public/chat.js joins: user and claim topics, the claim, the room, then `join`. */
async function chatter(name: keyof typeof KEYS, room: string): Promise<WsClient> {
  const client = await WsClient.open(`${server.wsBase}/ws`)
  await client.request({ type: 'subscribe', topics: [`chat/user/${name}`, `chat/claim/${KEYS[name]}`] })
  const claimed = await fetch(`${server.base}/chat/names/${name}?key=${KEYS[name]}`, { method: 'POST' })
  expect(claimed.status).toBe(200)
  await client.request({ type: 'subscribe', topics: [`chat/room/${room}`, `chat/presence/${room}`] })
  client.send({ type: 'publish', topic: `chat/room/${room}`, event: 'join', data: { user: name } })
  return client
}

async function healthy(what: string): Promise<void> {
  const response = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined)
  if (response?.status !== 200) throw new Error(`/healthz failed after ${what}`)
}

const messagesOf = async (room: string) => ((await (await fetch(`${server.base}/chat/rooms/${room}/messages`)).json()) as { messages: { from: string; text: string }[] }).messages.map(({ from, text }) => `${from}: ${text}`)

test(`${CHAT_CASES} malformed chat events change no history and no roster (seed ${SEED})`, async () => {
  const rng = new Rng(SEED)
  const room = 'hostile'
  const [amy, ben] = await Promise.all([chatter('amy', room), chatter('ben', room)])
  const rosterOf = (client: WsClient) => client.messages.filter((message) => message.event === 'presence' && (message.data as { users?: unknown }).users !== undefined).at(-1)?.data
  await waitFor(() => JSON.stringify(rosterOf(amy)) === JSON.stringify({ room, users: ['amy', 'ben'] }), 'both in the roster')
  const expected: string[] = []
  for (let n = 0; n < CHAT_CASES; n++) {
    const payload = chatPayload(rng, room, rng.pick(['amy', 'ben']))
    await publish(server.base, payload.topic, payload.data, payload.event === undefined ? {} : { event: payload.event })
    if (n % 100 === 99) {
      // A real message now and then: the history must hold these, in order, and only these.
      const text = `real message ${n}`
      await publish(server.base, `chat/room/${room}`, { from: 'amy', text })
      expected.push(`amy: ${text}`)
      await healthy(`chat case #${n} (${payload.why})`)
    }
  }
  expect(await messagesOf(room)).toEqual(expected)
  // The server's own roster is untouched: a join asks it to publish the roster again.
  const rosters = amy.messages.length
  ben.send({ type: 'publish', topic: `chat/room/${room}`, event: 'join', data: { user: 'ben' } })
  const fresh = await waitFor(() => amy.messages.slice(rosters).find((message) => message.event === 'presence'), 'a roster from the server')
  expect(fresh?.data).toEqual({ room, users: ['amy', 'ben'] })
  // And presence still works: ben leaves.
  ben.close()
  await waitFor(() => amy.messages.some((message) => message.event === 'presence' && JSON.stringify(message.data) === JSON.stringify({ room, users: ['amy'] })), 'ben to leave the roster')
  amy.close()
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

test(`${ENDPOINT_CASES} hostile claims and history reads: 4xx JSON errors, and nobody takes a held name (seed ${SEED})`, async () => {
  const rng = new Rng(SEED + 1)
  const amy = await chatter('amy', 'endpoints')
  const failures: string[] = []
  for (let n = 0; n < ENDPOINT_CASES; n++) {
    const name = rng.chance(0.3) ? 'amy' : hostileSegment(rng)
    const query = rng.pick([`?key=${hostileSegment(rng)}`, `?key=${KEYS.ben}`, '', `?key=${KEYS.amy.toUpperCase()}`, `?key=a&key=${KEYS.ben}`, `?key[]=${KEYS.ben}`, `?${hostileSegment(rng)}`])
    const room = hostileSegment(rng)
    const requests: [string, string][] = [
      ['POST', `/chat/names/${name}${query}`],
      ['GET', `/chat/rooms/${room}/messages`],
    ]
    for (const [method, path] of requests) {
      const response = await fetch(`${server.base}${path}`, { method })
      const text = await response.text()
      let code: string | undefined
      try {
        code = (JSON.parse(text) as { error?: { code?: string }; name?: string; room?: string }).error?.code
      } catch {
        code = undefined
      }
      const ok = response.status === 200 || (response.status >= 400 && response.status < 500 && code !== undefined)
      if (!ok) failures.push(`case #${n}: ${method} ${path.slice(0, 120)} → ${response.status} ${text.slice(0, 120)}`)
      // No one but amy's key ever gets amy's name while she is connected.
      if (method === 'POST' && response.status === 200 && (JSON.parse(text) as { name?: string }).name === 'amy' && !path.includes(`key=${KEYS.amy}`)) failures.push(`case #${n}: ${path} took amy's name`)
    }
    if (n % 100 === 99) await healthy(`endpoint case #${n}`)
  }
  expect(failures).toEqual([])
  expect((await fetch(`${server.base}/chat/names/amy?key=${KEYS.amy}`, { method: 'POST' })).status).toBe(200)
  amy.close()
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

/**
 * Hostile publishers and readers at the authenticated edges, generated from a seed: random tokens
 * (valid with various claims, expired, malformed, foreign), carriers (header, cookie, query, none,
 * several at once), page origins, routes (HTTP topic path, /publish one, batch and topic lists,
 * forms, WebSocket upgrades and publishes) and private flags, against a model of the rules.
 * Each request must be answered as the model says (status and code), nothing may be published
 * without the rights to every topic, and the long-lived readers (SSE and WebSocket, native topics
 * and patterns, anonymous through a public wildcard and authenticated) must receive exactly the
 * accepted events their selectors match, of the private ones only those their token covers, live
 * and on resume. HOSTILE_SEED=<n> replays another run.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { AuthPrincipal } from '../../src/auth/types'
import type { HubEvent } from '../../src/hub/event'
import { parseSelector } from '../../src/hub/topics'
import { type FakeAuthenticator, type FakeClaims, fakeAuthenticator, fakeToken } from '../edges/fake-auth'
import { SseClient, waitFor, WsClient } from '../helpers'
import { type CustomServer, startCustomServer } from '../transports/custom-app'
import { Rng, SEED } from './prng'

const CASES = 400
const PUBLIC = ['pub/**', 'users/**']
const SERVER_TOPICS = ['sys/**']
const ALLOWED_ORIGIN = 'https://ok.example'
const TOPICS = ['users/ada/x', 'users/ada/y/z', 'users/bob/x', 'users/eve/x', 'pub/a', 'pub/b/c', 'sys/clock', 'other/x']
const CLAIMS: FakeClaims[] = [
  { sub: 'ada', publish: ['users/ada/**', 'pub/**'], subscribe: ['users/ada/**'] },
  { sub: 'bob', publish: ['users/bob/**'], subscribe: ['users/bob/**'] },
  { sub: 'eve', publish: ['users/{sub}/**'], subscribe: ['users/{sub}/**', 'pub/**'] },
  { sub: 'root', publish: ['**'], subscribe: ['**'] },
  { sub: 'reader', subscribe: ['users/**'] },
]

/** A token a client might send, and what it is. */
interface Token {
  text: string
  kind: 'valid' | 'expired' | 'invalid'
}

function randomToken(rng: Rng): Token {
  switch (rng.int(0, 9)) {
    case 0:
      return { text: fakeToken({ ...rng.pick(CLAIMS), exp: Date.now() - rng.int(1, 100_000) }), kind: 'expired' }
    case 1:
      return { text: rng.pick(['fake.' + Buffer.from('{').toString('base64url'), 'fake.' + Buffer.from('{}').toString('base64url'), 'fake.' + Buffer.from('null').toString('base64url'), 'fake:{"sub":"root"}', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.', 'x'.repeat(rng.int(1, 300)), `fake.${Buffer.from(JSON.stringify({ sub: 42 })).toString('base64url')}`]), kind: 'invalid' }
    default:
      return { text: fakeToken({ ...rng.pick(CLAIMS), ...(rng.chance(0.3) && { exp: Date.now() + 3_600_000 }) }), kind: 'valid' }
  }
}

/** Where the tokens go; the first present in header > cookie > query is the one used. */
interface Carriers {
  header?: Token
  cookie?: Token
  query?: Token
}

function randomCarriers(rng: Rng): Carriers {
  const carriers: Carriers = {}
  if (rng.chance(0.45)) carriers.header = randomToken(rng)
  if (rng.chance(0.3)) carriers.cookie = randomToken(rng)
  if (rng.chance(0.3)) carriers.query = randomToken(rng)
  return carriers
}

const used = (carriers: Carriers): { token: Token; carrier: 'header' | 'cookie' | 'query' } | undefined =>
  carriers.header ? { token: carriers.header, carrier: 'header' } : carriers.cookie ? { token: carriers.cookie, carrier: 'cookie' } : carriers.query ? { token: carriers.query, carrier: 'query' } : undefined

let server: CustomServer
let auth: FakeAuthenticator
beforeAll(() => {
  auth = fakeAuthenticator({ public: PUBLIC })
  server = startCustomServer({ auth, serverTopics: SERVER_TOPICS, allowedOrigins: [ALLOWED_ORIGIN], authTimeoutMs: 60_000 })
})
afterAll(() => server.stop())

function headersFor(carriers: Carriers, origin: string | undefined, rng: Rng): Record<string, string> {
  const headers: Record<string, string> = {}
  if (carriers.header) headers.authorization = `${rng.pick(['Bearer', 'bearer', 'BEARER'])} ${carriers.header.text}`
  if (carriers.cookie) headers.cookie = rng.pick([`herald_token=${encodeURIComponent(carriers.cookie.text)}`, `theme=dark; herald_token=${encodeURIComponent(carriers.cookie.text)}; x=1`])
  if (origin !== undefined) headers.origin = origin
  return headers
}

const queryFor = (carriers: Carriers) => (carriers.query ? `access_token=${encodeURIComponent(carriers.query.text)}` : '')

/** The model: what the edge must answer before any topic is looked at, or undefined to go on. */
async function edgeVerdict(carriers: Carriers, origin: string | undefined, socket: boolean): Promise<{ refusal?: [number, string]; principal?: AuthPrincipal }> {
  const foreign = origin !== undefined && origin !== ALLOWED_ORIGIN && origin !== server.base
  const found = used(carriers)
  // Every upgrade is checked against the origin, a cookie token everywhere.
  if (foreign && (socket || found?.carrier === 'cookie')) return { refusal: [403, 'forbidden_origin'] }
  if (!found) return socket ? { principal: auth.anonymous() } : { refusal: [401, 'missing_token'] }
  if (found.token.kind === 'invalid') return { refusal: [401, 'invalid_token'] }
  if (found.token.kind === 'expired') return { refusal: [401, 'token_expired'] }
  return { principal: await auth.verify(found.token.text) }
}

interface Input {
  topic: string
  data: string
  private?: unknown
}

/** The model, after the edge: what the hub answers for these inputs. */
function hubVerdict(inputs: Input[], principal: AuthPrincipal): [number, string] | undefined {
  if (inputs.some((input) => input.private !== undefined && input.private !== null && typeof input.private !== 'boolean')) return [400, 'invalid_message']
  if (inputs.some((input) => SERVER_TOPICS.some((selector) => parseSelector(selector).matches(input.topic)) || !principal.mayPublish(input.topic))) return [403, 'forbidden_topic']
  return undefined
}

/** A long-lived reader, with what it holds and who it is. */
interface Reader {
  name: string
  selectors: string[]
  principal: AuthPrincipal
  data(): string[]
  close(): void
}

async function openReaders(): Promise<Reader[]> {
  const readers: Reader[] = []
  const as = async (claims: FakeClaims | undefined) => (claims ? auth.verify(fakeToken(claims)) : auth.anonymous())
  const specs: [string, 'sse' | 'ws', FakeClaims | undefined, string[]][] = [
    ['anonymous SSE on users/**', 'sse', undefined, ['users/**']],
    ['anonymous WS on users/** and pub/*', 'ws', undefined, ['users/**', 'pub/*']],
    ['anonymous WS on native topics', 'ws', undefined, ['users/ada/x', 'users/bob/x', 'pub/a']],
    ['ada SSE on users/**', 'sse', CLAIMS[0], ['users/**']],
    ['ada WS, natives of ada and bob, pattern of all', 'ws', CLAIMS[0], ['users/ada/x', 'users/bob/x', 'users/*/x', 'pub/**']],
    ['bob WS on users/bob/**', 'ws', CLAIMS[1], ['users/bob/**']],
    ['root SSE on **', 'sse', CLAIMS[3], ['**']],
    ['reader WS on users/** natives too', 'ws', CLAIMS[4], ['users/**', 'users/eve/x']],
  ]
  for (const [name, transport, claims, selectors] of specs) {
    const principal = await as(claims)
    const token = claims ? `access_token=${encodeURIComponent(fakeToken(claims))}&` : ''
    const topics = selectors.map((selector) => `topic=${selector}`).join('&')
    if (transport === 'sse') {
      const client = await SseClient.open(`${server.base}/events?${token}${topics}`)
      expect([name, client.status]).toEqual([name, 200])
      readers.push({ name, selectors, principal, data: () => client.messages.map((event) => event.data), close: () => client.close() })
    } else {
      const client = await WsClient.open(`${server.wsBase}/ws?${token}${topics}`)
      await client.waitFor((message) => message.type === 'subscribed', `${name} subscribed`)
      readers.push({ name, selectors, principal, data: () => client.ofType('event').map((message) => String(message.data)), close: () => client.close() })
    }
  }
  return readers
}

/** What a reader must have received of `accepted`, in order. */
function wanted(reader: Reader, accepted: HubEvent[]): string[] {
  const selectors = reader.selectors.map(parseSelector)
  return accepted.filter((event) => selectors.some((selector) => selector.matches(event.topic)) && (!event.private || reader.principal.maySee(event))).map((event) => event.data)
}

test(`${CASES} generated publishes with random tokens, carriers, origins, routes and private flags: nothing without rights, nothing private to whom may not see it (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0xa07e)
  const readers = await openReaders()
  const problems: string[] = []
  /** Accepted events, as the model reconstructs them (ids come from the answers). */
  const accepted: (HubEvent & { n: number })[] = []
  const origins = [undefined, undefined, server.base, ALLOWED_ORIGIN, 'https://evil.example', 'null']

  for (let n = 0; n < CASES; n++) {
    const carriers = randomCarriers(rng)
    const origin = rng.pick(origins)
    const privateFlag = rng.pick<unknown>([undefined, true, true, false, null, 'yes', 1])
    const inputs: Input[] = Array.from({ length: rng.int(1, 3) }, (_, i) => ({ topic: rng.pick(TOPICS), data: `c${n}.${i}`, ...(privateFlag !== undefined && { private: privateFlag }) }))
    const route = rng.pick(['topic path', 'publish one', 'publish batch', 'topic list', 'form', 'websocket'] as const)
    const label = `case ${n} (${route}, ${JSON.stringify({ header: carriers.header?.kind, cookie: carriers.cookie?.kind, query: carriers.query?.kind, origin, private: privateFlag, topics: inputs.map((input) => input.topic) })})`
    // A topic list is one item naming the topics of `inputs`: one event each, with the first's data.
    const batch = route === 'publish batch' ? inputs : route === 'topic list' ? inputs.map((input) => ({ ...input, data: (inputs[0] as Input).data })) : inputs.slice(0, 1)
    const edge = await edgeVerdict(carriers, origin, route === 'websocket')
    let expected: [number, string] | undefined = edge.refusal
    if (!expected && edge.principal) {
      if (route === 'websocket' && edge.principal.anonymous) expected = [401, 'missing_token']
      // A form sends the flag as text: only the values a form can carry.
      else expected = hubVerdict(route === 'form' ? batch.map((input) => ({ ...input, private: formFlag(input.private) })) : batch, edge.principal)
    }
    let got: [number, string | undefined]
    let ids: string[] = []
    if (route === 'websocket') {
      ;({ got, ids } = await overWebSocket(carriers, origin, batch[0] as Input, rng))
    } else {
      const headers = headersFor(carriers, origin, rng)
      const query = queryFor(carriers)
      const input = batch[0] as Input
      let response: Response
      if (route === 'topic path') {
        response = await fetch(`${server.base}/topics/${input.topic}${query ? `?${query}` : ''}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ data: input.data, ...('private' in input && { private: input.private }) }) })
      } else if (route === 'form') {
        const form = new URLSearchParams({ data: input.data })
        if ('private' in input) form.set('private', formText(input.private))
        response = await fetch(`${server.base}/topics/${input.topic}${query ? `?${query}` : ''}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
      } else {
        const body = route === 'publish one' ? batch[0] : route === 'topic list' ? { ...input, topic: batch.map((item) => item.topic) } : batch
        response = await fetch(`${server.base}/publish${query ? `?${query}` : ''}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) })
      }
      const json = (await response.json()) as { error?: { code: string }; id?: string; events?: { id: string }[] }
      got = [response.status, json.error?.code]
      ids = json.id ? [json.id] : (json.events?.map((event) => event.id) ?? [])
    }
    const want: [number, string | undefined] = expected ?? [200, undefined]
    if (got[0] !== want[0] || got[1] !== want[1]) problems.push(`${label}: got ${got.join(' ')}, expected ${want.join(' ')}`)
    if (got[0] === 200) {
      batch.forEach((input, i) => {
        const isPrivate = route === 'form' ? formFlag(input.private) === true : input.private === true
        accepted.push({ n, id: ids[i] as string, position: { ms: 0, seq: 0 }, topic: input.topic, data: input.data, json: false, time: 0, ...(isPrivate && { private: true as const }) })
      })
    }
    if (problems.length > 10) break
  }
  expect(problems).toEqual([])
  expect(server.hub.stats().published).toBe(accepted.length)

  // An ordinary event every reader matches, last: once each reader has it, it has everything before it.
  const endTopics = ['users/ada/x', 'users/bob/x', 'users/eve/x', 'pub/a']
  for (const topic of endTopics) {
    const answer = await fetch(`${server.base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${fakeToken(CLAIMS[3] as FakeClaims)}` }, body: JSON.stringify({ data: `end ${topic}` }) })
    expect(answer.status).toBe(200)
    accepted.push({ n: CASES, id: ((await answer.json()) as { id: string }).id, position: { ms: 0, seq: 0 }, topic, data: `end ${topic}`, json: false, time: 0 })
  }
  for (const reader of readers) {
    const want = wanted(reader, accepted)
    await waitFor(() => reader.data().length >= want.length, `${reader.name}: ${want.length} events`, 10_000).catch(() => {})
    expect([reader.name, reader.data()]).toEqual([reader.name, want])
  }
  // On resume from the start, each reader's principal filters the replay the same way.
  for (const reader of readers) {
    const token = reader.principal.anonymous ? '' : `access_token=${encodeURIComponent(fakeToken(CLAIMS.find((claims) => claims.sub === reader.principal.subject) as FakeClaims))}&`
    const resumed = await WsClient.open(`${server.wsBase}/ws?${token}${reader.selectors.map((selector) => `topic=${selector}`).join('&')}&lastEventId=0-0`)
    const want = wanted(reader, accepted)
    await waitFor(() => resumed.ofType('event').length >= want.length, `${reader.name} resumed`, 10_000).catch(() => {})
    expect([`${reader.name} resumed`, resumed.ofType('event').map((message) => String(message.data))]).toEqual([`${reader.name} resumed`, want])
    resumed.close()
    reader.close()
  }
}, 120_000)

/** How a form carries a flag: as text. */
function formText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value)
}

/** What a form's flag text means (body.ts's rule, restated): a checkbox or true/false, else refused. */
function formFlag(value: unknown): unknown {
  const text = formText(value).trim().toLowerCase()
  if (['on', 'true', '1'].includes(text)) return true
  if (['', 'off', 'false', '0'].includes(text)) return false
  return 'refused'
}

/** One publish over a fresh WebSocket opened with these carriers and origin: the upgrade's answer, or the publish's. */
async function overWebSocket(carriers: Carriers, origin: string | undefined, input: Input, rng: Rng): Promise<{ got: [number, string | undefined]; ids: string[] }> {
  const query = queryFor(carriers)
  const headers = headersFor(carriers, origin, rng)
  // The upgrade's refusal, as a browser would meet it (an HTTP answer before the socket opens).
  const probe = await fetch(`${server.base}/ws${query ? `?${query}` : ''}`, { headers: { ...headers, upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } }).catch(() => undefined)
  if (probe && probe.status !== 101) {
    const json = (await probe.json().catch(() => ({}))) as { error?: { code: string } }
    return { got: [probe.status, json.error?.code], ids: [] }
  }
  const ws = await WsClient.open(`${server.wsBase}/ws${query ? `?${query}` : ''}`, headers)
  try {
    const reply = await ws.request({ type: 'publish', topic: input.topic, data: input.data, ...('private' in input && { private: input.private }) })
    if (reply.type === 'published') return { got: [200, undefined], ids: [reply.id as string] }
    const status = { missing_token: 401, invalid_message: 400, forbidden_topic: 403 }[reply.code as string] ?? 0
    return { got: [status, reply.code as string], ids: [] }
  } finally {
    ws.close()
  }
}

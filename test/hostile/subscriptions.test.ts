/**
 * Hostile subscription churn, generated from a seed: WebSockets and SSE streams with random,
 * overlapping selector sets (duplicates in a message, selectors already held, topics and patterns
 * that match the same events), subscribing, unsubscribing, reconnecting, resuming, and running
 * into the per-message, per-socket and server-wide limits. A model of what each client holds
 * predicts every answer (subscribed, or which error) and, for each round of published events,
 * exactly which events each client must get: those whose topic one of its selectors matches by a
 * reference matcher written here (the regex semantics of topics.ts), each once, in publish order.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { SseClient, startServer, type TestServer, waitFor, WsClient } from '../helpers'
import { Rng, SEED } from './prng'

const ROUNDS = 40
const WS_CLIENTS = 6
const SSE_CLIENTS = 3
const EVENTS_PER_ROUND = 20
const LIMITS = { maxSubscriptionTopics: 8, maxConnectionTopics: 12, maxServerTopics: 48, wsMessageRate: 0 }
/** Every client holds it; one event on it after each round's events proves the round was delivered. */
const SENTINEL = 'z'

/** `*` is one segment, a final `**` one or more, anything else is literal. */
function referenceMatches(selector: string, topic: string): boolean {
  const parts = selector.split('/').map((segment) => (segment === '*' ? '[^/]+' : segment === '**' ? '.+' : segment.replace(/[.+]/g, '\\$&')))
  return new RegExp(`^${parts.join('/')}$`).test(topic)
}

function randomSelector(rng: Rng): string {
  if (rng.chance(0.03)) return rng.pick(['**', '*/**', 'h/**'])
  const segments = ['h', ...Array.from({ length: rng.int(1, 3) }, () => rng.pick(['a', 'b', 'c', '*']))]
  if (rng.chance(0.3)) segments.push('**')
  return segments.join('/')
}

function randomTopic(rng: Rng): string {
  return ['h', ...Array.from({ length: rng.int(1, 4) }, () => rng.pick(['a', 'b', 'c']))].join('/')
}

/** A list that often repeats itself and names what is already held. */
function randomList(rng: Rng, held: Iterable<string>): string[] {
  const list = Array.from({ length: rng.int(1, 6) }, () => randomSelector(rng))
  const heldList = [...held]
  if (heldList.length > 0 && rng.chance(0.3)) list.push(rng.pick(heldList))
  if (rng.chance(0.2)) list.push(list[0] as string)
  if (rng.chance(0.12)) list.push(...Array.from({ length: 6 }, () => randomSelector(rng)))
  return list
}

interface Published {
  id: string
  topic: string
  data: string
}

interface WsPeer {
  kind: 'ws'
  name: string
  ws: WsClient
  held: Set<string>
  /** Index in ws.messages up to which events were checked. */
  seen: number
}

interface SsePeer {
  kind: 'sse'
  name: string
  client: SseClient | undefined
  held: Set<string>
  seen: number
}

let server: TestServer
beforeAll(async () => {
  server = await startServer(LIMITS)
})
afterAll(() => server.stop())

test(`${ROUNDS} rounds of random subscription churn over ${WS_CLIENTS} WebSockets and ${SSE_CLIENTS} SSE streams (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0x5ab5)
  const failures: string[] = []
  /** How often each answer came, so a generator that stops reaching a limit is noticed. */
  const outcomes = new Map<string, number>()
  const tally = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
  const heldInAll = () => [...wsPeers, ...ssePeers].reduce((sum, peer) => sum + peer.held.size, 0)
  /** Waits for the server's count to match the model; a mismatch fails the test with the story so far. */
  const serverAgrees = async (what: string) => {
    try {
      await waitFor(() => server.hub.stats().selectors === heldInAll(), 'the count')
    } catch {
      throw new Error(`${what}: the server holds ${server.hub.stats().selectors} selectors, the model ${heldInAll()}; failures so far: ${JSON.stringify(failures)}`)
    }
  }

  const openWs = async (name: string): Promise<WsPeer> => {
    const ws = await WsClient.open(`${server.wsBase}/ws?topic=${SENTINEL}`)
    await ws.waitFor((message) => message.type === 'subscribed', `${name} subscribed to the sentinel`)
    return { kind: 'ws', name, ws, held: new Set([SENTINEL]), seen: ws.messages.length }
  }
  const wsPeers: WsPeer[] = []
  const ssePeers: SsePeer[] = Array.from({ length: SSE_CLIENTS }, (_, i) => ({ kind: 'sse', name: `sse${i}`, client: undefined, held: new Set<string>(), seen: 0 }))
  for (let i = 0; i < WS_CLIENTS; i++) wsPeers.push(await openWs(`ws${i}`))
  let lastSentinelId: string | undefined

  for (let round = 0; round < ROUNDS && failures.length < 5; round++) {
    // SSE churn: reopen some streams with new selectors (sometimes resuming), within the limits.
    for (const peer of ssePeers) {
      if (peer.client && !rng.chance(0.3)) continue
      peer.client?.close()
      peer.client = undefined
      peer.held.clear()
      await serverAgrees(`round ${round}: ${peer.name} closed`)
      const list = [SENTINEL, ...randomList(rng, [])]
      const fresh = new Set(list)
      const query = list.map((topic) => `topic=${encodeURIComponent(topic)}`).join('&')
      const resume = lastSentinelId && rng.chance(0.5) ? `&lastEventId=${lastSentinelId}` : ''
      const client = await SseClient.open(`${server.base}/events?${query}${resume}`)
      const expected = list.length > LIMITS.maxSubscriptionTopics ? 400 : heldInAll() + fresh.size > LIMITS.maxServerTopics ? 503 : 200
      tally(`sse ${client.status}`)
      if (client.status !== expected) failures.push(`round ${round}: ${peer.name} opened with [${list}] → ${client.status} ${client.raw.slice(0, 200)}, expected ${expected}`)
      if (client.status === 200) {
        peer.client = client
        peer.held = fresh
        peer.seen = 0
      }
    }

    // WebSocket churn: subscribe, unsubscribe or reconnect; the model predicts every answer.
    for (const [i, peer] of wsPeers.entries()) {
      const action = rng.next()
      if (action < 0.05 && heldInAll() < LIMITS.maxServerTopics) {
        peer.ws.close()
        peer.held.clear()
        await serverAgrees(`round ${round}: ${peer.name} closed`)
        wsPeers[i] = await openWs(peer.name)
        continue
      }
      if (action < 0.6) {
        const list = randomList(rng, peer.held)
        const fresh = new Set(list.filter((selector) => !peer.held.has(selector)))
        const message: Record<string, unknown> = { type: 'subscribe', topics: list }
        if (lastSentinelId && rng.chance(0.2)) message.lastEventId = lastSentinelId
        const reply = await peer.ws.request(message)
        const expected =
          list.length > LIMITS.maxSubscriptionTopics
            ? 'too_many_topics'
            : peer.held.size + fresh.size > LIMITS.maxConnectionTopics
              ? 'too_many_topics'
              : heldInAll() + fresh.size > LIMITS.maxServerTopics
                ? 'too_many_subscriptions'
                : 'subscribed'
        const got = reply.type === 'error' ? reply.code : reply.type
        tally(`subscribe ${got}`)
        if (got !== expected) failures.push(`round ${round}: ${peer.name} holding [${[...peer.held]}] subscribed to [${list}] → ${JSON.stringify(reply)}, expected ${expected}`)
        if (got === 'subscribed') for (const selector of fresh) peer.held.add(selector)
        continue
      }
      const gone = [...peer.held].filter((selector) => selector !== SENTINEL && rng.chance(0.5))
      gone.push(randomSelector(rng))
      const reply = await peer.ws.request({ type: 'unsubscribe', topics: gone })
      // The per-message limit holds for unsubscribe too; refused, it changes nothing.
      const expected = gone.length > LIMITS.maxSubscriptionTopics ? 'too_many_topics' : 'unsubscribed'
      const got = reply.type === 'error' ? reply.code : reply.type
      tally(`unsubscribe ${got}`)
      if (got !== expected) failures.push(`round ${round}: ${peer.name} unsubscribe [${gone}] → ${JSON.stringify(reply)}, expected ${expected}`)
      if (got === 'unsubscribed') for (const selector of gone) peer.held.delete(selector)
    }
    await serverAgrees(`round ${round}: after the churn`)

    // Publish a round of events, then the sentinel; check what each client got.
    const inputs = Array.from({ length: EVENTS_PER_ROUND }, (_, n) => ({ topic: randomTopic(rng), data: `r${round}-${n}` }))
    inputs.push({ topic: SENTINEL, data: `z${round}` })
    const response = await fetch(`${server.base}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(inputs) })
    const { events } = (await response.json()) as { events: { id: string; topic: string }[] }
    const published: Published[] = events.map((event, n) => ({ ...event, data: (inputs[n] as { data: string }).data }))
    lastSentinelId = published.at(-1)?.id

    for (const peer of [...wsPeers, ...ssePeers]) {
      const expected = published.filter((event) => [...peer.held].some((selector) => referenceMatches(selector, event.topic))).map((event) => event.data)
      let got: string[]
      if (peer.kind === 'ws') {
        const sentinel = await peer.ws.waitFor((message) => message.type === 'event' && message.data === `z${round}`, `${peer.name}: sentinel of round ${round}`)
        const end = peer.ws.messages.indexOf(sentinel) + 1
        got = peer.ws.messages.slice(peer.seen, end).filter((message) => message.type === 'event').map((message) => String(message.data))
        peer.seen = end
      } else {
        const client = peer.client
        if (!client) continue
        await waitFor(() => client.messages.some((message) => message.data === `z${round}`), `${peer.name}: sentinel of round ${round}`)
        const end = client.messages.findIndex((message) => message.data === `z${round}`) + 1
        got = client.messages.slice(peer.seen, end).map((message) => message.data)
        peer.seen = end
      }
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        failures.push(`round ${round}: ${peer.name} holding [${[...peer.held]}] got [${got}], expected [${expected}] of ${JSON.stringify(published.map((event) => event.topic))}`)
      }
    }
  }

  for (const peer of wsPeers) peer.ws.close()
  for (const peer of ssePeers) peer.client?.close()
  expect(failures).toEqual([])
  const expectedOutcomes = ['sse 200', 'sse 400', 'sse 503', 'subscribe subscribed', 'subscribe too_many_topics', 'subscribe too_many_subscriptions', 'unsubscribe unsubscribed']
  expect({ missing: expectedOutcomes.filter((outcome) => !outcomes.has(outcome)), answers: Object.fromEntries(outcomes) }).toMatchObject({ missing: [] })
  await waitFor(() => server.hub.stats().selectors === 0 && server.hub.stats().subscribers === 0, 'every subscription to be released')
}, 60_000)

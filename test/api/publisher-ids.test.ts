/**
 * Issue 8, part 2: one publish with a far-future id used to poison every id after it (the next id
 * was one the server's own Last-Event-ID parser refused). Publisher ids are now bounded by
 * --max-id-skew, and every id the server issues is one a client can resume from.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { MemoryBroker } from '../../src/broker/memory'
import { DEFAULTS, parseCommandLine } from '../../src/config'
import { MemoryHistory } from '../../src/history/memory'
import { Hub } from '../../src/hub/hub'
import { DEFAULT_MAX_ID_SKEW_MS, parseEventId } from '../../src/hub/id'
import { publish, SseClient, startServer, type TestServer, waitFor, WsClient } from '../helpers'

const MAX = Number.MAX_SAFE_INTEGER
let server: TestServer
beforeAll(async () => {
  server = await startServer({ feedDb: ':memory:' })
})
afterAll(() => server.stop())

async function post(path: string, body: unknown): Promise<{ status: number; json: { id?: string; error?: { code: string; message: string } } }> {
  const response = await fetch(`${server.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, json: (await response.json()) as { id?: string; error?: { code: string; message: string } } }
}

/** Resumes over SSE from `id` on `topic`; resolves with the replayed events (or the reset). */
async function resumeSse(topic: string, id: string, count: number): Promise<{ id?: string; event: string; data: string }[]> {
  const sse = await SseClient.open(`${server.base}/events?topic=${topic}`, { 'last-event-id': id })
  expect(sse.status).toBe(200)
  const messages = count > 0 ? await sse.waitForMessages(count) : (await waitFor(() => sse.raw.startsWith('retry:'), 'the stream to open'), sse.messages)
  sse.close()
  return messages
}

async function resumeWs(topic: string, id: string, count: number): Promise<Record<string, unknown>[]> {
  const ws = await WsClient.open(`${server.wsBase}/ws`)
  const reply = await ws.request({ type: 'subscribe', topics: [topic], lastEventId: id })
  expect(reply.type).toBe('subscribed')
  await waitFor(() => ws.ofType('event').length + ws.ofType('reset').length >= count, `${count} replayed events`)
  const messages = ws.messages.filter((message) => message.type === 'event' || message.type === 'reset' || message.type === 'error')
  ws.close()
  return messages
}

test('the publish of issue 8 is refused with invalid_id naming the bound, and ids stay resumable', async () => {
  const before = await publish(server.base, 'ids/a', 'before')
  const refused = await post('/topics/ids/a', { data: 'x', id: '999999999999999-999999999999999' })
  expect(refused.status).toBe(400)
  expect(refused.json.error?.code).toBe('invalid_id')
  expect(refused.json.error?.message).toContain('at most 60000 ms')
  expect(refused.json.error?.message).toContain('--max-id-skew')
  expect(server.hub.head).toBe(before.id)
  const after = await publish(server.base, 'ids/a', 'after')
  expect(() => parseEventId(after.id, 'invalid_last_event_id')).not.toThrow()
  expect((await resumeSse('ids/a', before.id, 1)).map(({ id, data }) => ({ id, data }))).toEqual([{ id: after.id, data: 'after' }])
  expect((await resumeSse('ids/a', after.id, 0)).length).toBe(0)
})

test('a batch carrying one far-future id publishes nothing (over HTTP and WebSocket)', async () => {
  const head = server.hub.head
  const batch = await post('/publish', [
    { topic: 'ids/b', data: 'fine' },
    { topic: 'ids/b', data: 'poison', id: `${Date.now() + 3_600_000}-0` },
  ])
  expect(batch.status).toBe(400)
  expect(batch.json.error?.code).toBe('invalid_id')
  const ws = await WsClient.open(`${server.wsBase}/ws`)
  const reply = await ws.request({ type: 'publish', topic: 'ids/b', data: 'x', id: '999999999999999-999999999999999' })
  expect(reply).toMatchObject({ type: 'error', code: 'invalid_id' })
  ws.close()
  expect(server.hub.head).toBe(head)
})

test('the largest id a publisher may set is followed by ids every client can resume from (SSE and WebSocket)', async () => {
  const topic = 'ids/edge'
  const issued: { id: string; data: string }[] = []
  const first = await publish(server.base, topic, 'generated 0')
  issued.push({ id: first.id, data: 'generated 0' })
  // Near the bound ahead, with the largest sequence: the next generated id moves to the next ms.
  const edgeMs = Date.now() + 50_000
  for (const [data, id] of [
    ['edge', `${edgeMs}-${MAX - 1}`],
    ['edge max', `${edgeMs}-${MAX}`],
    ['generated 1', undefined],
    ['generated 2', undefined],
  ] as const) {
    const published = await publish(server.base, topic, data, id ? { id } : {})
    if (id) expect(published.id).toBe(id)
    issued.push({ id: published.id, data })
  }
  expect(issued[3]?.id).toBe(`${edgeMs + 1}-0`)
  // A resume from every id the server issued replays exactly what came after it.
  for (const [index, { id }] of issued.entries()) {
    const expected = issued.slice(index + 1)
    expect(() => parseEventId(id, 'invalid_last_event_id')).not.toThrow()
    const sse = await resumeSse(topic, id, expected.length)
    expect(sse.map(({ id, event, data }) => ({ id, event, data }))).toEqual(expected.map(({ id, data }) => ({ id, event: 'message', data })))
    const ws = await resumeWs(topic, id, expected.length)
    expect(ws.map(({ id, data }) => ({ id, data }))).toEqual(expected)
  }
  // The head the feed page embeds in its sse-connect URL is one of them, and parses.
  const page = await (await fetch(`${server.base}/feed`)).text()
  const embedded = /sse-connect="[^"]*lastEventId=([^"&]+)"/.exec(page)?.[1]
  expect(embedded).toBe(server.hub.head)
  expect(() => parseEventId(embedded as string, 'invalid_last_event_id')).not.toThrow()
})

test('--max-id-skew sets the bound', async () => {
  const strict = await startServer({ maxIdSkewMs: 100 })
  try {
    const far = await fetch(`${strict.base}/topics/ids/skew`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: 'x', id: `${Date.now() + 30_000}-0` }) })
    expect(far.status).toBe(400)
    expect(await far.json()).toMatchObject({ error: { code: 'invalid_id', message: expect.stringContaining('at most 100 ms') } })
    // An id older than the server's start is not newer than its head (409); one after the start but
    // further behind the clock than the bound is refused by the bound.
    await Bun.sleep(300)
    const behind = await fetch(`${strict.base}/topics/ids/skew`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: 'x', id: `${Date.now() - 200}-0` }) })
    expect(await behind.json()).toMatchObject({ error: { code: 'invalid_id', message: expect.stringContaining('behind') } })
    const id = `${Date.now()}-7`
    expect((await publish(strict.base, 'ids/skew', 'x', { id })).id).toBe(id)
  } finally {
    await strict.stop()
  }
})

test('--max-id-skew is a duration, 60s by default, at most 24h', () => {
  expect(DEFAULTS.maxIdSkewMs).toBe(DEFAULT_MAX_ID_SKEW_MS)
  expect(DEFAULT_MAX_ID_SKEW_MS).toBe(60_000)
  expect(parseCommandLine(['--max-id-skew', '5s'], {})).toMatchObject({ options: { maxIdSkewMs: 5000 } })
  expect(parseCommandLine([], { HERALD_MAX_ID_SKEW: '0' })).toMatchObject({ options: { maxIdSkewMs: 0 } })
  expect(() => parseCommandLine(['--max-id-skew', '25h'], {})).toThrow('--max-id-skew')
})

test('the hub applies the bound at its exact edge, and a refused batch leaves the generator where it was', async () => {
  const NOW = 1_764_135_000_000
  const history = new MemoryHistory({ perTopic: 10, maxTopics: 10, startedAt: { ms: NOW, seq: 0 } })
  const hub = new Hub({ history, broker: new MemoryBroker(history, { now: () => NOW, maxIdSkewMs: 1000 }), maxDataBytes: 0, queueLimit: 10, maxReplay: 100, maxSelectors: 10 })
  await hub.publish([{ topic: 't', data: 'first' }])
  await expect(hub.publish([{ topic: 't', data: 'a' }, { topic: 't', data: 'b', id: `${NOW + 1001}-0` }])).rejects.toMatchObject({ code: 'invalid_id' })
  // The store started at NOW-0 (its head before any publish), so the first id is NOW-1.
  expect(hub.head).toBe(`${NOW}-1`)
  const [edge] = await hub.publish([{ topic: 't', data: 'edge', id: `${NOW + 1000}-0` }])
  expect(edge?.id).toBe(`${NOW + 1000}-0`)
  const [next] = await hub.publish([{ topic: 't', data: 'next' }])
  expect(next?.id).toBe(`${NOW + 1000}-1`)
  await hub.close()
})

/**
 * Slow consumers: a subscriber that stops reading is cut (and counted) without holding up the
 * publisher or anyone else, the server's buffers stay bounded, and the cut client resumes from its
 * last id without losing anything.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { publish, SseClient, startServer, type TestServer, waitFor, WsClient, type WsMessage } from '../helpers'
import { parseSse, RawClient } from '../raw'
import { type BunWebSocket, fetchStats } from '../stats'

const QUEUE = 64
const BACKPRESSURE = 1024 * 1024
const EVENTS = 1000
/** Large enough that 1,000 of them overflow the kernel's socket buffers many times over. */
const payload = (i: number) => `${i}:${'x'.repeat(8000)}`

let server: TestServer
beforeAll(async () => {
  server = await startServer({ queueSize: QUEUE, wsBackpressureBytes: BACKPRESSURE, historySize: 5000, keepAliveMs: 60_000 })
})
afterAll(() => server.stop())

const stats = () => fetchStats(server.base)

/** Publishes EVENTS large events over HTTP, sampling /stats every 50; returns the ids and the largest queue total seen. */
async function publishMany(topic: string): Promise<{ ids: string[]; maxQueued: number }> {
  const ids: string[] = []
  let maxQueued = 0
  for (let i = 0; i < EVENTS; i++) {
    ids.push((await publish(server.base, topic, payload(i))).id)
    if (i % 50 === 0) maxQueued = Math.max(maxQueued, (await stats()).queued)
  }
  return { ids, maxQueued }
}

test('a stalled SSE reader is cut with an overflow notice, others get everything, and it resumes without a gap', async () => {
  const before = await stats()
  const stalled = await RawClient.connect(server.base)
  stalled.write('GET /events?topic=slow/sse HTTP/1.1\r\nHost: herald.test\r\nAccept: text/event-stream\r\n\r\n')
  await stalled.waitFor((client) => client.text().includes('retry:'), 'the stream to open')
  stalled.pause()
  const fast = await SseClient.open(`${server.base}/events?topic=slow/sse`)
  const ws = await WsClient.open(`${server.wsBase}/ws?topic=slow/sse`)
  await ws.waitFor((message) => message.type === 'subscribed', 'subscribed')
  await waitFor(async () => (await stats()).subscriptions === before.subscriptions + 2, 'both SSE subscriptions')
  const rssBefore = (await stats()).memory.rss

  const { ids, maxQueued } = await publishMany('slow/sse')

  // Everyone else got every event, in order.
  await fast.waitForMessages(EVENTS, 20_000)
  expect(fast.messages.map((m) => m.id)).toEqual(ids)
  await waitFor(() => ws.ofType('event').length >= EVENTS, 'the WebSocket subscriber to get every event', 20_000)
  expect(ws.ofType('event').map((m) => m.id)).toEqual(ids)
  // The stalled one was cut and counted; no queue ever held more than its limit.
  const after = await stats()
  expect(after.slowConsumers.sse).toBe(before.slowConsumers.sse + 1)
  expect(after.subscriptions).toBe(before.subscriptions + 1)
  expect(maxQueued).toBeLessThanOrEqual(2 * QUEUE)
  // 1,000 × 8 KB went to three subscribers; a server that buffered for the stalled one would grow by
  // its whole backlog. The bound is loose (GC timing), the queue bound above is the exact one.
  expect(after.memory.rss - rssBefore).toBeLessThan(256 * 1024 * 1024)

  // Reading again, it finds a prefix of the events, then `event: overflow` without an id.
  stalled.resume()
  await stalled.waitFor((client) => client.response()?.complete === true, 'the cut stream to end', 10_000)
  const events = parseSse(stalled.response()?.body ?? '').filter((event) => !event.comment)
  const notice = events.at(-1)
  expect(notice).toEqual({ event: 'overflow', data: '{"reason":"overflow"}' })
  // Events only, not the opening block (an id without data: where the stream started).
  const seen = events.filter((event) => event.id !== undefined && event.event === undefined && event.data !== '')
  expect(seen.length).toBeGreaterThan(0)
  expect(seen.length).toBeLessThan(EVENTS)
  expect(seen.map((event) => event.id)).toEqual(ids.slice(0, seen.length))
  expect(seen.map((event) => event.data)).toEqual(ids.slice(0, seen.length).map((_, i) => payload(i)))
  stalled.destroy()

  // Resuming from its last id, it gets exactly the rest.
  const resumed = await SseClient.open(`${server.base}/events?topic=slow/sse`, { 'last-event-id': seen.at(-1)?.id as string })
  await resumed.waitForMessages(EVENTS - seen.length, 20_000)
  expect(resumed.messages.map((m) => m.event)).not.toContain('reset')
  expect(resumed.messages.map((m) => m.id)).toEqual(ids.slice(seen.length))
  expect(resumed.messages.at(-1)?.data).toBe(payload(EVENTS - 1))
  for (const client of [fast, resumed]) client.close()
  ws.close()
  await waitFor(async () => (await stats()).subscriptions === before.subscriptions, 'every subscription to end')
})

test('a stalled WebSocket reader is closed by backpressure and counted; others get everything; it resumes without a gap', async () => {
  const before = await stats()
  const stalled = new WebSocket(`${server.wsBase}/ws?topic=slow/ws`) as BunWebSocket
  const received: WsMessage[] = []
  let closeCode: number | undefined
  stalled.addEventListener('message', (event) => received.push(JSON.parse(String(event.data)) as WsMessage))
  stalled.addEventListener('close', (event) => (closeCode = event.code))
  await waitFor(() => received.some((message) => message.type === 'subscribed'), 'the stalled socket to subscribe')
  stalled.pause()
  const fast = await WsClient.open(`${server.wsBase}/ws?topic=slow/ws`)
  await fast.waitFor((message) => message.type === 'subscribed', 'subscribed')

  const { ids } = await publishMany('slow/ws')

  await waitFor(() => fast.ofType('event').length >= EVENTS, 'the fast WebSocket to get every event', 20_000)
  expect(fast.ofType('event').map((m) => m.id)).toEqual(ids)
  await waitFor(async () => (await stats()).slowConsumers.ws === before.slowConsumers.ws + 1, 'the stalled socket to be counted as cut')
  expect((await stats()).websockets).toBe(before.websockets + 1)

  // Reading again, it gets what the kernel held, then the abnormal close.
  stalled.resume()
  await waitFor(() => closeCode !== undefined, 'the stalled socket to see its close')
  expect(closeCode).toBe(1006)
  const seen = received.filter((message) => message.type === 'event')
  expect(seen.length).toBeLessThan(EVENTS)
  expect(seen.map((m) => m.id)).toEqual(ids.slice(0, seen.length))

  // The rest (several MB, more than the backpressure limit) is replayed as the socket drains.
  const resumed = await WsClient.open(`${server.wsBase}/ws`)
  resumed.send({ type: 'subscribe', topics: ['slow/ws'], lastEventId: seen.at(-1)?.id ?? '0-0' })
  await waitFor(() => resumed.ofType('event').length >= EVENTS - seen.length, 'the replay', 20_000)
  expect(resumed.ofType('reset')).toEqual([])
  expect(resumed.ofType('event').map((m) => m.id)).toEqual(ids.slice(seen.length))
  // And it is live afterwards.
  const { id } = await publish(server.base, 'slow/ws', 'live again')
  await resumed.waitFor((message) => message.id === id, 'a live event after the replay')
  fast.close()
  resumed.close()
  await waitFor(async () => (await stats()).websockets === before.websockets, 'every socket to close')
  expect((await stats()).slowConsumers.ws).toBe(before.slowConsumers.ws + 1)
})

test('a WebSocket resuming far back (more than the kernel and Bun buffers hold) gets the replay, then live events, in order', async () => {
  // 4,000 × 8 KB = 32 MB: past loopback's socket buffers and 32 times the backpressure limit.
  const stored = await server.hub.publish(Array.from({ length: 4000 }, (_, i) => ({ topic: 'slow/replay', data: payload(i) })))
  const ids = stored.map((event) => event.id)
  const client = await WsClient.open(`${server.wsBase}/ws`)
  client.send({ type: 'subscribe', topics: ['slow/replay'], lastEventId: ids[0] })
  // Publish while the replay is being paced out.
  for (let i = 0; i < 20; i++) ids.push((await publish(server.base, 'slow/replay', `live ${i}`)).id)
  await waitFor(() => client.ofType('event').length >= ids.length - 1 || client.closeCode !== undefined, 'replay and live events', 20_000)
  await Bun.sleep(50)
  expect(client.closeCode).toBeUndefined()
  expect(client.ofType('event').map((m) => m.id)).toEqual(ids.slice(1))
  client.close()
})

/**
 * A store that answers later, over the wire: a failed append is `503 store_unavailable` over HTTP
 * and an `error` over WebSocket, and nobody receives it; overlapping publishes arrive in id order
 * at SSE and WebSocket subscribers alike.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { MemoryHistory } from '../../src/history/memory'
import { FaultyStore } from '../broker/faulty-store'
import { Rng } from '../hostile/prng'
import { SseClient, waitFor, WsClient } from '../helpers'
import { type CustomServer, startCustomServer } from './custom-app'

const store = new FaultyStore(new MemoryHistory({ perTopic: 1000, maxTopics: 100, startedAt: { ms: 0, seq: 0 } }))
let server: CustomServer
beforeAll(() => {
  server = startCustomServer({ history: store })
})
afterAll(() => server.stop())

const post = (topic: string, data: string) => fetch(`${server.base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data }) })

test('a failed append is 503 store_unavailable over HTTP and an error over WebSocket; no subscriber gets it; the next publish works', async () => {
  const sse = await SseClient.open(`${server.base}/events?topic=fail/t`)
  const ws = await WsClient.open(`${server.wsBase}/ws?topic=fail/t`)
  await ws.waitFor((m) => m.type === 'subscribed', 'subscribed')
  store.faults.before = () => Bun.sleep(2).then(() => Promise.reject(new Error('volume gone')))
  const refused = await post('fail/t', 'lost')
  expect(refused.status).toBe(503)
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('store_unavailable')
  expect(await ws.request({ type: 'publish', topic: 'fail/t', data: 'lost too' })).toMatchObject({ type: 'error', code: 'store_unavailable' })
  store.faults.before = () => Bun.sleep(2)
  const kept = await post('fail/t', 'kept')
  expect(kept.status).toBe(200)
  const { id } = (await kept.json()) as { id: string }
  await sse.waitForMessages(1)
  await ws.waitFor((m) => m.type === 'event', 'the kept event')
  // Both got the kept event and nothing before it.
  expect(sse.messages.map((event) => [event.id, event.data])).toEqual([[id, 'kept']])
  expect(ws.ofType('event').map((m) => [m.id, m.data])).toEqual([[id, 'kept']])
  store.faults.before = undefined
  sse.close()
  ws.close()
})

test('overlapping publishes with random store delays arrive in id order at SSE and WebSocket subscribers', async () => {
  const rng = new Rng(0x0dd)
  const sse = await SseClient.open(`${server.base}/events?topic=order/*`)
  const ws = await WsClient.open(`${server.wsBase}/ws?topic=order/a&topic=order/*`)
  await ws.waitFor((m) => m.type === 'subscribed', 'subscribed')
  store.faults.before = () => (rng.chance(0.3) ? undefined : Bun.sleep(rng.int(0, 3)))
  const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => post(i % 2 ? 'order/a' : 'order/b', `${i}`)))
  const ids = await Promise.all(responses.map(async (response) => ((await response.json()) as { id: string }).id))
  store.faults.before = undefined
  const sorted = [...ids].sort((x, y) => {
    const [xm, xs] = x.split('-').map(Number) as [number, number]
    const [ym, ys] = y.split('-').map(Number) as [number, number]
    return xm - ym || xs - ys
  })
  await sse.waitForMessages(40)
  await waitFor(() => ws.ofType('event').length >= 40, '40 WebSocket events')
  expect(sse.messages.map((event) => event.id)).toEqual(sorted)
  expect(ws.ofType('event').map((m) => m.id)).toEqual(sorted)
  sse.close()
  ws.close()
})

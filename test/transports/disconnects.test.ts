/**
 * Abrupt and half-open disconnects, thousands of them, while events flow: afterwards /stats shows
 * no subscriber, subscription, socket, queued delivery, abort listener or timer left behind.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startServer, type TestServer, waitFor } from '../helpers'
import { RawClient } from '../raw'
import { type BunWebSocket, fetchStats, type Stats } from '../stats'

const CYCLES = 3000
const CONCURRENCY = 50

let server: TestServer
beforeAll(async () => {
  // A short keep-alive: the shared timer must stop itself soon after the last stream ends.
  server = await startServer({ keepAliveMs: 50, historySize: 100 })
})
afterAll(() => server.stop())

const stats = () => fetchStats(server.base)

const request = (query: string, extra = '') => `GET /events?${query} HTTP/1.1\r\nHost: herald.test\r\n${extra}\r\n`

/** One way for a client to vanish; each resolves once the client is gone. */
const cycles: ((i: number) => Promise<void>)[] = [
  // SSE: destroyed right after the stream opened.
  async (i) => {
    const client = await RawClient.connect(server.base)
    client.write(request(`topic=churn/${i % 10}`))
    await client.waitFor((c) => c.text().includes('retry:'), 'stream open')
    client.destroy()
  },
  // SSE: half-closed (FIN) while streaming, then destroyed.
  async (i) => {
    const client = await RawClient.connect(server.base)
    client.write(request(`topic=churn/*&topic=other/${i}`))
    await client.waitFor((c) => c.text().includes('retry:'), 'stream open')
    client.end()
    client.destroy()
  },
  // SSE: destroyed mid-stream, after some events arrived.
  async (i) => {
    const client = await RawClient.connect(server.base)
    client.write(request(`topic=churn/${i % 10}&topic=churn/**`))
    await client.waitFor((c) => c.text().includes('\nid: ') || c.closed, 'an event', 10_000)
    client.destroy()
  },
  // SSE: the request never finishes (slowloris-style), then the socket goes.
  async (i) => {
    const client = await RawClient.connect(server.base)
    client.write(`GET /events?topic=churn/${i % 10} HTTP/1.1\r\nHost: herald`)
    await Bun.sleep(1)
    client.destroy()
  },
  // SSE: a resume, destroyed before the answer could be read.
  async (i) => {
    const client = await RawClient.connect(server.base)
    client.write(request(`topic=churn/${i % 10}`, 'Last-Event-ID: 1-0\r\n'))
    client.destroy()
  },
  // WebSocket: subscribed (topic and pattern, with a resume), then terminated without a close frame.
  async (i) => {
    const socket = new WebSocket(`${server.wsBase}/ws`)
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true })
      socket.addEventListener('error', () => reject(new Error('ws open failed')), { once: true })
    })
    socket.send(JSON.stringify({ type: 'subscribe', topics: [`churn/${i % 10}`, 'churn/**'], lastEventId: '1-0' }))
    if (i % 2 === 0) await new Promise((resolve) => socket.addEventListener('message', resolve, { once: true }))
    // No close frame: the server sees 1006.
    ;(socket as BunWebSocket).terminate()
  },
]

test(`${CYCLES} abrupt connect/disconnect cycles while publishing leave nothing behind`, async () => {
  const base = await stats()
  let publishing = true
  const publisher = (async () => {
    for (let n = 0; publishing; n++) {
      await server.hub.publish([{ topic: `churn/${n % 10}`, data: `event ${n}` }])
      await Bun.sleep(1)
    }
  })()
  let next = 0
  const failures: string[] = []
  const worker = async () => {
    while (next < CYCLES) {
      const i = next++
      await (cycles[i % cycles.length] as (i: number) => Promise<void>)(i).catch((error: Error) => failures.push(`${i}: ${error.message}`))
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  publishing = false
  await publisher
  expect(failures).toEqual([])

  const settled = (await waitFor(
    async () => {
      const now = await stats()
      return now.subscribers === 0 && now.subscriptions === 0 && now.websockets === 0 && now.gauges.sseKeepAliveTimers === 0 ? now : undefined
    },
    'every disconnected client to be cleaned up',
    10_000,
  )) as Stats
  expect(settled.queued).toBe(0)
  expect(settled.gauges).toEqual({ sseAbortListeners: 0, sseKeepAliveTimers: 0, wsNativeTopics: 0 })
  expect(settled.published).toBeGreaterThan(base.published)
  // Nobody was too slow: these clients vanished, they were not cut.
  expect(settled.slowConsumers).toEqual(base.slowConsumers)
  // The server still serves.
  expect((await fetch(`${server.base}/healthz`)).status).toBe(200)
}, 60_000)

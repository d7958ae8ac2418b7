/** Limits with clear errors: concurrent connections (503) and the WebSocket message rate (`rate_limited`). */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SseClient, startServer, type TestServer, waitFor, WsClient } from './helpers'
import { fetchStats } from './stats'

describe('--max-connections', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ maxConnections: 3 })
  })
  afterAll(() => server.stop())

  test('SSE streams and WebSockets share the limit; past it both get a JSON 503, and a freed place is usable again', async () => {
    const sse1 = await SseClient.open(`${server.base}/events?topic=limits/a`)
    const sse2 = await SseClient.open(`${server.base}/events?topic=limits/b`)
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    await waitFor(async () => (await fetchStats(server.base)).connections === 3, 'three connections counted')

    const refused = await fetch(`${server.base}/events?topic=limits/c`)
    expect(refused.status).toBe(503)
    expect(await refused.json()).toEqual({ error: { code: 'too_many_connections', message: 'Herald is at its limit of 3 connections; try again later' } })
    const upgrade = await fetch(`${server.base}/ws`, { headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } })
    expect(upgrade.status).toBe(503)
    expect(((await upgrade.json()) as { error: { code: string } }).error.code).toBe('too_many_connections')
    // Publishing is not a subscriber connection: it still works at the limit.
    const published = await fetch(`${server.base}/topics/limits/a`, { method: 'POST', body: 'still publishing', headers: { 'content-type': 'text/plain' } })
    expect(published.status).toBe(200)
    await sse1.waitForMessages(1)

    ws.close()
    await waitFor(async () => (await fetchStats(server.base)).connections === 2, 'the closed socket to free its place')
    const again = await SseClient.open(`${server.base}/events?topic=limits/c`)
    expect(again.status).toBe(200)
    sse1.close()
    sse2.close()
    again.close()
    await waitFor(async () => (await fetchStats(server.base)).connections === 0, 'every place to be freed')
  })
})

describe('--ws-message-rate', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ wsMessageRate: 20 })
  })
  afterAll(() => server.stop())

  test('past the rate a message gets rate_limited (with its ref) and is not acted on; the connection stays usable', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    for (let i = 0; i < 60; i++) ws.send({ type: 'ping', ref: i })
    await waitFor(() => ws.messages.length >= 60, 'an answer to every message')
    const pongs = ws.ofType('pong')
    const limited = ws.ofType('error')
    expect(pongs.length).toBeGreaterThanOrEqual(20)
    expect(pongs.length).toBeLessThan(30)
    expect(limited.length).toBe(60 - pongs.length)
    expect(limited[0]).toMatchObject({ code: 'rate_limited' })
    expect(new Set([...pongs, ...limited].map((m) => m.ref)).size).toBe(60)
    // A refused publish publishes nothing.
    for (let i = 0; i < 40; i++) ws.send({ type: 'publish', topic: 'limits/flood', data: i, ref: `p${i}` })
    await waitFor(() => ws.messages.length >= 100, 'answers to the publishes')
    const published = ws.ofType('published').length
    expect(published).toBeLessThan(40)
    expect((await fetchStats(server.base)).published).toBe(published)
    // After a pause the bucket has refilled.
    await Bun.sleep(1100)
    expect((await ws.request({ type: 'ping' })).type).toBe('pong')
    ws.close()
  })
})

/**
 * The WebSocket native fan-out (transports/ws-native.ts): one registry subscriber that turns each
 * event into one `server.publish`, for exactly the sockets live on the topic.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Glob } from 'bun'
import { fetchStats } from '../stats'
import { publish, startServer, type TestServer, waitFor, WsClient } from '../helpers'

let server: TestServer
beforeAll(async () => {
  server = await startServer({ wsBackpressureBytes: 64 * 1024 })
})
afterAll(() => server.stop())

test('Bun-native publishing happens in one place, the registry subscriber; nothing else delivers beside the registry', async () => {
  const callers: string[] = []
  for await (const file of new Glob('src/**/*.ts').scan('.')) {
    const source = await Bun.file(file).text()
    if (/\.publish\(\s*topic\b|server\.publish\(/.test(source) && file !== 'src/transports/ws-native.ts') callers.push(file)
    if (/addFanout|fanouts/.test(source)) callers.push(`${file} (fan-out beside the registry)`)
  }
  expect(callers).toEqual([])
})

test('the fan-out holds a topic while a live socket does, and lets go with the last one', async () => {
  const topics = async () => (await fetchStats(server.base)).gauges.wsNativeTopics
  await waitFor(async () => (await topics()) === 0, 'earlier sockets to go')
  const a = await WsClient.open(`${server.wsBase}/ws?topic=native/a&topic=native/b`)
  const b = await WsClient.open(`${server.wsBase}/ws?topic=native/a`)
  await waitFor(() => a.ofType('subscribed').length + b.ofType('subscribed').length === 2, 'both subscribed')
  expect(await topics()).toBe(2)
  // Subscribers counts clients; the fan-out is Herald's own.
  expect((await fetchStats(server.base)).subscribers).toBe(0)
  await a.request({ type: 'unsubscribe', topics: ['native/a'] })
  await publish(server.base, 'native/a', 'to b')
  await waitFor(() => b.ofType('event').length === 1, 'b to get it')
  expect(a.ofType('event')).toEqual([])
  expect(await topics()).toBe(2)
  b.close()
  await waitFor(async () => (await topics()) === 1, 'native/a to be let go')
  a.close()
  await waitFor(async () => (await topics()) === 0, 'native/b to be let go')
})

test('a socket catching up joins the native fan-out only once its replay is sent: replay, then live, no gap, no duplicate', async () => {
  const payload = 'x'.repeat(2000)
  const stored = await server.hub.publish(Array.from({ length: 300 }, (_, i) => ({ topic: 'native/replay', data: `${i} ${payload}` })))
  const live = await WsClient.open(`${server.wsBase}/ws?topic=native/replay`)
  await live.waitFor((m) => m.type === 'subscribed', 'the live socket')
  const resuming = await WsClient.open(`${server.wsBase}/ws`)
  // 600 KB to replay, paced by the drain handler (the buffer allows 16 KB at once): live events are published meanwhile.
  resuming.send({ type: 'subscribe', topics: ['native/replay', 'native/*'], lastEventId: (stored[0] as { id: string }).id })
  const during: string[] = []
  for (let i = 0; i < 20; i++) during.push((await publish(server.base, 'native/replay', `live ${i}`)).id)
  const expected = [...stored.slice(1).map((event) => event.id), ...during]
  await waitFor(() => resuming.ofType('event').length >= expected.length, 'the replay and the live events', 15_000)
  expect(resuming.ofType('event').map((m) => m.id)).toEqual(expected)
  expect(live.ofType('event').map((m) => m.id)).toEqual(during)
  const [last] = [await publish(server.base, 'native/replay', 'after')]
  await waitFor(() => resuming.ofType('event').length === expected.length + 1, 'the event after')
  expect(resuming.ofType('event').at(-1)?.id).toBe(last?.id as string)
  live.close()
  resuming.close()
})

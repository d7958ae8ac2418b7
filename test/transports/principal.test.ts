/**
 * Principals over the wire: the transports find the request's token (here a fake authenticator's,
 * in `?access_token=`), the hub decides. A subscriber whose wildcard is wider than its rights gets
 * every ordinary event it matches but only the private events it may see, over SSE and WebSocket,
 * live and on resume; every WebSocket shares Bun's native fan-out, and a private event on a native
 * topic goes only to the members that may see it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { fakeAuthenticator, fakeToken } from '../edges/fake-auth'
import { SseClient, waitFor, WsClient } from '../helpers'
import { type CustomServer, startCustomServer } from './custom-app'

/** ada: publishes and sees privately under users/ada/; reads users/** (public) and room/**. */
const ADA = fakeToken({ sub: 'ada', publish: ['users/ada/**', 'room/**'], subscribe: ['users/ada/**', 'room/**'] })
/** A publisher that may write anywhere but subscribe to nothing. */
const WRITER = fakeToken({ sub: 'writer', publish: ['**'] })

let server: CustomServer
beforeAll(() => {
  server = startCustomServer({ auth: fakeAuthenticator({ public: ['users/**', 'room/**'] }) })
})
afterAll(() => server.stop())

const as = (token: string | undefined) => (token ? `access_token=${encodeURIComponent(token)}` : '')

async function publishBatch(items: { topic: string; data: string; private?: boolean }[], token = WRITER): Promise<Response> {
  return fetch(`${server.base}/publish`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(items) })
}

async function publishAll(items: { topic: string; data: string; private?: boolean }[]): Promise<{ id: string; topic: string }[]> {
  const response = await publishBatch(items)
  expect(response.status).toBe(200)
  return ((await response.json()) as { events: { id: string; topic: string }[] }).events
}

/** Two users' private events, and one ordinary event everyone on users/** may read. */
const users = (tag: string) => [
  { topic: 'users/ada/inbox', data: `ada ${tag}`, private: true },
  { topic: 'users/bob/inbox', data: `bob ${tag}`, private: true },
  { topic: 'users/ada/notes/x', data: `ada notes ${tag}`, private: true },
  { topic: 'users/bob/notes/x', data: `bob notes ${tag}`, private: true },
  { topic: 'users/news', data: `news ${tag}` },
]

const wsData = (ws: WsClient) => ws.ofType('event').map((message) => message.data)

describe('a wildcard wider than the rights', () => {
  test('over SSE: every ordinary event, and only the private events it may see, on resume and live', async () => {
    const [first] = await publishAll(users('missed'))
    const sse = await SseClient.open(`${server.base}/events?topic=users/**&${as(ADA)}&lastEventId=${first?.id}`)
    expect(sse.status).toBe(200)
    const anonymous = await SseClient.open(`${server.base}/events?topic=users/**`)
    expect(anonymous.status).toBe(200)
    await publishAll(users('live'))
    await sse.waitForMessages(5)
    const last = await publishAll([{ topic: 'users/ada/inbox', data: 'last', private: true }])
    await sse.waitForMessages(6)
    expect(sse.messages.map((event) => event.data)).toEqual(['ada notes missed', 'news missed', 'ada live', 'ada notes live', 'news live', 'last'])
    expect(sse.messages.at(-1)?.id).toBe(last[0]?.id as string)
    await anonymous.waitForMessages(1)
    await publishAll([{ topic: 'users/news', data: 'after' }])
    await anonymous.waitForMessages(2)
    expect(anonymous.messages.map((event) => event.data)).toEqual(['news live', 'after'])
    sse.close()
    anonymous.close()
  })

  test('over WebSocket: every ordinary event, and only the private events it may see, on resume and live', async () => {
    const [first] = await publishAll(users('missed'))
    const ws = await WsClient.open(`${server.wsBase}/ws?${as(ADA)}`)
    expect(await ws.request({ type: 'subscribe', topics: ['users/**'], lastEventId: first?.id })).toMatchObject({ type: 'subscribed' })
    await publishAll(users('live'))
    await publishAll([{ topic: 'users/ada/inbox', data: 'last', private: true }])
    await ws.waitFor(() => wsData(ws).includes('last'), 'the last event')
    expect(wsData(ws)).toEqual(['ada notes missed', 'news missed', 'ada live', 'ada notes live', 'news live', 'last'])
    ws.close()
  })
})

describe('the native fan-out with principals that differ', () => {
  test('every socket is a native subscriber; a private event reaches only the members that may see it, once each', async () => {
    const ada = await WsClient.open(`${server.wsBase}/ws?${as(ADA)}&topic=room/1&topic=room/*`)
    const anonymous = await WsClient.open(`${server.wsBase}/ws?topic=room/1&topic=room/*`)
    await waitFor(() => ada.ofType('subscribed').length + anonymous.ofType('subscribed').length === 2, 'both subscribed')
    // Both share Bun's native fan-out: ordinary events cost one server.publish for all.
    expect(server.server.subscriberCount('room/1')).toBe(2)
    await publishAll([
      { topic: 'room/1', data: 'hello' },
      { topic: 'room/1', data: 'secret', private: true },
      { topic: 'room/1', data: 'bye' },
    ])
    await waitFor(() => wsData(ada).length === 3 && wsData(anonymous).length === 2, 'deliveries')
    expect(wsData(ada)).toEqual(['hello', 'secret', 'bye'])
    expect(wsData(anonymous)).toEqual(['hello', 'bye'])
    // Resumed, the anonymous reader is filtered the same way.
    const resumed = await WsClient.open(`${server.wsBase}/ws`)
    await resumed.request({ type: 'subscribe', topics: ['room/1'], lastEventId: '0-0' })
    await publishAll([{ topic: 'room/1', data: 'live' }])
    await waitFor(() => wsData(resumed).includes('live'), 'the live event')
    expect(wsData(resumed)).toEqual(['hello', 'bye', 'live'])
    expect(wsData(anonymous)).toEqual(['hello', 'bye', 'live'])
    expect(wsData(ada)).toEqual(['hello', 'secret', 'bye', 'live'])
    for (const ws of [ada, anonymous, resumed]) ws.close()
  })
})

describe('refusals', () => {
  test('an HTTP batch with one topic the token does not cover is refused whole with 403 forbidden_topic', async () => {
    const watcher = await SseClient.open(`${server.base}/events?topic=users/**`)
    const head = server.hub.head
    const response = await publishBatch([{ topic: 'users/ada/inbox', data: 'mine' }, { topic: 'users/bob/inbox', data: 'not mine' }], ADA)
    expect(response.status).toBe(403)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden_topic')
    expect(server.hub.head).toBe(head)
    const single = await fetch(`${server.base}/topics/users/bob/inbox`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADA}` }, body: '{"data":"x"}' })
    expect(single.status).toBe(403)
    const allowed = await publishBatch([{ topic: 'users/ada/inbox', data: 'mine' }], ADA)
    expect(allowed.status).toBe(200)
    await watcher.waitForMessages(1)
    expect(watcher.messages.map((event) => event.data)).toEqual(['mine'])
    watcher.close()
  })

  test('a WebSocket publish to a topic the token does not cover gets an error, and the socket stays usable', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws?${as(ADA)}`)
    expect(await ws.request({ type: 'publish', topic: 'users/bob/inbox', data: 'x' })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
    expect(await ws.request({ type: 'publish', topic: 'users/ada/inbox', data: 'x' })).toMatchObject({ type: 'published' })
    ws.close()
  })

  test('a subscribe the token does not cover is refused over SSE (403), WebSocket (error) and the upgrade (403), holding nothing', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=users/ada/inbox&topic=chat/x&${as(ADA)}`)
    expect(sse.status).toBe(403)
    expect(JSON.parse(sse.raw)).toMatchObject({ error: { code: 'forbidden_topic' } })
    const upgrade = await fetch(`${server.base}/ws?${as(ADA)}&topic=chat/x`, { headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } })
    expect(upgrade.status).toBe(403)
    const ws = await WsClient.open(`${server.wsBase}/ws?${as(ADA)}`)
    await waitFor(() => server.hub.stats().selectors === 0, 'earlier subscriptions to be released')
    expect(await ws.request({ type: 'subscribe', topics: ['users/ada/inbox', 'chat/*'] })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
    expect(server.hub.stats().selectors).toBe(0)
    expect(await ws.request({ type: 'subscribe', topics: ['users/ada/inbox'] })).toMatchObject({ type: 'subscribed' })
    ws.close()
  })
})

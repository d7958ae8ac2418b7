/**
 * Principals over the wire: the transports pass the request's principal (here chosen by `?as=`),
 * the hub decides. A restrictive principal gets only what it may see over SSE and WebSocket, live
 * and on resume; a WebSocket whose events need a check never shares Bun's native fan-out.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ALLOW_ALL, type Principal } from '../../src/hub/principal'
import { ADA, GUEST } from '../hub/principals'
import { SseClient, waitFor, WsClient } from '../helpers'
import { type CustomServer, startCustomServer } from './custom-app'

const PRINCIPALS: Record<string, Principal> = { ada: ADA, guest: GUEST }

let server: CustomServer
beforeAll(() => {
  server = startCustomServer({ principal: (request) => PRINCIPALS[new URL(request.url).searchParams.get('as') ?? ''] ?? ALLOW_ALL })
})
afterAll(() => server.stop())

async function publishBatch(items: { topic: string; data: string; event?: string }[], as?: string): Promise<Response> {
  return fetch(`${server.base}/publish${as ? `?as=${as}` : ''}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(items) })
}

async function publishAll(items: { topic: string; data: string; event?: string }[]): Promise<{ id: string; topic: string }[]> {
  const response = await publishBatch(items)
  expect(response.status).toBe(200)
  return ((await response.json()) as { events: { id: string; topic: string }[] }).events
}

const users = (tag: string) => [
  { topic: 'users/ada/inbox', data: `ada ${tag}` },
  { topic: 'users/bob/inbox', data: `bob ${tag}` },
  { topic: 'users/ada/notes/x', data: `ada notes ${tag}` },
  { topic: 'users/bob/notes/x', data: `bob notes ${tag}` },
]

const wsData = (ws: WsClient) => ws.ofType('event').map((message) => message.data)

describe('a wildcard wider than the rights', () => {
  test('over SSE: only what the principal may see, on resume and live', async () => {
    const [first] = await publishAll(users('missed'))
    const sse = await SseClient.open(`${server.base}/events?topic=users/**&as=ada&lastEventId=${first?.id}`)
    expect(sse.status).toBe(200)
    await publishAll(users('live'))
    await sse.waitForMessages(3)
    const everyone = await publishAll([{ topic: 'users/ada/inbox', data: 'last' }])
    await sse.waitForMessages(4)
    expect(sse.messages.map((event) => event.data)).toEqual(['ada notes missed', 'ada live', 'ada notes live', 'last'])
    expect(sse.messages.at(-1)?.id).toBe(everyone[0]?.id as string)
    sse.close()
  })

  test('over WebSocket: only what the principal may see, on resume and live', async () => {
    const [first] = await publishAll(users('missed'))
    const ws = await WsClient.open(`${server.wsBase}/ws?as=ada`)
    expect(await ws.request({ type: 'subscribe', topics: ['users/**'], lastEventId: first?.id })).toMatchObject({ type: 'subscribed' })
    await publishAll(users('live'))
    await publishAll([{ topic: 'users/ada/inbox', data: 'last' }])
    await ws.waitFor(() => wsData(ws).includes('last'), 'the last event')
    expect(wsData(ws)).toEqual(['ada notes missed', 'ada live', 'ada notes live', 'last'])
    ws.close()
  })
})

describe('a socket whose events need a check on a topic other sockets get natively', () => {
  test('gets per-connection delivery, filtered; the others still get everything natively, each event once', async () => {
    const open = await WsClient.open(`${server.wsBase}/ws?topic=room/1&topic=room/*`)
    const guest = await WsClient.open(`${server.wsBase}/ws?as=guest&topic=room/1&topic=room/*`)
    await waitFor(() => open.ofType('subscribed').length + guest.ofType('subscribed').length === 2, 'both subscribed')
    // Only the socket that sees everything is a native subscriber of the topic.
    expect(server.server.subscriberCount('room/1')).toBe(1)
    await publishAll([
      { topic: 'room/1', data: 'hello' },
      { topic: 'room/1', data: 'secret', event: 'private' },
      { topic: 'room/1', data: 'bye' },
    ])
    await waitFor(() => wsData(open).length === 3 && wsData(guest).length === 2, 'deliveries')
    expect(wsData(open)).toEqual(['hello', 'secret', 'bye'])
    expect(wsData(guest)).toEqual(['hello', 'bye'])
    // Resumed, the guest is filtered the same way.
    const resumed = await WsClient.open(`${server.wsBase}/ws?as=guest`)
    await resumed.request({ type: 'subscribe', topics: ['room/1'], lastEventId: '0-0' })
    await publishAll([{ topic: 'room/1', data: 'live' }])
    await waitFor(() => wsData(resumed).includes('live'), 'the live event')
    expect(wsData(resumed)).toEqual(['hello', 'bye', 'live'])
    expect(wsData(guest)).toEqual(['hello', 'bye', 'live'])
    for (const ws of [open, guest, resumed]) ws.close()
  })
})

describe('refusals', () => {
  test('an HTTP batch with one forbidden topic is refused whole with 403 forbidden', async () => {
    const watcher = await SseClient.open(`${server.base}/events?topic=users/**`)
    const head = server.hub.head
    const response = await publishBatch([{ topic: 'users/ada/inbox', data: 'mine' }, { topic: 'users/bob/inbox', data: 'not mine' }], 'ada')
    expect(response.status).toBe(403)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden_topic')
    expect(server.hub.head).toBe(head)
    const single = await fetch(`${server.base}/topics/users/bob/inbox?as=ada`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data":"x"}' })
    expect(single.status).toBe(403)
    const allowed = await publishBatch([{ topic: 'users/ada/inbox', data: 'mine' }], 'ada')
    expect(allowed.status).toBe(200)
    await watcher.waitForMessages(1)
    expect(watcher.messages.map((event) => event.data)).toEqual(['mine'])
    watcher.close()
  })

  test('a WebSocket publish to a forbidden topic gets an error, and the socket stays usable', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws?as=ada`)
    expect(await ws.request({ type: 'publish', topic: 'users/bob/inbox', data: 'x' })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
    expect(await ws.request({ type: 'publish', topic: 'users/ada/inbox', data: 'x' })).toMatchObject({ type: 'published' })
    ws.close()
  })

  test('a forbidden subscribe is refused over SSE (403), WebSocket (error) and the upgrade (403), holding nothing', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=users/ada/inbox&topic=users/bob/inbox&as=ada`)
    expect(sse.status).toBe(403)
    expect(JSON.parse(sse.raw)).toMatchObject({ error: { code: 'forbidden_topic' } })
    const upgrade = await fetch(`${server.base}/ws?as=ada&topic=users/bob/inbox`, { headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } })
    expect(upgrade.status).toBe(403)
    const ws = await WsClient.open(`${server.wsBase}/ws?as=ada`)
    await waitFor(() => server.hub.stats().selectors === 0, 'earlier subscriptions to be released')
    expect(await ws.request({ type: 'subscribe', topics: ['users/ada/inbox', 'users/*/inbox'] })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
    expect(server.hub.stats().selectors).toBe(0)
    expect(await ws.request({ type: 'subscribe', topics: ['users/ada/inbox'] })).toMatchObject({ type: 'subscribed' })
    ws.close()
  })
})

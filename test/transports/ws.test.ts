import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { publish, SseClient, startServer, type TestServer, waitFor, WsClient } from '../helpers'

let server: TestServer
beforeAll(async () => {
  server = await startServer({ historySize: 5, maxMessageBytes: 2048 })
})
afterAll(() => server.stop())

describe('WebSocket protocol', () => {
  test('subscribe, receive, unsubscribe', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'subscribe', topics: ['ws/a', 'ws/p/*'] })).toMatchObject({ type: 'subscribed', topics: ['ws/a', 'ws/p/*'] })
    const a = await publish(server.base, 'ws/a', { n: 1 }, { event: 'update' })
    const p = await publish(server.base, 'ws/p/x', 'pattern')
    await ws.waitFor(() => ws.ofType('event').length === 2, 'two events')
    expect(ws.ofType('event')).toEqual([
      { type: 'event', topic: 'ws/a', id: a.id, event: 'update', data: { n: 1 } },
      { type: 'event', topic: 'ws/p/x', id: p.id, data: 'pattern' },
    ])
    expect(await ws.request({ type: 'unsubscribe', topics: ['ws/a', 'ws/p/*'] })).toMatchObject({ type: 'unsubscribed' })
    await publish(server.base, 'ws/a', 'after')
    await publish(server.base, 'ws/p/x', 'after')
    expect(await ws.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    expect(ws.ofType('event').length).toBe(2)
    ws.close()
  })

  test('?topic= subscribes on open', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws?topic=ws/open&topic=ws/open2`)
    await ws.waitFor((m) => m.type === 'subscribed', 'subscribed')
    await publish(server.base, 'ws/open2', 'hi')
    expect((await ws.waitFor((m) => m.type === 'event', 'event')).data).toBe('hi')
    ws.close()
  })

  test('an event matching a topic and a pattern of one socket arrives once', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    await ws.request({ type: 'subscribe', topics: ['ws/dup/a', 'ws/dup/*', 'ws/**'] })
    await publish(server.base, 'ws/dup/a', 'once')
    await publish(server.base, 'ws/dup/b', 'twice?')
    await ws.waitFor(() => ws.ofType('event').length >= 2, 'events')
    expect(await ws.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    expect(ws.ofType('event').map((e) => e.data)).toEqual(['once', 'twice?'])
    ws.close()
  })

  test('a WebSocket publish reaches SSE and WebSocket subscribers, and is acknowledged with its id', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=ws/cross`)
    const listener = await WsClient.open(`${server.wsBase}/ws?topic=ws/cross`)
    await listener.waitFor((m) => m.type === 'subscribed', 'subscribed')
    const publisher = await WsClient.open(`${server.wsBase}/ws`)
    const ack = await publisher.request({ type: 'publish', topic: 'ws/cross', data: 'from ws', event: 'note' })
    expect(ack).toMatchObject({ type: 'published', topic: 'ws/cross', id: expect.stringMatching(/^\d+-\d+$/) })
    const [event] = await sse.waitForMessages(1)
    expect(event).toEqual({ id: ack.id as string, event: 'note', data: 'from ws' })
    expect(await listener.waitFor((m) => m.type === 'event', 'event')).toMatchObject({ id: ack.id, data: 'from ws', event: 'note' })
    sse.close()
    listener.close()
    publisher.close()
  })

  test('subscribe with lastEventId replays the missed events, then live ones', async () => {
    const seen = await publish(server.base, 'ws/resume', 'seen')
    await publish(server.base, 'ws/resume', 'missed 1')
    await publish(server.base, 'ws/resume', 'missed 2')
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    await ws.request({ type: 'subscribe', topics: ['ws/resume'], lastEventId: seen.id })
    await publish(server.base, 'ws/resume', 'live')
    await ws.waitFor(() => ws.ofType('event').length === 3, 'three events')
    expect(ws.ofType('event').map((e) => e.data)).toEqual(['missed 1', 'missed 2', 'live'])
    ws.close()
  })

  test('a too-old lastEventId gets reset', async () => {
    const old = await publish(server.base, 'ws/old', 'old')
    for (let i = 0; i < 6; i++) await publish(server.base, 'ws/old', i)
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    await ws.request({ type: 'subscribe', topics: ['ws/old'], lastEventId: old.id })
    expect(await ws.waitFor((m) => m.type === 'reset', 'reset')).toMatchObject({ lastEventId: old.id, head: server.hub.head })
    expect(ws.ofType('event')).toEqual([])
    ws.close()
  })
})

describe('bad WebSocket messages get an error and the connection stays usable', () => {
  const cases: [string, unknown, string][] = [
    ['malformed JSON', '{"type": "subscribe", ', 'malformed_json'],
    ['not an object', '[1,2]', 'invalid_message'],
    ['a number', '42', 'invalid_message'],
    ['unknown type', { type: 'dance' }, 'unknown_type'],
    ['no type', { topics: ['a'] }, 'unknown_type'],
    ['invalid selector', { type: 'subscribe', topics: ['a/**/b'] }, 'invalid_selector'],
    ['no topics', { type: 'subscribe' }, 'invalid_selector'],
    ['malformed lastEventId', { type: 'subscribe', topics: ['a'], lastEventId: 'yesterday' }, 'invalid_last_event_id'],
    ['publish to an invalid topic', { type: 'publish', topic: 'a b', data: 1 }, 'invalid_topic'],
    ['publish without data', { type: 'publish', topic: 'a' }, 'invalid_data'],
    ['publish with an injected event name', { type: 'publish', topic: 'a', data: 1, event: 'x\ndata: evil' }, 'invalid_event'],
    ['publish of oversized data', { type: 'publish', topic: 'a', data: 'x'.repeat(3000) }, 'payload_too_large'],
    ['type that is not a string', { type: ['ping'] }, 'unknown_type'],
    ['subscribe with a misspelt field', { type: 'subscribe', topics: ['a'], lastEventid: '1-0' }, 'unknown_field'],
    ['unsubscribe with an unknown field', { type: 'unsubscribe', topics: ['a'], all: true }, 'unknown_field'],
    ['publish with a misspelt field', { type: 'publish', topic: 'a', data: 1, evnt: 'x' }, 'unknown_field'],
    ['publish with "topics" for "topic"', { type: 'publish', topics: ['a'], data: 1 }, 'unknown_field'],
    ['publish with a __proto__ field', '{"type":"publish","topic":"a","data":1,"__proto__":{"event":"x"}}', 'unknown_field'],
    ['ping with an unknown field', { type: 'ping', pad: 'x' }, 'unknown_field'],
    ['subscribe with both topics and topic', { type: 'subscribe', topics: ['a'], topic: 'b' }, 'invalid_message'],
    ['publish of a reserved event name', { type: 'publish', topic: 'a', data: 1, event: 'Shutdown' }, 'invalid_event'],
  ]

  test.each(cases)('%s', async (_name, message, code) => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    const before = server.hub.stats().published
    ws.send(message)
    expect(await ws.waitFor((m) => m.type === 'error', 'error')).toMatchObject({ type: 'error', code, message: expect.any(String) })
    expect(await ws.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    expect(server.hub.stats().published).toBe(before)
    ws.close()
  })

  test('a frame far over the limit is closed with 1009 (message too big)', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    ws.send({ type: 'ping', pad: 'x'.repeat(2048 + 4096) })
    await waitFor(() => ws.closeCode, 'the close')
    expect(ws.closeCode).toBe(1009)
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200)
  })

  test('an unknown field is named, with the allowed ones, on the ref of its message', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'subscribe', topics: ['a'], lastEventid: '1-0' })).toMatchObject({
      type: 'error',
      code: 'unknown_field',
      message: 'unknown field "lastEventid" in a subscribe message (did you mean "lastEventId"?); allowed fields: type, topics, topic, lastEventId, ref',
    })
    expect(await ws.request({ type: 'publish', topic: 'a', data: 1, Event: 'x' })).toMatchObject({ code: 'unknown_field', message: expect.stringContaining('"Event" in a publish message (did you mean "event"?)') })
    // The refused subscribe subscribed nothing.
    await publish(server.base, 'a', 'not for this socket')
    expect(await ws.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    expect(ws.ofType('event')).toEqual([])
    ws.close()
  })

  test('a message without a type says what types there are', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    for (const message of [{ topics: ['a'] }, { type: null }, { type: 42 }]) {
      expect(await ws.request(message)).toMatchObject({ type: 'error', code: 'unknown_type', message: 'a message needs a "type": subscribe, unsubscribe, publish, auth or ping' })
    }
    expect(await ws.request({ type: 'dance' })).toMatchObject({ code: 'unknown_type', message: 'unknown message type "dance": use subscribe, unsubscribe, publish, auth or ping' })
    ws.close()
  })

  test('oversized data is refused with the limit and the option that sets it', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'publish', topic: 'a', data: 'x'.repeat(2049) })).toMatchObject({
      code: 'payload_too_large',
      message: '"data" is larger than the limit of 2048 bytes (set by --max-message-size / HERALD_MAX_MESSAGE_SIZE)',
    })
    ws.close()
  })

  test('"topic" (one selector) still works in subscribe and unsubscribe', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'subscribe', topic: 'ws/alias' })).toMatchObject({ type: 'subscribed', topics: ['ws/alias'] })
    await publish(server.base, 'ws/alias', 'one')
    await ws.waitFor(() => ws.ofType('event').length === 1, 'the event')
    expect(await ws.request({ type: 'unsubscribe', topic: 'ws/alias' })).toMatchObject({ type: 'unsubscribed', topics: ['ws/alias'] })
    ws.close()
  })

  test('errors carry the ref of the message that caused them', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'nope' })).toMatchObject({ type: 'error', code: 'unknown_type' })
    ws.close()
  })

  test('a plain GET /ws (no upgrade) gets a JSON 426', async () => {
    const response = await fetch(`${server.base}/ws`)
    expect(response.status).toBe(426)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upgrade_required')
  })

  test('binary frames get an error and the connection stays usable', async () => {
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    ws.socket.send(new Uint8Array([1, 2, 3]))
    expect(await ws.waitFor((m) => m.type === 'error', 'error')).toMatchObject({ code: 'invalid_message' })
    expect(await ws.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    ws.close()
  })

  test('a bad ?topic= on the upgrade is refused with a JSON 400', async () => {
    const response = await fetch(`${server.base}/ws?topic=a%20b`, { headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_selector')
  })
})

test('closing sockets removes their subscriptions', async () => {
  await waitFor(() => server.hub.stats().subscribers === 0, 'earlier subscribers to go')
  const sockets = await Promise.all(Array.from({ length: 20 }, () => WsClient.open(`${server.wsBase}/ws`)))
  await Promise.all(sockets.map((ws) => ws.request({ type: 'subscribe', topics: ['ws/leak/*', 'ws/leak/a'] })))
  expect(server.hub.stats().subscribers).toBe(20)
  for (const ws of sockets) ws.close()
  await waitFor(() => server.hub.stats().subscribers === 0, 'pattern subscribers to go')
  await waitFor(async () => ((await (await fetch(`${server.base}/stats`)).json()) as { websockets: number }).websockets === 0, 'connections to go')
})

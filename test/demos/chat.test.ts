import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { Delivery } from '../../src/hub/delivery'
import type { HubEvent } from '../../src/hub/event'
import { RoomHistory } from '../../src/demos/chat/history'
import { NameClaims } from '../../src/demos/chat/names'
import { CHAT_TEXT_MAX, chatText } from '../../src/demos/chat/topics'
import { publish, startServer, type TestServer, waitFor, WsClient } from '../helpers'

let sequence = 0
/** A delivered event as the hub hands it to fan-outs. */
function delivery(topic: string, data: unknown, event?: string, json = typeof data !== 'string'): Delivery {
  const ms = 1_764_135_000_000 + ++sequence
  const hubEvent: HubEvent = { id: `${ms}-0`, position: { ms, seq: 0 }, topic, event, data: typeof data === 'string' ? data : JSON.stringify(data), json, time: ms }
  return new Delivery(hubEvent, sequence)
}

describe('chatText: what a page shows as a message', () => {
  test('accepts {from, text} with a valid name and 1 to CHAT_TEXT_MAX characters', () => {
    expect(chatText(JSON.stringify({ from: 'ada', text: 'hi' }))).toEqual({ from: 'ada', text: 'hi' })
    expect(chatText(JSON.stringify({ from: 'ada', text: 'x'.repeat(CHAT_TEXT_MAX) }))?.text.length).toBe(CHAT_TEXT_MAX)
  })

  test.each([
    ['over the limit', { from: 'ada', text: 'x'.repeat(CHAT_TEXT_MAX + 1) }],
    ['blank text', { from: 'ada', text: ' \n ' }],
    ['text not a string', { from: 'ada', text: 42 }],
    ['no from', { text: 'hi' }],
    ['from not a name', { from: '<b>x</b>', text: 'hi' }],
    ['from not a string', { from: ['ada'], text: 'hi' }],
    ['null', null],
    ['a number', 7],
    ['an array', ['ada', 'hi']],
  ])('refuses %s', (_, value) => {
    expect(chatText(JSON.stringify(value))).toBeUndefined()
  })

  test('refuses text that is not JSON', () => {
    expect(chatText('hello')).toBeUndefined()
    expect(chatText('{"from":')).toBeUndefined()
  })
})

describe('RoomHistory', () => {
  test('keeps the newest perRoom messages of each room, exactly at the limit', () => {
    const history = new RoomHistory({ perRoom: 3, rooms: 10 })
    for (let n = 1; n <= 3; n++) history.receive(delivery('chat/room/lobby', { from: 'ada', text: `m${n}` }))
    expect(history.messages('lobby').map((message) => message.text)).toEqual(['m1', 'm2', 'm3'])
    history.receive(delivery('chat/room/lobby', { from: 'ada', text: 'm4' }))
    expect(history.messages('lobby').map((message) => message.text)).toEqual(['m2', 'm3', 'm4'])
    const [first] = history.messages('lobby')
    expect(first?.id).toMatch(/^\d+-\d+$/)
    expect(first?.at).toBe(new Date(Number(first?.id.split('-')[0])).toISOString())
  })

  test('keeps at most `rooms` rooms, forgetting the least recently active', () => {
    const history = new RoomHistory({ perRoom: 5, rooms: 2 })
    history.receive(delivery('chat/room/a', { from: 'ada', text: 'a' }))
    history.receive(delivery('chat/room/b', { from: 'ada', text: 'b' }))
    expect(history.size).toBe(2)
    history.receive(delivery('chat/room/a', { from: 'ada', text: 'a again' }))
    history.receive(delivery('chat/room/c', { from: 'ada', text: 'c' }))
    expect(history.size).toBe(2)
    expect(history.messages('b')).toEqual([])
    expect(history.messages('a').map((message) => message.text)).toEqual(['a', 'a again'])
  })

  test('keeps only room messages: never direct messages, joins, rosters, or data a page would not show', () => {
    const history = new RoomHistory({ perRoom: 50, rooms: 10 })
    history.receive(delivery('chat/user/bob', { from: 'ada', to: 'bob', text: 'secret' }, 'direct'))
    history.receive(delivery('chat/user/bob', { from: 'ada', text: 'secret, as a message' }))
    history.receive(delivery('chat/room/lobby', { user: 'ada' }, 'join'))
    history.receive(delivery('chat/room/lobby', { room: 'lobby', users: ['ada'] }, 'presence'))
    history.receive(delivery('chat/room/lobby', { from: 'ada', text: 'wrong event' }, 'chat'))
    history.receive(delivery('chat/room/lobby', JSON.stringify({ from: 'ada', text: 'a string, not JSON data' })))
    history.receive(delivery('chat/room/lobby', { from: 'ada', text: 'x'.repeat(CHAT_TEXT_MAX + 1) }))
    history.receive(delivery('chat/room/lobby', { users: null }))
    history.receive(delivery('chat/room/bad room!', { from: 'ada', text: 'bad room' }))
    history.receive(delivery('chat/room/lobby/deeper', { from: 'ada', text: 'deeper' }))
    history.receive(delivery('chat/room/lobby', { from: 'ada', text: 'kept' }, 'message'))
    expect(history.messages('lobby').map((message) => message.text)).toEqual(['kept'])
    expect(history.size).toBe(1)
  })
})

describe('NameClaims', () => {
  let claims: NameClaims | undefined
  afterEach(() => claims?.clear())

  test('first come, first served; the holder may claim again; a name whose holder left is free', () => {
    const connected = new Set<string>()
    claims = new NameClaims({ connected: (key) => connected.has(key), sweepMs: 60_000 })
    expect(claims.claim('ada', 'key-one')).toBe('not_subscribed')
    // Two pages connect as ada at the same time; the first claim wins.
    connected.add('key-one').add('key-two')
    expect(claims.claim('ada', 'key-one')).toBeUndefined()
    expect(claims.claim('ada', 'key-two')).toBe('taken')
    // The holder reconnects or reloads (same key): still its name.
    expect(claims.claim('ada', 'key-one')).toBeUndefined()
    // A claim from a key that is not connected never replaces a connected holder.
    expect(claims.claim('ada', 'key-three')).toBe('not_subscribed')
    expect(claims.holder('ada')).toBe('key-one')
    // The holder leaves; the other page may now take the name.
    connected.delete('key-one')
    expect(claims.claim('ada', 'key-two')).toBeUndefined()
    expect(claims.holder('ada')).toBe('key-two')
    // Names are independent.
    expect(claims.claim('bob', 'key-two')).toBeUndefined()
  })

  test('the sweep forgets names whose holder left, and stops when none is held', () => {
    const connected = new Set(['key-one'])
    claims = new NameClaims({ connected: (key) => connected.has(key), sweepMs: 60_000 })
    expect(claims.claim('ada', 'key-one')).toBeUndefined()
    expect(claims.sweeping).toBe(true)
    claims.sweep()
    expect(claims.holder('ada')).toBe('key-one')
    connected.delete('key-one')
    claims.sweep()
    expect(claims.holder('ada')).toBeUndefined()
    expect(claims.sweeping).toBe(false)
  })
})

describe('the chat over HTTP and WebSocket, in the app', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.stop())

  const KEY_A = 'aaaaaaaaaaaaaaaaaaaa'
  const KEY_B = 'bbbbbbbbbbbbbbbbbbbb'
  const claim = (name: string, key: string) => fetch(`${server.base}/chat/names/${name}?key=${key}`, { method: 'POST' })

  /** A page as public/chat.js joins: one socket subscribed to its user topic and its claim topic. */
  async function subscribedAs(name: string, key: string): Promise<WsClient> {
    const client = await WsClient.open(`${server.wsBase}/ws`)
    await client.request({ type: 'subscribe', topics: [`chat/user/${name}`, `chat/claim/${key}`] })
    return client
  }

  test('a second person cannot take a name that is online; it is free again once its holder leaves', async () => {
    const first = await subscribedAs('zed', KEY_A)
    expect(await (await claim('zed', KEY_A)).json()).toEqual({ name: 'zed' })
    const second = await subscribedAs('zed', KEY_B)
    const refused = await claim('zed', KEY_B)
    expect(refused.status).toBe(409)
    expect(await refused.json()).toEqual({ error: { code: 'name_taken', message: 'zed is already in the chat; pick another name' } })
    // The holder itself may claim again (a reconnect).
    expect((await claim('zed', KEY_A)).status).toBe(200)
    // Someone who only asks, without a connection of their own, never displaces the holder.
    expect((await claim('zed', 'cccccccccccccccccccc')).status).toBe(409)
    expect((await claim('zed', KEY_B)).status).toBe(409)
    first.close()
    await waitFor(async () => (await claim('zed', KEY_B)).status === 200, 'the name to be free for the second person')
    second.close()
  })

  test('a claim without a subscription, a bad name or a bad key is refused', async () => {
    const unsubscribed = await claim('nobody-here', KEY_A)
    expect(unsubscribed.status).toBe(409)
    expect(((await unsubscribed.json()) as { error: { code: string } }).error.code).toBe('not_subscribed')
    for (const [name, key, code] of [
      ['bad%20name', KEY_A, 'invalid_name'],
      ['x'.repeat(25), KEY_A, 'invalid_name'],
      ['ada', 'short', 'invalid_key'],
      ['ada', 'k'.repeat(65), 'invalid_key'],
      ['ada', '', 'invalid_key'],
    ] as const) {
      const response = await claim(name, key)
      expect({ name, key, status: response.status }).toEqual({ name, key, status: 400 })
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code)
    }
    const noKey = await fetch(`${server.base}/chat/names/ada`, { method: 'POST' })
    expect(noKey.status).toBe(400)
  })

  test("a room's recent messages are listed oldest first, without direct messages or other rooms", async () => {
    await publish(server.base, 'chat/room/history-a', { from: 'ada', text: 'first' })
    await publish(server.base, 'chat/user/bob', { from: 'ada', to: 'bob', text: 'private' }, { event: 'direct' })
    await publish(server.base, 'chat/room/history-b', { from: 'ada', text: 'other room' })
    await publish(server.base, 'chat/room/history-a', { users: null }, { event: 'presence' })
    const second = await publish(server.base, 'chat/room/history-a', { from: 'bob', text: 'second' })
    const response = await fetch(`${server.base}/chat/rooms/history-a/messages`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { room: string; messages: { id: string; from: string; text: string; at: string }[] }
    expect(body.room).toBe('history-a')
    expect(body.messages.map(({ from, text }) => `${from}: ${text}`)).toEqual(['ada: first', 'bob: second'])
    expect(body.messages[1]?.id).toBe(second.id)
    expect(new Date(body.messages[1]?.at ?? '').toISOString()).toBe(body.messages[1]?.at as string)
    expect(JSON.stringify(body)).not.toContain('private')
    expect((await fetch(`${server.base}/chat/rooms/bad%20room/messages`)).status).toBe(400)
    expect(await (await fetch(`${server.base}/chat/rooms/empty-room/messages`)).json()).toEqual({ room: 'empty-room', messages: [] })
  })

  test('a room keeps its last 50 messages: the 51st drops the oldest', async () => {
    for (let n = 1; n <= 50; n++) await publish(server.base, 'chat/room/fifty', { from: 'ada', text: `m${n}` })
    const texts = async () => ((await (await fetch(`${server.base}/chat/rooms/fifty/messages`)).json()) as { messages: { text: string }[] }).messages.map((message) => message.text)
    expect((await texts()).length).toBe(50)
    expect((await texts())[0]).toBe('m1')
    await publish(server.base, 'chat/room/fifty', { from: 'ada', text: 'm51' })
    expect((await texts()).length).toBe(50)
    expect((await texts())[0]).toBe('m2')
    expect((await texts()).at(-1)).toBe('m51')
  })
})
